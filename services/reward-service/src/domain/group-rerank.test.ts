import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeGroupRerank, type RerankOutcome } from './group-rerank.js';

const values = (outcomes: RerankOutcome[]) => outcomes.map((o) => (o.kind === 'value' ? o.value : o.kind));

describe('computeGroupRerank', () => {
  it('distinct scores → rank / (G − 1), in input order', () => {
    assert.deepEqual(values(computeGroupRerank([0.9, 0.1, 0.5, 0.3])), [1, 0, 2 / 3, 1 / 3]);
  });

  it('ties share half a rank per other equal member', () => {
    // 0.2 < 0.5 = 0.5 < 0.8: the tied pair gets (1 + 0.5) / 3 each.
    assert.deepEqual(values(computeGroupRerank([0.5, 0.2, 0.5, 0.8])), [0.5, 0, 0.5, 1]);
    assert.deepEqual(values(computeGroupRerank([0.7, 0.7, 0.7])), [0.5, 0.5, 0.5]);
  });

  it('a group of one has no rerank', () => {
    const [only] = computeGroupRerank([0.4]);
    assert.equal(only?.kind, 'unavailable');
    assert.match(only?.kind === 'unavailable' ? only.reason : '', /needs at least 2/);
  });

  it('members whose judge failed are excluded from the ranking and get no value', () => {
    const out = computeGroupRerank([0.9, undefined, 0.1, Number.NaN]);
    assert.deepEqual(values(out), [1, 'unavailable', 0, 'unavailable']);
    assert.match(out[1]?.kind === 'unavailable' ? out[1].reason : '', /no judge score/);
  });

  it('only one member with a score left → unavailable for it too', () => {
    assert.deepEqual(values(computeGroupRerank([undefined, 0.3, undefined])), [
      'unavailable',
      'unavailable',
      'unavailable',
    ]);
  });

  it('values stay in [0, 1] and sum to G/2 (ranks are a permutation with ties averaged)', () => {
    const scores = [0.1, 0.4, 0.4, 0.9, 0.2, 0.4, 0.9, 0.05];
    const v = values(computeGroupRerank(scores)) as number[];
    for (const x of v) assert.ok(x >= 0 && x <= 1);
    assert.ok(Math.abs(v.reduce((a, b) => a + b, 0) - scores.length / 2) < 1e-12);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTextStream } from './text-stream.js';

// A fake decoder: ids index into pieces; 'X1' + 'X2' together form 'é', alone a replacement char.
const pieces = ['Hel', 'lo', ' wor', 'ld', 'X1', 'X2', '!'];
function decode(ids: readonly number[]): string {
  return ids
    .map((i) => pieces[i]!)
    .join('')
    .replace('X1X2', 'é')
    .replace('X1', '\uFFFD');
}

describe('createTextStream', () => {
  it('holds back incomplete characters and adds up to the final text', () => {
    const s = createTextStream(decode, 0);
    const ids: number[] = [];
    const deltas = [0, 1, 4, 5, 6].map((id) => {
      ids.push(id);
      return s.update(ids);
    });
    assert.deepEqual(deltas, ['Hel', 'lo', '', 'é', '!']);
    assert.equal(s.finish('Helloé!'), '');
  });

  it('holds back the length of a possible stop string and never sends it', () => {
    const s = createTextStream(decode, 'ld'.length - 1);
    assert.equal(s.update([0]), 'He');
    assert.equal(s.update([0, 1]), 'll');
    assert.equal(s.update([0, 1, 2]), 'o wo');
    // The stop string "ld" arrives: the generator cuts the text before it.
    assert.equal(s.finish('Hello wor'), 'r');
    assert.equal(s.emitted, 'Hello wor');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNormal } from '../test-support/prng.js';
import { computeGae } from './gae.js';

function close(a: number, b: number, tol = 1e-12): void {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
}

/** A_t = Σ_l (γλ)^l δ_{t+l}, straight from the definition (O(T²)). */
function bruteForceGae(r: number[], v: number[], gamma: number, lambda: number, vEnd: number): number[] {
  const next = (t: number) => (t + 1 < v.length ? (v[t + 1] as number) : vEnd);
  const delta = r.map((rt, t) => rt + gamma * next(t) - (v[t] as number));
  return delta.map((_, t) => {
    let s = 0;
    for (let l = 0; t + l < delta.length; l++) s += (gamma * lambda) ** l * (delta[t + l] as number);
    return s;
  });
}

describe('computeGae', () => {
  it('matches a hand-computed terminal sequence', () => {
    // γ = 0.9, λ = 0.5, r = [0, 0, 1], V = [0.5, 0.6, 0.7], terminal.
    // δ2 = 1 − 0.7 = 0.3; δ1 = 0.9·0.7 − 0.6 = 0.03; δ0 = 0.9·0.6 − 0.5 = 0.04
    // A2 = 0.3; A1 = 0.03 + 0.45·0.3 = 0.165; A0 = 0.04 + 0.45·0.165 = 0.11425
    const { advantages, returns } = computeGae(
      { rewards: [0, 0, 1], values: [0.5, 0.6, 0.7], terminal: true },
      { gamma: 0.9, lambda: 0.5 },
    );
    close(advantages[2] as number, 0.3);
    close(advantages[1] as number, 0.165);
    close(advantages[0] as number, 0.11425);
    close(returns[0] as number, 0.61425);
    close(returns[2] as number, 1);
  });

  it('bootstraps a truncated sequence from V_T', () => {
    const { advantages } = computeGae(
      { rewards: [0, 1], values: [0, 0], terminal: false, bootstrapValue: 2 },
      { gamma: 0.5, lambda: 1 },
    );
    // δ1 = 1 + 0.5·2 = 2; δ0 = 0; A0 = 0 + 0.5·2 = 1
    assert.deepEqual([...advantages], [1, 2]);
    assert.throws(
      () => computeGae({ rewards: [0], values: [0], terminal: false }, { gamma: 1, lambda: 1 }),
      /bootstrap/,
    );
  });

  it('terminal ignores the bootstrap value', () => {
    const a = computeGae(
      { rewards: [1], values: [0.2], terminal: true, bootstrapValue: 100 },
      { gamma: 1, lambda: 1 },
    );
    close(a.advantages[0] as number, 0.8);
  });

  it('λ = 1, γ = 1 gives reward-to-go minus V; λ = 0 gives the TD error', () => {
    const r = [0.1, -0.2, 0.3, 1];
    const v = [0.4, 0.1, 0.5, 0.2];
    const mc = computeGae({ rewards: r, values: v, terminal: true }, { gamma: 1, lambda: 1 });
    const toGo = [1.2, 1.1, 1.3, 1];
    for (let t = 0; t < r.length; t++) {
      close(mc.advantages[t] as number, (toGo[t] as number) - (v[t] as number));
      close(mc.returns[t] as number, toGo[t] as number);
    }
    const td = computeGae({ rewards: r, values: v, terminal: true }, { gamma: 0.9, lambda: 0 });
    for (let t = 0; t < r.length; t++) {
      const next = t + 1 < v.length ? (v[t + 1] as number) : 0;
      close(td.advantages[t] as number, (r[t] as number) + 0.9 * next - (v[t] as number));
    }
  });

  it('property: equals the definition for random sequences', () => {
    const normal = createNormal(11);
    for (let trial = 0; trial < 100; trial++) {
      const length = 1 + Math.floor(Math.abs(normal()) * 20);
      const r = Array.from({ length }, normal);
      const v = Array.from({ length }, normal);
      const gamma = Math.min(1, Math.abs(normal()) / 3);
      const lambda = Math.min(1, Math.abs(normal()) / 3);
      const terminal = trial % 2 === 0;
      const vEnd = terminal ? 0 : normal();
      const got = computeGae({ rewards: r, values: v, terminal, bootstrapValue: vEnd }, { gamma, lambda });
      const want = bruteForceGae(r, v, gamma, lambda, vEnd);
      want.forEach((w, t) => {
        close(got.advantages[t] as number, w, 1e-9);
        close(got.returns[t] as number, w + (v[t] as number), 1e-9);
      });
    }
  });

  it('validates inputs', () => {
    assert.throws(
      () => computeGae({ rewards: [0, 1], values: [0], terminal: true }, { gamma: 1, lambda: 1 }),
      /length/,
    );
    assert.throws(
      () => computeGae({ rewards: [0], values: [0], terminal: true }, { gamma: 1.5, lambda: 1 }),
      /gamma/,
    );
    assert.throws(
      () => computeGae({ rewards: [Number.NaN], values: [0], terminal: true }, { gamma: 1, lambda: 1 }),
      /non-finite/,
    );
  });
});

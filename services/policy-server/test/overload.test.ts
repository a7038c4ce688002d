// Admission control through the real gRPC server (port 0, stories260k): sequences in flight (queued
// or decoding) are bounded by POLICY_MAX_PENDING_SEQUENCES; a call that would pass the bound is
// refused at once with RESOURCE_EXHAUSTED naming the limit, and the calls already admitted complete.
// The model's decode steps are held at a gate, so the queue is full for as long as the test needs
// (no timing). The speed side (4× capacity, p99 of accepted calls) is test/bench/load-curve.bench.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FamilyModel, loadModel } from '@verdict/models';
import { isVerdictError } from '@verdict/runtime';
import type { PolicyApp } from '../src/app.js';
import { stories260kDir } from './fixture.js';
import { collect, generateRequest, policyClient, startPolicy } from './helpers.js';

const MAX_PENDING = 8;

/** The model with every `step` waiting for `gate` while one is set (other members forwarded). */
function gated(model: FamilyModel): { model: FamilyModel; hold(): () => void } {
  let gate: Promise<void> | undefined;
  const proxy = new Proxy(model, {
    get(target, prop) {
      if (prop === 'step') {
        return async (...args: Parameters<FamilyModel['step']>) => {
          await gate;
          return target.step(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    model: proxy,
    hold() {
      let open!: () => void;
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

describe(`policy-server at its in-flight bound (POLICY_MAX_PENDING_SEQUENCES=${MAX_PENDING})`, () => {
  let app: PolicyApp;
  let client: ReturnType<typeof policyClient>;
  let gate: ReturnType<typeof gated>;

  before(async () => {
    gate = gated(loadModel(stories260kDir()));
    let address: string;
    ({ app, address } = await startPolicy(
      { POLICY_MAX_PENDING_SEQUENCES: String(MAX_PENDING), POLICY_MAX_BATCH_SIZE: '4' },
      { model: gate.model },
    ));
    client = policyClient(address);
  });
  after(async () => {
    client.close();
    await app.stop();
  });

  it('refuses calls beyond the bound with RESOURCE_EXHAUSTED; the admitted ones complete', async () => {
    const release = gate.hold();
    const admittedBefore = app.generatorStats.sequences;
    // Two calls of 4 sequences fill the bound while their first decode step waits at the gate.
    const admitted = [0, 1].map((i) =>
      collect(
        client.serverStream(
          'generate',
          generateRequest([`Once upon a time ${i}`], { maxNewTokens: 6 }, { samplesPerPrompt: 4 }),
        ),
      ),
    );
    while (app.generatorStats.sequences - admittedBefore < MAX_PENDING) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // One more sequence, or a call of several, is over the bound: refused before any work (the
    // deadline only makes a regression, which would queue the call behind the gate, fail fast).
    for (const samplesPerPrompt of [1, 3]) {
      const req = generateRequest(['Tom saw'], {}, { samplesPerPrompt });
      await assert.rejects(
        collect(client.serverStream('generate', req, { deadlineMs: 10_000 })),
        (e: unknown) => {
          assert.ok(isVerdictError(e), String(e));
          assert.equal(e.code, 'RESOURCE_EXHAUSTED', e.message);
          assert.match(e.message, new RegExp(`${MAX_PENDING} sequences pending, limit ${MAX_PENDING}`));
          return true;
        },
      );
    }
    assert.equal(app.generatorStats.sequences - admittedBefore, MAX_PENDING, 'nothing refused was queued');
    release();
    for (const out of await Promise.all(admitted)) {
      assert.equal(out.size, 4);
      for (const s of out.values()) assert.ok(s.ids.length > 0 && s.ids.length <= 6);
    }
    // The bound is on work in flight, not a count of calls: with the queue drained a call is taken.
    const drained = await collect(
      client.serverStream(
        'generate',
        generateRequest(['Tom saw'], { maxNewTokens: 4 }, { samplesPerPrompt: MAX_PENDING }),
      ),
    );
    assert.equal(drained.size, MAX_PENDING);
  });
});

// The load generator's own bookkeeping, against an in-process target with a fixed number of slots
// (the unit under test is the generator, not a server): every call sent is counted once, as accepted
// or under its status code; percentiles; the page holds every step. No timing is asserted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatLoadCurve,
  type LoadTarget,
  percentile,
  processCpuSeconds,
  processRssMiB,
  runLoadCurve,
  runOpenLoopStep,
  statusCodeOf,
} from './load-generator.js';
import { renderLoadCurvePage } from './load-page.js';

/** Admits `slots` calls at a time, each answered after `serviceMs`; the rest are refused at once. */
function slotTarget(slots: number, serviceMs: number): LoadTarget & { readonly maxInFlight: number } {
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    name: 'slots',
    unit: 'items',
    unitsPerCall: 2,
    pid: process.pid,
    get maxInFlight() {
      return maxInFlight;
    },
    async call() {
      if (inFlight >= slots) throw Object.assign(new Error('full'), { code: 'RESOURCE_EXHAUSTED' });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, serviceMs));
      inFlight--;
    },
  };
}

describe('load generator', () => {
  it('percentile is nearest-rank; a failure counts under its string code, else UNKNOWN', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.equal(statusCodeOf({ code: 'DEADLINE_EXCEEDED' }), 'DEADLINE_EXCEEDED');
    assert.equal(statusCodeOf({ code: 14 }), 'UNKNOWN');
    assert.equal(statusCodeOf(undefined), 'UNKNOWN');
  });

  it('an open-loop step over the target’s slots counts every call once, accepted or refused', async () => {
    const target = slotTarget(2, 40);
    // 400 calls/s against 2 slots of 40 ms (≤ 50 calls/s): most must be refused.
    const step = await runOpenLoopStep(target, { unitsPerS: 800, durationMs: 300, multiplier: 8 });
    const refused = Object.values(step.rejected).reduce((a, b) => a + b, 0);
    assert.ok(step.sent > 0);
    assert.equal(step.accepted + refused, step.sent);
    assert.deepEqual(Object.keys(step.rejected), ['RESOURCE_EXHAUSTED']);
    assert.ok(step.accepted > 0 && refused > step.accepted);
    assert.equal(target.maxInFlight, 2);
    assert.ok(step.p50Ms <= step.p99Ms && step.p99Ms <= step.maxMs);
    assert.ok(step.acceptedUnitsPerS > 0);
    if (process.platform === 'linux') {
      assert.ok(step.rssPeakMiB >= step.rssStartMiB && step.rssStartMiB > 0);
      assert.ok(processRssMiB(process.pid) > 0 && processCpuSeconds(process.pid) > 0);
    }
    assert.ok(Number.isNaN(processRssMiB(undefined)));
  });

  it('a curve measures capacity, runs one step per multiplier and renders a page with each', async () => {
    const curve = await runLoadCurve(slotTarget(2, 20), {
      multipliers: [0.5, 2],
      stepMs: 150,
      capacityMs: 150,
      warmupMs: 50,
      capacityConcurrency: 2,
      pauseMs: 0,
    });
    assert.ok(curve.capacityUnitsPerS > 0);
    assert.deepEqual(
      curve.steps.map((s) => s.multiplier),
      [0.5, 2],
    );
    assert.equal(curve.reachedUnitsPerS, Math.max(...curve.steps.map((s) => s.acceptedUnitsPerS)));
    const table = formatLoadCurve(curve);
    assert.match(table, /0\.5×/);
    assert.match(table, /2×/);
    const page = renderLoadCurvePage([{ curve, notes: 'in-process slots' }], 'test run');
    assert.match(page, /^<!doctype html>/);
    assert.equal((page.match(/<svg /g) ?? []).length, 4);
    assert.match(page, /in-process slots/);
    assert.doesNotMatch(page, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained');
  });
});

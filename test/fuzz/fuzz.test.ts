// The fast pass of the protocol fuzzer (`npm run fuzz` is the long one): a few hundred cases per
// RPC of the five services against the toy stack; every reply must be a well-formed status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatReport, runFuzz } from './fuzz-run.js';
import { type FuzzStack, startFuzzStack } from './fuzz-stack.js';
import { loadSchema } from './schema.js';

const CASES = Number(process.env['FUZZ_FAST_CASES'] ?? 200);

let stack: FuzzStack;
before(async () => {
  stack = await startFuzzStack();
});
after(async () => {
  await stack?.stop();
});

test(`protocol fuzz, fast pass: ${CASES} cases per RPC of the five services`, async (t) => {
  const schema = loadSchema();
  assert.ok(
    schema.methods.length >= 20,
    `expected every RPC of the five services, got ${schema.methods.length}`,
  );
  // No timing bounds in `npm test` (a loaded CI machine is slow, not wrong): event-loop stalls are
  // reported, not failed, and a reply may come up to 30 s past its deadline. `npm run fuzz` keeps
  // the tight bounds (1.5 s stall, 2 s grace).
  const report = await runFuzz(schema, stack.addresses, {
    seed: 20261207,
    casesPerMethod: CASES,
    blockMs: Number.POSITIVE_INFINITY,
    graceMs: 30_000,
  });
  for (const line of formatReport(report)) t.diagnostic(line);
  assert.equal(report.cases, CASES * schema.methods.length);
  assert.deepEqual(
    report.failures.map((f) => `${f.method} #${f.index}: ${f.reason} (${f.replay})`),
    [],
  );
});

// Dynamic batching vs one-at-a-time over real gRPC with the stories260k fixture: N concurrent
// Generate calls (greedy, fixed length) against servers with max batch size 1 and N.
// Prints tokens/s of each and the ratio measured in this one run.
import { collect, generateRequest, policyClient, startPolicy } from '../test/helpers.js';

const concurrent = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const maxNewTokens = Number(process.env['BENCH_TOKENS'] ?? 64);
const prompts = ['Once upon a time', 'Lily and Ben', 'The little dog', 'One day, a girl'];

async function run(maxBatchSize: number): Promise<{ tokPerS: number; meanBatch: number }> {
  const { app, address } = await startPolicy({
    POLICY_MAX_BATCH_SIZE: String(maxBatchSize),
    POLICY_MAX_BATCH_WAIT: '2ms',
  });
  const client = policyClient(address);
  const call = (i: number) =>
    collect(
      client.serverStream(
        'generate',
        generateRequest([prompts[i % prompts.length]!], { maxNewTokens, stopTokenIds: [] }),
      ),
    );
  await call(0); // warm
  const before = { ...app.generatorStats };
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: concurrent }, (_, i) => call(i)));
  const seconds = (performance.now() - t0) / 1000;
  const tokens = results.reduce((n, r) => n + [...r.values()].reduce((m, s) => m + s.ids.length, 0), 0);
  const batches = app.generatorStats.batches - before.batches;
  const rows = app.generatorStats.batchedRows - before.batchedRows;
  client.close();
  await app.stop();
  return { tokPerS: tokens / seconds, meanBatch: rows / batches };
}

const single = await run(1);
const batched = await run(concurrent);
console.log(
  JSON.stringify({
    concurrent,
    maxNewTokens,
    unbatchedTokPerS: Math.round(single.tokPerS),
    batchedTokPerS: Math.round(batched.tokPerS),
    meanBatchRows: Number(batched.meanBatch.toFixed(1)),
    speedup: Number((batched.tokPerS / single.tokPerS).toFixed(2)),
  }),
);

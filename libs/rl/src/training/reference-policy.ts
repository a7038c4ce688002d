import { createSessionPool, type PooledSession, type SessionPool } from '@verdict/graph';
import type { CausalLmConfig } from '@verdict/models';
import type { ParamMap } from '../optim/param-map.js';
import { batchFeeds, type TrainBatch } from './train-batch.js';
import { buildLogprobGraph } from './training-graph.js';

/** The frozen reference π_ref of the KL term: per-token log-probs under weights fixed at creation. */
export interface ReferencePolicy {
  logprobs(batch: TrainBatch): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface ReferencePolicyOptions {
  readonly pool?: SessionPool;
  readonly intraOpThreads?: number;
}

/**
 * Snapshots `weights` (copied, so later training of the same map does not move it) into a
 * forward-only graph with the weights as initializers.
 */
export function createReferencePolicy(
  config: CausalLmConfig,
  weights: ParamMap,
  options: ReferencePolicyOptions = {},
): ReferencePolicy {
  const frozen = new Map([...weights].map(([n, p]) => [n, p.slice()]));
  const model = buildLogprobGraph(config, frozen);
  const ownPool = options.pool === undefined;
  const pool =
    options.pool ?? createSessionPool({ workers: 1, intraOpThreadsPerWorker: options.intraOpThreads ?? 1 });
  let session: Promise<PooledSession> | undefined;
  return {
    async logprobs(batch) {
      session ??= pool.load(
        model,
        options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads },
      );
      const s = await session;
      const all = batchFeeds(batch);
      const feeds = Object.fromEntries(s.inputNames.map((n) => [n, all[n]!]));
      return (await s.run(feeds))['logprobs']!.data as Float32Array;
    },
    async close() {
      const s = session;
      session = undefined;
      if (ownPool) await pool.close();
      else if (s) await (await s).release();
    },
  };
}

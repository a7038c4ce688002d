import type { PooledSession } from '@verdict/graph';
import type { StepInput } from '../generate/causal-lm.js';
import { checkStepInput, runInRowChunks, stepFeeds } from './judge-runner.js';

/**
 * Runs a classifier graph (buildLlamaClassifierGraph: `logits` [batch, num_labels] at each row's
 * last real token) on whole prompts, with the judge runner's feeds and replica row chunks.
 */
export function createClassifyRunner(
  sessionOf: () => Promise<PooledSession>,
  replicas: number,
): { classifyLast(input: StepInput): Promise<Float32Array> } {
  return {
    async classifyLast(input) {
      checkStepInput(input, 0);
      const session = await sessionOf();
      const [logits] = await runInRowChunks(input.batchSize, replicas, ['logits'], (from, rows) =>
        session.run(stepFeeds(input, from, rows, 0), { outputs: ['logits'] }),
      );
      return logits!;
    },
  };
}

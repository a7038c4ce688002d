import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CausalLmConfig,
  createFamilyModel,
  type FamilyModel,
  type ModelOptions,
  type ModelTokenizer,
  modelFamilyFor,
} from '@verdict/models';
import type { PolicyConfig } from '../config.js';

/** How the policy's ONNX sessions are created: threads, replicas, execution provider, the shared pool. */
export type ModelSessionOptions = Pick<
  ModelOptions,
  'intraOpThreads' | 'replicas' | 'executionProvider' | 'executionProviderFallback' | 'pool'
>;

export function modelSessionOptions(config: PolicyConfig): ModelSessionOptions {
  return {
    intraOpThreads: config.model.intraOpThreads,
    replicas: config.model.sessionReplicas,
    executionProvider: config.model.executionProvider,
    executionProviderFallback: config.model.executionProviderFallback,
  };
}

/**
 * Parses safetensors bytes against the serving config, with the checks of the family its
 * model_type names (every tensor present, shapes as the config says). @verdict/models only reads
 * a checkpoint from a folder, so the bytes go through a private temp folder (removed at once).
 */
export function parseSafetensorsWeights(
  bytes: Uint8Array,
  config: CausalLmConfig,
): Map<string, Float32Array> {
  const dir = mkdtempSync(join(tmpdir(), 'policy-weights-'));
  try {
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    return modelFamilyFor(config.modelType).loadWeights(dir, config);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Builds a model on new weights, loads its generation sessions (prefill and KV-buffer decode) and
 * runs one tiny step before it is installed: requests never pay a session start, and a graph that
 * fails to load or run is rejected while the old weights keep serving.
 */
export async function buildWarmModel(
  config: CausalLmConfig,
  weights: Map<string, Float32Array>,
  tokenizer: ModelTokenizer,
  sessions: ModelSessionOptions,
): Promise<FamilyModel> {
  // The serving model's family builds the graphs, so a swap keeps the architecture it serves.
  const graphs = modelFamilyFor(config.modelType).graphs(config, weights);
  const model = createFamilyModel(config, weights, tokenizer, graphs, {
    ...sessions,
    releaseWeightsAfterLoad: 'generation',
  });
  try {
    await warmUp(model);
  } catch (error) {
    await model.close().catch(() => {});
    throw error;
  }
  return model;
}

export async function warmUp(model: FamilyModel): Promise<void> {
  await model.loadGenerationSessions();
  const id = model.tokenizer.bosId ?? 0;
  await model.step(
    { batchSize: 1, seqLen: 1, inputIds: [id], attentionMask: [1], positionIds: [0] },
    undefined,
  );
}

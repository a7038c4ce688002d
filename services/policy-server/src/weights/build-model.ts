import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkLlamaWeights,
  createLlamaModel,
  type LlamaFamilyConfig,
  type LlamaModel,
  type LlamaModelOptions,
  type ModelTokenizer,
  readSafetensors,
} from '@verdict/models';
import type { PolicyConfig } from '../config.js';

/** How the policy's ONNX sessions are created: threads, replicas, execution provider, the shared pool. */
export type ModelSessionOptions = Pick<
  LlamaModelOptions,
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
 * Parses safetensors bytes against the serving config. @verdict/models only reads safetensors
 * from a file, so the bytes go through a private temp file (removed at once).
 */
export function parseSafetensorsWeights(
  bytes: Uint8Array,
  config: LlamaFamilyConfig,
): Map<string, Float32Array> {
  const dir = mkdtempSync(join(tmpdir(), 'policy-weights-'));
  try {
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, bytes);
    return checkLlamaWeights(config, readSafetensors(file));
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
  config: LlamaFamilyConfig,
  weights: Map<string, Float32Array>,
  tokenizer: ModelTokenizer,
  sessions: ModelSessionOptions,
): Promise<LlamaModel> {
  const model = createLlamaModel(config, weights, tokenizer, sessions);
  try {
    await warmUp(model);
  } catch (error) {
    await model.close().catch(() => {});
    throw error;
  }
  return model;
}

export async function warmUp(model: LlamaModel): Promise<void> {
  await model.loadGenerationSessions();
  const id = model.tokenizer.bosId ?? 0;
  await model.step(
    { batchSize: 1, seqLen: 1, inputIds: [id], attentionMask: [1], positionIds: [0] },
    undefined,
  );
}

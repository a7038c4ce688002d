import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CausalLmConfig,
  loadModelConfig,
  loadModelWeights,
  modelTrainingFor,
  modelWeightMap,
  readSafetensors,
  type WeightMap,
  writeSafetensors,
} from '@verdict/models';
import { ADAMW_STATE_FORMAT, type AdamWState, type AdamWStateMeta } from '../optim/adamw.js';
import type { ParamMap } from '../optim/param-map.js';
import { VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT } from './training-graph.js';

export const TRAINER_STATE_FORMAT = 'verdict.trainer-state.v1';

/** Tokenizer and generation files copied from the source model so the checkpoint loads on its own. */
const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'chat_template.jinja',
];

export interface TrainingCheckpoint {
  /** Any registered family's config; config.json is written by its family (`configToJson`). */
  readonly config: CausalLmConfig;
  /** HF-named model parameters (+ `v_head.*` when the run has a value head). */
  readonly params: ParamMap;
  readonly optimizer?: AdamWState;
  /** Caller state (data cursor, RNG, loss spec, ...), JSON. */
  readonly extra?: Record<string, unknown>;
}

export interface SaveCheckpointOptions {
  /** Copy tokenizer/generation files from this model folder. */
  readonly tokenizerFrom?: string;
}

function flat(map: ReadonlyMap<string, Float32Array>): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, data] of map) out.set(name, { shape: [data.length], data });
  return out;
}

/** Writes `tmp` then renames, so a crash never leaves a half-written file under the final name. */
function atomically(path: string, write: (tmp: string) => void): void {
  const tmp = `${path}.tmp-${process.pid}`;
  write(tmp);
  renameSync(tmp, path);
}

/**
 * A checkpoint folder that @verdict/models (and so `verdict generate`, the policy-server) loads as a
 * Hugging Face model: `model.safetensors` (HF names, F32) + `config.json` + tokenizer files. Training
 * state rides beside it: `optimizer.safetensors` (AdamW moments, `exp_avg.<name>`), `value_head.safetensors`
 * (PPO critic) and `trainer_state.json` (optimizer meta + caller state), written last so its presence
 * marks a complete checkpoint.
 */
export function saveTrainingCheckpoint(
  dir: string,
  ckpt: TrainingCheckpoint,
  options: SaveCheckpointOptions = {},
): void {
  mkdirSync(dir, { recursive: true });
  const model = new Map([...ckpt.params].filter(([n]) => n !== VALUE_HEAD_WEIGHT && n !== VALUE_HEAD_BIAS));
  atomically(join(dir, 'model.safetensors'), (tmp) =>
    writeSafetensors(tmp, modelWeightMap(ckpt.config, model)),
  );
  atomically(join(dir, 'config.json'), (tmp) =>
    writeFileSync(
      tmp,
      `${JSON.stringify(modelTrainingFor(ckpt.config).configToJson(ckpt.config), null, 2)}\n`,
    ),
  );
  if (options.tokenizerFrom) {
    for (const f of TOKENIZER_FILES) {
      const src = join(options.tokenizerFrom, f);
      if (existsSync(src)) copyFileSync(src, join(dir, f));
    }
  }
  const head = new Map([...ckpt.params].filter(([n]) => n === VALUE_HEAD_WEIGHT || n === VALUE_HEAD_BIAS));
  if (head.size > 0)
    atomically(join(dir, 'value_head.safetensors'), (tmp) => writeSafetensors(tmp, flat(head)));
  if (ckpt.optimizer) {
    atomically(join(dir, 'optimizer.safetensors'), (tmp) =>
      writeSafetensors(tmp, flat(ckpt.optimizer!.tensors)),
    );
  }
  const state = {
    format: TRAINER_STATE_FORMAT,
    optimizer: ckpt.optimizer?.meta ?? null,
    extra: ckpt.extra ?? {},
  };
  atomically(join(dir, 'trainer_state.json'), (tmp) =>
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`),
  );
}

function tensorsOf(path: string): Map<string, Float32Array> {
  return new Map([...readSafetensors(path)].map(([n, t]) => [n, t.data]));
}

/**
 * Reads a checkpoint folder. A plain HF model folder (no trainer_state.json) gives config + params
 * only; a training checkpoint also gives the optimizer state and the caller's extra state.
 */
export function loadTrainingCheckpoint(dir: string): TrainingCheckpoint {
  // The family comes from config.json's model_type (Llama, OPT, ...), as loadModel picks it.
  const config = loadModelConfig(dir);
  const params: ParamMap = loadModelWeights(dir, config);
  const headPath = join(dir, 'value_head.safetensors');
  if (existsSync(headPath)) for (const [n, d] of tensorsOf(headPath)) params.set(n, d);
  const statePath = join(dir, 'trainer_state.json');
  if (!existsSync(statePath)) return { config, params };
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
    format?: string;
    optimizer?: AdamWStateMeta | null;
    extra?: Record<string, unknown>;
  };
  if (state.format !== TRAINER_STATE_FORMAT)
    throw new Error(`${statePath}: format ${String(state.format)}, expected ${TRAINER_STATE_FORMAT}`);
  let optimizer: AdamWState | undefined;
  if (state.optimizer) {
    if (state.optimizer.format !== ADAMW_STATE_FORMAT)
      throw new Error(`${statePath}: unknown optimizer format`);
    optimizer = { meta: state.optimizer, tensors: tensorsOf(join(dir, 'optimizer.safetensors')) };
  }
  return { config, params, ...(optimizer ? { optimizer } : {}), extra: state.extra ?? {} };
}

import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { initializerBytes, writeOnnxModel } from '@verdict/graph';
import { buildLlamaInferenceGraph } from '../arch/llama-graphs.js';
import { llamaConfigToJson, loadLlamaFamilyConfig } from '../checkpoint/llama-config.js';
import { loadLlamaWeights } from '../checkpoint/llama-weights.js';
import { ModelError } from '../errors.js';
import { DEFAULT_EXTERNAL_DATA_BYTES } from './graph-loader.js';

/** Tokenizer and generation files copied next to model.onnx when present. */
const SIDE_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];

export interface ExportOptions {
  /**
   * 'auto' (default): weights over 1.5 GiB go to `model.onnx_data` (ONNX external data; protobuf
   * caps an inline model at 2 GiB); 'always' / 'never' force it either way ('never' fails past 2 GiB).
   */
  readonly externalData?: 'auto' | 'always' | 'never';
}

export interface ExportResult {
  readonly outDir: string;
  readonly files: string[];
  /** Bytes of model.onnx. */
  readonly onnxBytes: number;
  /** Bytes of model.onnx_data, when the weights went there. */
  readonly dataBytes?: number;
}

/** optimum's and transformers.js's name for a model's external data (`<model>.onnx_data`). */
const DATA_FILE = 'model.onnx_data';

/**
 * Writes `<outDir>/model.onnx` (the KV-cache inference graph, full [batch, seq, vocab] logits,
 * optimum input/output names, weights as initializers), the validated config.json and the
 * tokenizer files, so other ONNX tools can load the folder. Weights over 1.5 GiB (or with
 * externalData 'always') go to `model.onnx_data` next to it as ONNX external data, and config.json
 * gets `transformers.js_config.use_external_data_format: true` (transformers.js fetches the data
 * file only when told). `onnx/model.onnx` (and `onnx/model.onnx_data`) are the same files (hard
 * links, copies where links fail): the layout transformers.js loads by default
 * (`AutoModelForCausalLM.from_pretrained(outDir, { dtype: 'fp32' })`).
 */
export function exportLlamaOnnx(modelDir: string, outDir: string, options: ExportOptions = {}): ExportResult {
  const mode = options.externalData ?? 'auto';
  if (!['auto', 'always', 'never'].includes(mode))
    throw new ModelError(
      'INVALID_ARGUMENT',
      `externalData must be 'auto', 'always' or 'never' (got ${mode})`,
    );
  const config = loadLlamaFamilyConfig(modelDir);
  const weights = loadLlamaWeights(modelDir, config);
  if (!existsSync(join(modelDir, 'tokenizer.json'))) {
    throw new ModelError('NOT_FOUND', `tokenizer not found: ${join(modelDir, 'tokenizer.json')}`);
  }
  const graph = buildLlamaInferenceGraph(config, weights);
  const external =
    mode === 'always' || (mode === 'auto' && initializerBytes(graph) > DEFAULT_EXTERNAL_DATA_BYTES);
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  // A data file of an earlier export would be stale (or, for an inline model, misleading).
  for (const f of [DATA_FILE, `onnx/${DATA_FILE}`]) rmSync(join(outDir, f), { force: true });
  const written = writeOnnxModel(graph, {
    path: join(outDir, 'model.onnx'),
    name: `${config.modelType}-verdict`,
    ...(external ? { externalData: { file: DATA_FILE } } : {}),
  });
  const files = ['model.onnx', 'onnx/model.onnx', 'config.json'];
  linkOrCopy(outDir, 'model.onnx');
  if (written.dataPath !== undefined) {
    linkOrCopy(outDir, DATA_FILE);
    files.push(DATA_FILE, `onnx/${DATA_FILE}`);
  }
  // Keep the original config (HF tools read fields we do not model), falling back to ours.
  const configJson: Record<string, unknown> = existsSync(join(modelDir, 'config.json'))
    ? (JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>)
    : llamaConfigToJson(config);
  if (written.dataPath !== undefined) {
    const tjs = (configJson['transformers.js_config'] ?? {}) as Record<string, unknown>;
    configJson['transformers.js_config'] = { ...tjs, use_external_data_format: true };
    writeFileSync(join(outDir, 'config.json'), JSON.stringify(configJson, null, 2));
  } else if (existsSync(join(modelDir, 'config.json'))) {
    copyFileSync(join(modelDir, 'config.json'), join(outDir, 'config.json'));
  } else writeFileSync(join(outDir, 'config.json'), JSON.stringify(configJson, null, 2));
  for (const f of SIDE_FILES) {
    if (existsSync(join(modelDir, f))) {
      copyFileSync(join(modelDir, f), join(outDir, f));
      files.push(f);
    }
  }
  return {
    outDir,
    files,
    onnxBytes: written.modelBytes,
    ...(written.dataPath !== undefined ? { dataBytes: statSync(written.dataPath).size } : {}),
  };
}

/** `<outDir>/onnx/<name>` as the same file as `<outDir>/<name>`. */
function linkOrCopy(outDir: string, name: string): void {
  const nested = join(outDir, 'onnx', name);
  rmSync(nested, { force: true });
  try {
    linkSync(join(outDir, name), nested);
  } catch {
    copyFileSync(join(outDir, name), nested);
  }
}

import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toOnnxModel } from '@verdict/graph';
import { buildLlamaInferenceGraph } from '../arch/llama-graphs.js';
import { llamaConfigToJson, loadLlamaFamilyConfig } from '../checkpoint/llama-config.js';
import { loadLlamaWeights } from '../checkpoint/llama-weights.js';
import { ModelError } from '../errors.js';

/** Tokenizer and generation files copied next to model.onnx when present. */
const SIDE_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];

export interface ExportResult {
  readonly outDir: string;
  readonly files: string[];
  readonly onnxBytes: number;
}

/**
 * Writes `<outDir>/model.onnx` (the KV-cache inference graph, full [batch, seq, vocab] logits,
 * optimum input/output names, weights as initializers), the validated config.json and the
 * tokenizer files, so other ONNX tools can load the folder. Protobuf limits one file to 2 GiB.
 * `onnx/model.onnx` is the same file (a hard link, a copy where links fail): the layout
 * transformers.js loads by default (`AutoModelForCausalLM.from_pretrained(outDir, { dtype: 'fp32' })`).
 */
export function exportLlamaOnnx(modelDir: string, outDir: string): ExportResult {
  const config = loadLlamaFamilyConfig(modelDir);
  const weights = loadLlamaWeights(modelDir, config);
  if (!existsSync(join(modelDir, 'tokenizer.json'))) {
    throw new ModelError('NOT_FOUND', `tokenizer not found: ${join(modelDir, 'tokenizer.json')}`);
  }
  const bytes = toOnnxModel(buildLlamaInferenceGraph(config, weights), {
    name: `${config.modelType}-verdict`,
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'model.onnx'), bytes);
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  const nested = join(outDir, 'onnx', 'model.onnx');
  rmSync(nested, { force: true });
  try {
    linkSync(join(outDir, 'model.onnx'), nested);
  } catch {
    writeFileSync(nested, bytes);
  }
  // Keep the original config (HF tools read fields we do not model), falling back to ours.
  if (existsSync(join(modelDir, 'config.json')))
    copyFileSync(join(modelDir, 'config.json'), join(outDir, 'config.json'));
  else writeFileSync(join(outDir, 'config.json'), JSON.stringify(llamaConfigToJson(config), null, 2));
  const files = ['model.onnx', 'onnx/model.onnx', 'config.json'];
  for (const f of SIDE_FILES) {
    if (existsSync(join(modelDir, f))) {
      copyFileSync(join(modelDir, f), join(outDir, f));
      files.push(f);
    }
  }
  return { outDir, files, onnxBytes: bytes.byteLength };
}

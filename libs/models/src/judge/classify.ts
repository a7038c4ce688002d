import { ModelError } from '../errors.js';
import type { CausalLmConfig } from '../family/model-config.js';
import type { StepInput } from '../generate/causal-lm.js';
import type { ModelTokenizer } from '../tokenizer/tokenizer.js';
import type { JudgeItem } from './judge.js';
import { type JudgeTemplateName, resolveJudgeTemplate } from './judge-prompt.js';
import { checkMaxBatchSize, encodeJudgeItems, forEachPaddedBatch } from './prompt-batches.js';

/**
 * A model with a sequence-classification head (a `...ForSequenceClassification` checkpoint:
 * FamilyModel of such a checkpoint has `classifyLast`); any other model is refused by classify().
 */
export interface ClassifierModel {
  readonly config: CausalLmConfig;
  readonly tokenizer: ModelTokenizer;
  /** Logits [batch, num_labels] at each row's last real token. */
  classifyLast?(input: StepInput): Promise<Float32Array>;
}

export interface ClassifyResult {
  /**
   * P(correct): sigmoid(logit) for one label, softmax P(label 1) = sigmoid(z1 − z0) for two
   * (HF's LABEL_1 = the positive class of a binary verifier).
   */
  readonly score: number;
  /** The head's logits for this item, [num_labels]. */
  readonly logits: readonly number[];
}

export interface ClassifyOptions {
  /** The judge's prompt template (see judge()): the head reads the position the judge's verdict is read at. */
  readonly template?: JudgeTemplateName;
  /** Rows per forward pass. Default 32. */
  readonly maxBatchSize?: number;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * Scores (question, answer) items with a sequence-classification head, e.g. a learned reranker
 * (a verifier trained to classify sampled solutions as right or wrong): each item is the judge's
 * prompt (same template, encoding, length limit, left-padded batches), so one model's scores are
 * comparable across judge and reranker and a reranker fine-tuned from a judge reads the same
 * last position. `groupKey` is ignored (no shared-prefix path here).
 */
export async function classify(
  model: ClassifierModel,
  items: readonly JudgeItem[],
  options: ClassifyOptions = {},
): Promise<ClassifyResult[]> {
  const maxBatchSize = checkMaxBatchSize(options.maxBatchSize);
  const classifyLast = model.classifyLast?.bind(model);
  if (classifyLast === undefined) {
    throw new ModelError(
      'INVALID_ARGUMENT',
      'this model has no sequence-classification head: classify() needs a ...ForSequenceClassification checkpoint (score.weight)',
    );
  }
  const template = resolveJudgeTemplate(model.tokenizer, options.template);
  const encoded = encodeJudgeItems(model, items, template);
  const results = new Array<ClassifyResult>(items.length);
  await forEachPaddedBatch(
    encoded,
    encoded.map((_, i) => i),
    maxBatchSize,
    model.tokenizer.padId ?? 0,
    async (rows, input) => {
      const logits = await classifyLast(input);
      const labels = logits.length / rows.length;
      if (labels !== 1 && labels !== 2) {
        throw new ModelError(
          'INVALID_ARGUMENT',
          `classify scores a head of 1 or 2 labels; this one has num_labels ${labels}`,
        );
      }
      rows.forEach((row, b) => {
        const z = Array.from(logits.subarray(b * labels, (b + 1) * labels));
        results[row] = { score: sigmoid(labels === 1 ? z[0]! : z[1]! - z[0]!), logits: z };
      });
    },
  );
  return results;
}

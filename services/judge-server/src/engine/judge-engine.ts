import { createHash } from 'node:crypto';
import {
  type CausalLmConfig,
  encodeJudgePrompt,
  findYesNoTokenIds,
  type JudgeModel,
  type JudgeResult,
  type JudgeTemplateName,
  judge,
  maxSequenceLength,
  renderJudgePrompt,
  resolveJudgeTemplate,
} from '@verdict/models';

/** A judge template the server can use: the engine's name plus the hash of its rendered source. */
export interface ResolvedTemplate {
  readonly name: 'plain' | 'chat';
  /** Hex sha256 of the template rendered with `{question}` / `{solution}` placeholders. */
  readonly hash: string;
  readonly yesId: number;
  readonly noId: number;
}

export interface JudgeEngine {
  readonly modelId: string;
  readonly defaultTemplate: ResolvedTemplate;
  /** Prompt token limit and the config field it comes from (`max_position_embeddings`). */
  readonly maxPromptTokens: { readonly limit: number; readonly field: string };
  /** `''` = the default; undefined = unknown or unusable with this tokenizer. */
  resolveTemplate(name: string): ResolvedTemplate | undefined;
  /** The template names this model accepts (for error messages). */
  readonly templateNames: readonly string[];
  promptTokens(question: string, solution: string, template: ResolvedTemplate): number;
  /**
   * One model call over same-template items (left-padded into one forward pass; items sharing a
   * non-empty `groupKey` and a prompt prefix get that prefix computed once: shared-prefix judging).
   */
  run(
    template: ResolvedTemplate,
    items: readonly { question: string; solution: string; groupKey?: string }[],
  ): Promise<JudgeResult[]>;
}

export interface JudgeEngineOptions {
  /** A model of any registered family. */
  readonly model: JudgeModel<CausalLmConfig>;
  readonly modelId: string;
  readonly defaultTemplate: JudgeTemplateName;
  /** Rows per forward pass inside judge() (the batcher never exceeds it). */
  readonly maxBatchSize: number;
  /** Shared-prefix judging of items with a group key (default true; see @verdict/models judge()). */
  readonly sharedPrefix?: boolean;
}

/**
 * Wraps a loaded model with the server's template registry. The templates are resolved (and
 * their Yes/No token ids found) once at start, so a tokenizer that cannot judge fails the
 * start-up rather than every request.
 */
export function createJudgeEngine(options: JudgeEngineOptions): JudgeEngine {
  const { model, modelId, maxBatchSize } = options;
  const sharedPrefix = options.sharedPrefix ?? true;
  const { tokenizer } = model;
  const templates = new Map<string, ResolvedTemplate>();
  for (const name of ['plain', 'chat'] as const) {
    if (name === 'chat' && tokenizer.chatTemplate === undefined) continue;
    const source = renderJudgePrompt(tokenizer, '{question}', '{solution}', name);
    const { yesId, noId } = findYesNoTokenIds(tokenizer, name);
    templates.set(name, {
      name,
      hash: createHash('sha256').update(source).digest('hex'),
      yesId,
      noId,
    });
  }
  const defaultName = resolveJudgeTemplate(tokenizer, options.defaultTemplate);
  const defaultTemplate = templates.get(defaultName)!;
  const resolveTemplate = (name: string): ResolvedTemplate | undefined => {
    if (name === '') return defaultTemplate;
    if (name === 'auto') return templates.get(resolveJudgeTemplate(tokenizer, 'auto'));
    return templates.get(name);
  };
  return {
    modelId,
    defaultTemplate,
    maxPromptTokens: maxSequenceLength(model.config),
    resolveTemplate,
    templateNames: ['auto', ...templates.keys()],
    promptTokens(question, solution, template) {
      const text = renderJudgePrompt(tokenizer, question, solution, template.name);
      return encodeJudgePrompt(tokenizer, text, template.name).length;
    },
    run(template, items) {
      return judge(
        model,
        items.map((i) => ({
          question: i.question,
          answer: i.solution,
          ...(i.groupKey ? { groupKey: i.groupKey } : {}),
        })),
        { template: template.name, maxBatchSize, sharedPrefix },
      );
    },
  };
}

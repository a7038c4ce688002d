import { randomInt } from 'node:crypto';
import { maxSequenceLength } from '@verdict/models';
import type { commonV1 } from '@verdict/proto';
import { VerdictError } from '@verdict/runtime';
import type { SequenceSpec, ServedModel } from './generator.js';

/** Server-side bounds on what one request may ask for (config). */
export interface RequestLimits {
  readonly defaultMaxNewTokens: number;
  readonly maxNewTokens: number;
  readonly maxSequencesPerRequest: number;
  readonly maxStopStrings: number;
  readonly maxStopStringLength: number;
}

/** Longest prompt text accepted (characters), checked before it is tokenized. */
export const PROMPT_TEXT_MAX_CHARS = 262_144;

export interface SequenceRef {
  readonly promptIndex: number;
  readonly sampleIndex: number;
}

function invalid(field: string, message: string): VerdictError {
  return new VerdictError('INVALID_ARGUMENT', `${field}: ${message}`, { field });
}

/** Encodes one wire prompt; `field` names it in errors (e.g. `prompts[2]`). */
export function encodePrompt(model: ServedModel, prompt: commonV1.Prompt, field: string): number[] {
  const { config, tokenizer } = model;
  let ids: number[];
  const { limit, field: limitField } = maxSequenceLength(config);
  if (prompt.tokenIds !== undefined) {
    field = `${field}.token_ids`;
    // Length before copying or scanning: the work stays bounded by the model, not the request.
    if (prompt.tokenIds.ids.length > limit)
      throw invalid(
        field,
        `the prompt has ${prompt.tokenIds.ids.length} tokens, more than the model's ${limitField} (${limit})`,
      );
    ids = [...prompt.tokenIds.ids];
    const bad = ids.findIndex((id) => id >= config.vocabSize);
    if (bad >= 0)
      throw invalid(field, `id ${ids[bad]} at ${bad} is outside the vocabulary [0, ${config.vocabSize})`);
  } else if (prompt.text !== undefined) {
    field = `${field}.text`;
    // Before tokenizing (event-loop work proportional to the text).
    if (prompt.text.length > PROMPT_TEXT_MAX_CHARS)
      throw invalid(field, `must be at most ${PROMPT_TEXT_MAX_CHARS} characters (got ${prompt.text.length})`);
    if (prompt.applyChatTemplate) {
      if (tokenizer.chatTemplate === undefined) {
        throw invalid(
          `${field.replace(/\.text$/, '')}.apply_chat_template`,
          'the model has no chat template',
        );
      }
      // A rendered chat template already holds its special tokens.
      const rendered = tokenizer.applyChatTemplate([{ role: 'user', content: prompt.text }], {
        addGenerationPrompt: true,
      });
      ids = tokenizer.encode(rendered, { addSpecialTokens: false });
    } else {
      ids = tokenizer.encode(prompt.text);
    }
  } else {
    throw invalid(field, 'set either text or token_ids');
  }
  if (ids.length === 0) throw invalid(field, 'the prompt is empty');
  if (ids.length > limit) {
    throw invalid(
      field,
      `the prompt has ${ids.length} tokens, more than the model's ${limitField} (${limit})`,
    );
  }
  return ids;
}

/** Validates sampling params (each problem names the field and its limit) and resolves defaults. */
export function resolveSampling(
  model: ServedModel,
  sampling: commonV1.SamplingParams | undefined,
  limits: RequestLimits,
  field = 'sampling',
): Omit<SequenceSpec, 'promptIds' | 'seed'> & { baseSeed: bigint | undefined } {
  const s = sampling;
  const temperature = s?.temperature ?? 0;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw invalid(`${field}.temperature`, `must be a finite number >= 0 (got ${temperature}; 0 = greedy)`);
  }
  const topP = s?.topP ?? 0;
  if (!Number.isFinite(topP) || topP < 0 || topP > 1) {
    throw invalid(`${field}.top_p`, `must be in [0, 1] (got ${topP}; 0 or 1 disables it)`);
  }
  const topK = s?.topK ?? 0;
  if (topK > model.config.vocabSize) {
    throw invalid(
      `${field}.top_k`,
      `must be <= the vocabulary size ${model.config.vocabSize} (got ${topK}; 0 disables it)`,
    );
  }
  const maxNewTokens = s?.maxNewTokens || limits.defaultMaxNewTokens;
  if (maxNewTokens > limits.maxNewTokens) {
    throw invalid(`${field}.max_new_tokens`, `must be <= ${limits.maxNewTokens} (got ${maxNewTokens})`);
  }
  const stopTokenIds = new Set<number>([
    ...model.config.eosTokenIds,
    ...(model.tokenizer.eosId === undefined ? [] : [model.tokenizer.eosId]),
  ]);
  for (const [i, id] of (s?.stopTokenIds ?? []).entries()) {
    if (id >= model.config.vocabSize) {
      throw invalid(
        `${field}.stop_token_ids[${i}]`,
        `id ${id} is outside the vocabulary [0, ${model.config.vocabSize})`,
      );
    }
    stopTokenIds.add(id);
  }
  const stopStrings = s?.stopStrings ?? [];
  if (stopStrings.length > limits.maxStopStrings) {
    throw invalid(
      `${field}.stop_strings`,
      `at most ${limits.maxStopStrings} stop strings (got ${stopStrings.length})`,
    );
  }
  for (const [i, str] of stopStrings.entries()) {
    if (str.length === 0 || str.length > limits.maxStopStringLength) {
      throw invalid(
        `${field}.stop_strings[${i}]`,
        `must have 1..${limits.maxStopStringLength} characters (got ${str.length})`,
      );
    }
  }
  return {
    sampling: { temperature, topK, topP: topP === 0 ? 1 : topP },
    maxNewTokens,
    stopTokenIds,
    stopStrings,
    baseSeed: s?.seed,
  };
}

/** Seed of sample i: seed + i (proto contract), folded to the 32 bits the RNG uses. */
export function sampleSeed(baseSeed: bigint | undefined, sampleIndex: number): number {
  const base = baseSeed ?? BigInt(randomInt(0, 2 ** 32 - 1));
  return Number(BigInt.asUintN(32, base + BigInt(sampleIndex)));
}

/**
 * Turns a Generate request into one sequence per (prompt, sample), prompt-major, validating
 * everything first so that nothing is queued for a request that is then rejected.
 */
export function buildSequenceSpecs(
  model: ServedModel,
  request: {
    readonly prompts: readonly commonV1.Prompt[];
    readonly sampling?: commonV1.SamplingParams | undefined;
    readonly samplesPerPrompt: number;
  },
  limits: RequestLimits,
): { specs: SequenceSpec[]; refs: SequenceRef[] } {
  if (request.prompts.length === 0) throw invalid('prompts', 'at least one prompt is required');
  const samples = request.samplesPerPrompt || 1;
  const total = request.prompts.length * samples;
  if (total > limits.maxSequencesPerRequest) {
    throw invalid(
      request.samplesPerPrompt > 1 ? 'samples_per_prompt' : 'prompts',
      `prompts × samples_per_prompt = ${total} exceeds the limit of ${limits.maxSequencesPerRequest} sequences per request`,
    );
  }
  const resolved = resolveSampling(model, request.sampling, limits);
  const { baseSeed, ...common } = resolved;
  // One server-chosen base per request keeps "sample i uses seed + i" true when the seed is unset.
  const base = baseSeed ?? BigInt(randomInt(0, 2 ** 32 - 1));
  const specs: SequenceSpec[] = [];
  const refs: SequenceRef[] = [];
  request.prompts.forEach((prompt, p) => {
    const promptIds = encodePrompt(model, prompt, `prompts[${p}]`);
    for (let i = 0; i < samples; i++) {
      specs.push({ ...common, promptIds, seed: sampleSeed(base, i) });
      refs.push({ promptIndex: p, sampleIndex: i });
    }
  });
  return { specs, refs };
}

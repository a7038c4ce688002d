import { defineCommand } from '../framework/command.js';

export default defineCommand({
  name: 'generate',
  summary: 'generate a continuation of one prompt (greedy at temperature 0)',
  flags: {
    model: {
      type: 'string',
      required: true,
      description: 'Hugging Face model folder (config.json, safetensors, tokenizer)',
    },
    prompt: { type: 'string', required: true, description: 'prompt text (BOS added as the tokenizer says)' },
    maxNewTokens: { type: 'int', default: 64, min: 1, description: 'most tokens to generate' },
    temperature: { type: 'number', default: 0, min: 0, description: 'sampling temperature; 0 = greedy' },
    topP: { type: 'number', default: 1, greaterThan: 0, max: 1, description: 'nucleus sampling mass' },
    topK: { type: 'int', default: 0, min: 0, description: 'keep the k most likely tokens; 0 = off' },
    seed: { type: 'int', default: 0, description: 'sampling seed (same seed, same output)' },
    dumpLogits: {
      type: 'boolean',
      description: 'add last_logits: full-vocab logits at the last prompt position',
    },
  },
  async run(flags, ctx) {
    const { loadLlamaModel, generate } = await import('@verdict/models');
    ctx.progress(`loading ${flags.model}`);
    const model = loadLlamaModel(flags.model);
    try {
      const [out] = await generate(model, [flags.prompt], {
        maxNewTokens: flags.maxNewTokens,
        temperature: flags.temperature,
        topP: flags.topP,
        topK: flags.topK,
        seed: flags.seed,
        returnPromptLogits: flags.dumpLogits,
      });
      if (!out) throw new Error('generate returned no result');
      ctx.progress(`generated ${out.ids.length} tokens (${out.finishReason})`);
      return {
        prompt_ids: out.promptIds,
        ids: out.ids,
        text: out.text,
        logprobs: out.logprobs,
        ...(flags.dumpLogits && out.promptLogits ? { last_logits: Array.from(out.promptLogits) } : {}),
      };
    } finally {
      await model.close();
    }
  },
  format: (r) => (r as { text: string }).text,
});

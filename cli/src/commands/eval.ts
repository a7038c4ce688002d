import type { EvalPrompt, SampleSettings, SuiteGenerator, SuiteProgress } from '@verdict/data';
import type { FamilyModel } from '@verdict/models';
import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';

/** Prompt ids that fit the model with room for at least one new token (left-truncated, BOS kept). */
function fitPrompt(model: FamilyModel, text: string, limit: number): { ids: number[]; truncated: boolean } {
  const ids = model.tokenizer.encode(text, { addSpecialTokens: true });
  if (ids.length < limit) return { ids, truncated: false };
  // Keep the end: "Answer:" must stay the last thing the model reads.
  return { ids: [ids[0]!, ...ids.slice(ids.length - (limit - 2))], truncated: true };
}

/** A loaded checkpoint as the harness's batched generator (@verdict/models `generate`). */
async function createModelGenerator(
  dir: string,
  maxNewTokens: number,
  onTruncate: () => void,
): Promise<SuiteGenerator & { close(): Promise<void> }> {
  const { generate, loadModel, maxSequenceLength } = await import('@verdict/models');
  // Any registered family (model_type picks it); an unsupported one is a ModelError → exit 2.
  const model = loadModel(dir);
  const { limit } = maxSequenceLength(model.config);
  const prompts = (batch: readonly EvalPrompt[]) =>
    batch.map(({ prompt }) => {
      const fitted = fitPrompt(model, prompt, limit);
      if (fitted.truncated) onTruncate();
      return { ids: fitted.ids };
    });
  return {
    model: dir,
    maxNewTokens,
    async greedy(batch) {
      const out = await generate(model, prompts(batch), { maxNewTokens, temperature: 0 });
      return out.map((g) => g.text);
    },
    async sample(batch, s: SampleSettings) {
      const ids = prompts(batch);
      const perPrompt: string[][] = batch.map(() => []);
      // Sample i of every prompt uses seed + i (common.proto SamplingParams), one batched call each.
      for (let i = 0; i < s.count; i++) {
        const out = await generate(model, ids, {
          maxNewTokens,
          temperature: s.temperature,
          topP: s.topP,
          topK: s.topK,
          seed: s.seed + i,
        });
        out.forEach((g, row) => {
          perPrompt[row]!.push(g.text);
        });
      }
      return perPrompt;
    },
    close: () => model.close(),
  };
}

export default defineCommand({
  name: 'eval',
  summary: 'score a model on a benchmark suite: greedy accuracy, maj@k, strict and flexible',
  flags: {
    suite: {
      type: 'string',
      required: true,
      description: 'gsm8k-test, gsm8k-train, svamp, gsm-plus, gsm-hard, mawps, toy-id, toy-ood',
    },
    model: {
      type: 'string',
      required: true,
      description: 'model folder, or oracle / wrong (harness checks: 1.0 / 0.0)',
    },
    limit: { type: 'int', min: 1, description: 'evaluate only the first N questions' },
    samples: {
      type: 'int',
      default: 0,
      min: 0,
      description: 'samples per question for maj@k; 0 = greedy only',
    },
    k: {
      type: 'int',
      min: 1,
      description: 'votes per maj@k draw (default: --samples; unbiased from n >= k)',
    },
    temperature: { type: 'number', default: 0.7, min: 0, description: 'sampling temperature of the samples' },
    topP: { type: 'number', default: 1, greaterThan: 0, max: 1, description: 'nucleus mass of the samples' },
    topK: { type: 'int', default: 0, min: 0, description: 'top-k of the samples; 0 = off' },
    seed: { type: 'int', default: 0, description: 'sample i uses seed + i' },
    maxNewTokens: { type: 'int', default: 256, min: 1, description: 'most tokens per answer' },
    batchSize: { type: 'int', default: 16, min: 1, description: 'questions per generation batch' },
    out: {
      type: 'string',
      description: 'report folder: writes runs/<id>.json, history.jsonl, report.html (history across runs)',
    },
  },
  async run(flags, ctx) {
    const data = await import('@verdict/data');
    if (!data.isSuiteName(flags.suite)) {
      throw new UsageError(
        `--suite must be one of ${data.SUITE_NAMES.join(', ')} (got ${JSON.stringify(flags.suite)})`,
      );
    }
    if (flags.k !== undefined && flags.k > flags.samples) {
      throw new UsageError(`--k must be <= --samples (got k=${flags.k}, samples=${flags.samples})`);
    }
    let truncated = 0;
    const pseudo = data.getPseudoModel(flags.model);
    const generator = pseudo
      ? { ...data.createPseudoGenerator(pseudo), close: async () => {} }
      : await createModelGenerator(flags.model, flags.maxNewTokens, () => truncated++);
    let lastPrintMs = 0;
    const onProgress = (p: SuiteProgress) => {
      // At most one line a second (plus the last), so a fast oracle run does not flood stderr.
      if (p.done < p.total && p.elapsedMs - lastPrintMs < 1000) return;
      lastPrintMs = p.elapsedMs;
      ctx.progress(data.formatSuiteProgress(p));
    };
    try {
      const { result, items } = await data.runSuiteEval({
        suite: flags.suite,
        generator,
        samples: flags.samples,
        ...(flags.k !== undefined ? { k: flags.k } : {}),
        ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
        temperature: flags.temperature,
        topP: flags.topP,
        topK: flags.topK,
        seed: flags.seed,
        batchSize: flags.batchSize,
        onProgress,
      });
      if (truncated > 0) ctx.progress(`${truncated} prompt(s) were left-truncated to fit the model`);
      if (flags.out === undefined) return result;
      const written = data.writeRunReports({
        outDir: flags.out,
        results: [result],
        items: { [result.suite]: items },
      });
      ctx.progress(`report: ${written.html}`);
      return {
        ...result,
        run_id: written.runId,
        report: { json: written.json, html: written.html, history: written.history },
      };
    } finally {
      await generator.close();
    }
  },
  format: (r) => {
    const x = r as {
      suite: string;
      n: number;
      accuracy: number;
      flexible: { accuracy: number };
      maj_at_k: number | null;
      k: number | null;
    };
    const maj = x.maj_at_k === null ? '' : `  maj@${x.k} ${(100 * x.maj_at_k).toFixed(1)}%`;
    return `${x.suite}: n=${x.n}  strict ${(100 * x.accuracy).toFixed(1)}%  flexible ${(100 * x.flexible.accuracy).toFixed(1)}%${maj}`;
  },
});

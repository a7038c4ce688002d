import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type { JudgeInputItem } from './judge-items.js';
import type { JudgeOutput } from './judge-output.js';

/**
 * Judges items in this process from a model folder. Provenance is computed the way the
 * judge-server computes it (model id = folder name, template hash = sha256 of the template
 * rendered with `{question}`/`{solution}` placeholders), so local and --remote outputs compare.
 */
export async function judgeLocally(
  modelDir: string,
  items: readonly JudgeInputItem[],
  template: 'auto' | 'plain' | 'chat',
  progress: (message: string) => void,
): Promise<JudgeOutput[]> {
  const { loadModel, judge, renderJudgePrompt, resolveJudgeTemplate } = await import('@verdict/models');
  progress(`loading ${modelDir}`);
  // Any registered family (model_type picks it); an unsupported one is a ModelError → exit 2.
  const model = loadModel(modelDir);
  try {
    const resolved = resolveJudgeTemplate(model.tokenizer, template);
    const source = renderJudgePrompt(model.tokenizer, '{question}', '{solution}', resolved);
    const provenance = {
      judge_model_id: basename(resolve(modelDir)),
      template_name: resolved,
      template_hash: createHash('sha256').update(source).digest('hex'),
    };
    const results = await judge(
      model,
      items.map((i) => ({ question: i.question, answer: i.answer })),
      { template: resolved },
    );
    return results.map((r) => ({
      score: r.score,
      p_yes_full: r.pYesFull,
      other_mass: r.otherMass,
      yes_id: r.yesId,
      no_id: r.noId,
      z_yes: r.zYes,
      z_no: r.zNo,
      status: 'OK',
      message: '',
      provenance,
    }));
  } finally {
    await model.close();
  }
}

import { defineCommand } from '../framework/command.js';

export default defineCommand({
  name: 'judge',
  summary: 'single-token judgment: P(Yes) that an answer solves a question',
  flags: {
    model: { type: 'string', required: true, description: 'judge model folder' },
    question: { type: 'string', required: true, description: 'the question' },
    answer: { type: 'string', required: true, description: 'the solution to judge' },
    template: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'plain', 'chat'],
      description: 'judge prompt: chat template when the model has one (auto), or the plain text',
    },
  },
  async run(flags, ctx) {
    const { loadLlamaModel, judge } = await import('@verdict/models');
    ctx.progress(`loading ${flags.model}`);
    const model = loadLlamaModel(flags.model);
    try {
      const [r] = await judge(model, [{ question: flags.question, answer: flags.answer }], {
        template: flags.template as 'auto' | 'plain' | 'chat',
      });
      if (!r) throw new Error('judge returned no result');
      return {
        score: r.score,
        p_yes_full: r.pYesFull,
        other_mass: r.otherMass,
        yes_id: r.yesId,
        no_id: r.noId,
      };
    } finally {
      await model.close();
    }
  },
});

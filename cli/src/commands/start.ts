import { defineCommand } from '../framework/command.js';

export default defineCommand({
  name: 'start',
  summary: 'the main job: the label-free distillation experiment in the toy world, through the real services',
  flags: {
    quick: { type: 'boolean', description: 'a small version (≤ 3 minutes)' },
    seeds: { type: 'int', default: 1, min: 1, max: 10, description: 'seeds per arm (mean ± spread)' },
  },
  async run() {
    throw new Error('the experiment is not built yet');
  },
});

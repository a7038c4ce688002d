import { defineCommand } from '../framework/command.js';

export default defineCommand({
  name: 'export',
  summary: 'write model.onnx (KV-cache inference graph, optimum names) + config + tokenizer files',
  flags: {
    model: { type: 'string', required: true, description: 'Hugging Face model folder' },
    out: { type: 'string', required: true, description: 'output folder (created)' },
  },
  async run(flags, ctx) {
    const { exportLlamaOnnx } = await import('@verdict/models');
    ctx.progress(`exporting ${flags.model} to ${flags.out}`);
    const r = exportLlamaOnnx(flags.model, flags.out);
    return { out: r.outDir, files: r.files, onnx_bytes: r.onnxBytes };
  },
});

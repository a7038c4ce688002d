import { defineCommand } from '../framework/command.js';

export default defineCommand({
  name: 'sft',
  summary: 'supervised fine-tuning on prompt/completion JSONL (loss on completion tokens)',
  flags: {
    model: { type: 'string', required: true, description: 'Hugging Face model folder to start from' },
    data: {
      type: 'string',
      required: true,
      description: 'JSONL, one {"prompt": ..., "completion": ...} per line',
    },
    out: { type: 'string', required: true, description: 'output folder (HF checkpoint + optimizer state)' },
    epochs: { type: 'int', default: 1, min: 1, description: 'passes over the training split' },
    lr: {
      type: 'number',
      default: 1e-4,
      greaterThan: 0,
      description: 'peak learning rate (warmup, cosine to 10%)',
    },
    batchSize: { type: 'int', default: 8, min: 1, description: 'examples per optimizer step' },
    // No fixed default: runSft takes min(256, the model's position limit), so a model with fewer
    // positions (opt-tiny's 128 learned ones) trains without the flag instead of failing on 256.
    maxSeqLen: {
      type: 'int',
      min: 2,
      description:
        'tokens per example, prompt + completion (default: 256 or the model’s position limit if lower)',
    },
    seed: { type: 'int', default: 0, description: 'shuffling and train/eval split seed' },
    evalFraction: {
      type: 'number',
      default: 0.1,
      min: 0,
      max: 0.9,
      description: 'share held out for the eval loss',
    },
    threads: { type: 'int', default: 1, min: 1, description: 'ORT intra-op threads of the training session' },
  },
  async run(flags, ctx) {
    const { runSft } = await import('@verdict/rl');
    const s = await runSft({
      modelDir: flags.model,
      dataPath: flags.data,
      outDir: flags.out,
      epochs: flags.epochs,
      lr: flags.lr,
      batchSize: flags.batchSize,
      ...(flags.maxSeqLen !== undefined ? { maxSeqLen: flags.maxSeqLen } : {}),
      seed: flags.seed,
      evalFraction: flags.evalFraction,
      intraOpThreads: flags.threads,
      onProgress: (line) => ctx.progress(line),
    });
    return {
      out_dir: s.outDir,
      steps: s.steps,
      epochs: s.epochs,
      train_examples: s.trainExamples,
      eval_examples: s.evalExamples,
      dropped_examples: s.droppedExamples,
      train_tokens: s.trainTokens,
      final_train_loss: s.finalTrainLoss,
      eval_loss_before: s.evalLossBefore,
      eval_loss: s.evalLoss,
      tokens_per_second: s.tokensPerSecond,
      seconds: s.seconds,
    };
  },
  format: (r) => {
    const s = r as {
      out_dir: string;
      steps: number;
      eval_loss_before: number | null;
      eval_loss: number | null;
    };
    const ev =
      s.eval_loss === null ? '' : `, eval loss ${s.eval_loss_before?.toFixed(4)} → ${s.eval_loss.toFixed(4)}`;
    return `saved ${s.out_dir} after ${s.steps} steps${ev}`;
  },
});

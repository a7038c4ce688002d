import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';
import { WEIGHTS_NATS_FLAGS } from '../weights/weights-nats.js';

const DEFAULT_BUCKET = 'verdict-weights'; // = VERDICT_WEIGHTS_BUCKET of @verdict/runtime (kept literal for --help)

export default defineCommand({
  name: 'weights pull',
  summary:
    'download a model folder (or a learner checkpoint) from the NATS Object Store into a folder, atomically',
  flags: {
    nats: { type: 'string', required: true, description: 'NATS server URL(s): nats://HOST:PORT[,...]' },
    name: {
      type: 'string',
      required: true,
      description: 'a model pushed with weights push, or a learner checkpoint RUN/vN.safetensors',
    },
    version: {
      type: 'int',
      min: 1,
      description: 'learner checkpoint version: pulls NAME/vVERSION.safetensors (NAME = the run id)',
    },
    base: {
      type: 'string',
      description:
        'for checkpoints: the pushed model whose config.json and tokenizer files complete the folder',
    },
    out: {
      type: 'string',
      required: true,
      description: 'destination folder (replaced only if a pull wrote it)',
    },
    bucket: { type: 'string', default: DEFAULT_BUCKET, description: 'Object Store bucket' },
    ...WEIGHTS_NATS_FLAGS,
  },
  async run(flags, ctx) {
    const [
      { checkBucketName, checkObjectName, connectWeightsNats, formatBytes, parseNatsServers },
      { checkpointObject },
    ] = await Promise.all([import('../weights/weights-nats.js'), import('../weights/model-manifest.js')]);
    const servers = parseNatsServers(flags.nats);
    checkObjectName('name', flags.name);
    if (flags.base !== undefined) checkObjectName('base', flags.base);
    checkBucketName(flags.bucket);
    if (flags.out.trim() === '') throw new UsageError('--out must be a folder path');
    const name = flags.version !== undefined ? checkpointObject(flags.name, flags.version) : flags.name;
    if (name.endsWith('.safetensors') && flags.base === undefined) {
      throw new UsageError(
        `--name ${name} is a weights-only checkpoint: give --base NAME, a model pushed with weights push that supplies config.json and the tokenizer`,
      );
    }
    const messaging = await connectWeightsNats(servers, flags, ctx.progress);
    try {
      const { pullModel } = await import('../weights/pull-model.js');
      ctx.progress(`pulling ${flags.bucket}/${name} into ${flags.out}`);
      const r = await pullModel(messaging, {
        bucket: flags.bucket,
        name,
        ...(flags.base !== undefined ? { base: flags.base } : {}),
        out: flags.out,
        progress: ctx.progress,
      });
      ctx.progress(
        `${r.up_to_date ? 'up to date' : 'pulled'}: ${r.files.length} files, ${formatBytes(r.bytes)}`,
      );
      return { name, bucket: flags.bucket, ...r };
    } finally {
      await messaging.close();
    }
  },
  format: (r) => {
    const x = r as { name: string; out: string; files: unknown[]; bytes: number; up_to_date: boolean };
    return `${x.up_to_date ? 'already up to date' : 'pulled'} ${x.name} -> ${x.out} (${x.files.length} files, ${x.bytes} bytes)`;
  },
});

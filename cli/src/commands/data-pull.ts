import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';

export default defineCommand({
  name: 'data pull',
  summary: 'download the evaluation/training datasets into the local cache, checksum-verified',
  flags: {
    dir: {
      type: 'string',
      description: 'destination folder (default $VERDICT_CACHE_DIR/datasets or ~/.cache/verdict/datasets)',
    },
    only: {
      type: 'string',
      description: 'one dataset (gsm8k, svamp, gsm-plus, gsm-hard, mawps) or one file (gsm8k/test.jsonl)',
    },
    optional: { type: 'boolean', description: 'also pull files no reader needs (checksums unknown)' },
    mirror: {
      type: 'string',
      description: 'base URL of a mirror laid out like the data folder (<mirror>/gsm8k/test.jsonl)',
    },
  },
  async run(flags, ctx) {
    const { DATASET_SOURCES, pullDatasets } = await import('@verdict/data');
    let sources = DATASET_SOURCES;
    if (flags.only !== undefined) {
      const only = flags.only;
      sources = sources.filter((s) => s.file === only || s.file.startsWith(`${only}/`));
      if (sources.length === 0) {
        const names = [...new Set(DATASET_SOURCES.map((s) => s.file.split('/')[0]))].join(', ');
        throw new UsageError(
          `--only must name a dataset (${names}) or one of its files (got ${JSON.stringify(only)})`,
        );
      }
    }
    if (flags.mirror !== undefined) {
      let base: URL;
      try {
        base = new URL(flags.mirror.endsWith('/') ? flags.mirror : `${flags.mirror}/`);
      } catch {
        throw new UsageError(`--mirror must be an absolute URL (got ${JSON.stringify(flags.mirror)})`);
      }
      if (base.protocol !== 'http:' && base.protocol !== 'https:') {
        throw new UsageError(`--mirror must be an http(s) URL (got ${JSON.stringify(flags.mirror)})`);
      }
      // Same files and checksums, another host: a mirror cannot change what is accepted.
      sources = sources.map((s) => ({ ...s, url: new URL(s.file, base).href }));
    }
    const results = await pullDatasets({
      sources,
      ...(flags.dir !== undefined ? { cacheDir: flags.dir } : {}),
      includeOptional: flags.optional || (flags.only !== undefined && sources.every((s) => s.optional)),
      onProgress: (m) => ctx.progress(m),
    });
    const downloaded = results.filter((r) => r.status === 'downloaded').length;
    return {
      files: results.map((r) => ({
        file: r.file,
        path: r.path,
        status: r.status,
        bytes: r.bytes,
        verified: r.verified,
      })),
      downloaded,
      cached: results.length - downloaded,
    };
  },
  format: (r) => {
    const x = r as { files: { file: string; status: string }[]; downloaded: number; cached: number };
    return `${x.files.length} files: ${x.downloaded} downloaded, ${x.cached} already cached`;
  },
});

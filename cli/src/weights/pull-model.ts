import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Messaging } from '@verdict/runtime';
import { CommandFailure } from '../framework/command-failure.js';
import { UsageError } from '../framework/usage-error.js';
import {
  fileObject,
  type ManifestFile,
  type ModelManifest,
  manifestObject,
  parseManifest,
} from './model-manifest.js';
import { formatBytes } from './weights-nats.js';

/** Written into every pulled folder: what it holds, so a rerun can skip or safely replace it. */
export const PULL_MARKER = '.verdict-weights.json';

/** Files from this size on get a line when they start (and a ticker) as well as when they finish. */
const BIG_FILE_BYTES = 16 * 1024 * 1024;

export interface PullModelOptions {
  readonly bucket: string;
  /** A model folder pushed with `weights push`, or a learner checkpoint object `*.safetensors`. */
  readonly name: string;
  /** For checkpoint objects: the pushed model folder that supplies config.json and the tokenizer. */
  readonly base?: string;
  readonly out: string;
  readonly progress: (message: string) => void;
}

export interface PullModelResult {
  kind: 'folder' | 'checkpoint';
  out: string;
  files: ManifestFile[];
  bytes: number;
  up_to_date: boolean;
}

interface PlannedFile {
  path: string;
  object: string;
  /** Known for manifest files; a checkpoint's come from its object metadata (checked by getBlob). */
  size?: number;
  sha256?: string;
}

interface Marker {
  bucket: string;
  name: string;
  base?: string;
  files: ManifestFile[];
  pulled_at: string;
}

/** Turns the runtime's blob errors into one-line exit-1 failures (a missing object is not bad CLI input). */
async function fetchBlob(
  messaging: Messaging,
  bucket: string,
  object: string,
  expect: { expectedSha256?: string; expectedSize?: number },
  missing: string,
): Promise<Uint8Array> {
  try {
    return await messaging.getBlob(bucket, object, expect);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    throw new CommandFailure(code === 'NOT_FOUND' ? missing : message, { cause: e });
  }
}

async function fetchManifest(messaging: Messaging, bucket: string, name: string): Promise<ModelManifest> {
  const object = manifestObject(name);
  const bytes = await fetchBlob(
    messaging,
    bucket,
    object,
    {},
    `no model named ${JSON.stringify(name)} in bucket ${bucket} (object ${object} not found)`,
  );
  try {
    return parseManifest(bytes, `${bucket}/${object}`);
  } catch (e) {
    throw new CommandFailure((e as Error).message, { cause: e });
  }
}

function readMarker(out: string): Marker | undefined {
  try {
    return JSON.parse(readFileSync(join(out, PULL_MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

function sameFiles(a: readonly ManifestFile[], b: readonly ManifestFile[]): boolean {
  const key = (f: ManifestFile) => `${f.path}\0${f.size}\0${f.sha256}`;
  return a.length === b.length && a.map(key).sort().join('\n') === b.map(key).sort().join('\n');
}

function writeDurably(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Pulls into a temp folder next to --out and renames it into place, so a crash leaves no half
 * folder at --out. An existing --out is replaced only when it is empty or was written by a pull
 * (has the marker); when it already holds exactly the manifest's files it is left as is.
 */
export async function pullModel(messaging: Messaging, o: PullModelOptions): Promise<PullModelResult> {
  const out = resolve(o.out);
  const kind = o.name.endsWith('.safetensors') ? 'checkpoint' : 'folder';
  let plan: PlannedFile[];
  if (kind === 'folder') {
    if (o.base !== undefined)
      throw new UsageError(
        '--base applies only to checkpoint objects (--name ending in .safetensors or --version)',
      );
    const manifest = await fetchManifest(messaging, o.bucket, o.name);
    plan = manifest.files.map((f) => ({ ...f, object: fileObject(o.name, f.path) }));
  } else {
    if (o.base === undefined) {
      throw new UsageError(
        `--name ${o.name} is a weights-only checkpoint: give --base NAME, a model pushed with weights push that supplies config.json and the tokenizer`,
      );
    }
    const base = await fetchManifest(messaging, o.bucket, o.base);
    plan = [
      ...base.files
        .filter((f) => !f.path.endsWith('.safetensors') && !f.path.endsWith('.safetensors.index.json'))
        .map((f) => ({ ...f, object: fileObject(o.base!, f.path) })),
      { path: 'model.safetensors', object: o.name },
    ];
  }

  const existing = existsSync(out) ? statSync(out) : undefined;
  const marker = existing?.isDirectory() ? readMarker(out) : undefined;
  if (
    existing !== undefined &&
    !(existing.isDirectory() && (marker !== undefined || readdirSync(out).length === 0))
  ) {
    throw new UsageError(
      `--out ${o.out} exists and was not written by weights pull: remove it or choose another folder`,
    );
  }
  const known = plan.every((f) => f.sha256 !== undefined && f.size !== undefined);
  if (known && marker !== undefined && marker.bucket === o.bucket && marker.name === o.name) {
    const want = plan.map((f) => ({ path: f.path, size: f.size!, sha256: f.sha256! }));
    const present = want.every(
      (f) => existsSync(join(out, f.path)) && statSync(join(out, f.path)).size === f.size,
    );
    if (present && sameFiles(want, marker.files)) {
      o.progress(`${o.out} already holds ${o.bucket}/${o.name}`);
      return { kind, out, files: want, bytes: want.reduce((s, f) => s + f.size, 0), up_to_date: true };
    }
  }

  mkdirSync(dirname(out), { recursive: true });
  const tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.partial-`));
  try {
    const { sha256Hex } = await import('@verdict/runtime');
    const files: ManifestFile[] = [];
    for (const f of plan) {
      const label = f.object === fileObject(o.name, f.path) ? f.path : `${f.path} <- ${f.object}`;
      const big = f.size === undefined || f.size >= BIG_FILE_BYTES;
      if (big) o.progress(`  ${label}${f.size !== undefined ? ` ${formatBytes(f.size)}` : ''} ...`);
      const startedMs = Date.now();
      // getBlob holds the whole object in memory and reports no progress: a ticker keeps logs alive.
      const ticker = setInterval(
        () => o.progress(`  ${f.path}: ${Math.round((Date.now() - startedMs) / 1000)} s`),
        5_000,
      );
      ticker.unref();
      let bytes: Uint8Array;
      try {
        bytes = await fetchBlob(
          messaging,
          o.bucket,
          f.object,
          {
            ...(f.sha256 !== undefined ? { expectedSha256: f.sha256 } : {}),
            ...(f.size !== undefined ? { expectedSize: f.size } : {}),
          },
          `${f.object} not found in bucket ${o.bucket}${kind === 'checkpoint' && f.object === o.name ? ' (no such checkpoint)' : ' (listed in the manifest)'}`,
        );
      } finally {
        clearInterval(ticker);
      }
      writeDurably(join(tmp, f.path), bytes);
      const seconds = Math.max((Date.now() - startedMs) / 1000, 1e-3);
      o.progress(
        `  ${f.path} ${formatBytes(bytes.length)} verified (${formatBytes(bytes.length / seconds)}/s)`,
      );
      files.push({ path: f.path, size: bytes.length, sha256: f.sha256 ?? sha256Hex(bytes) });
    }
    const written: Marker = {
      bucket: o.bucket,
      name: o.name,
      ...(o.base !== undefined ? { base: o.base } : {}),
      files,
      pulled_at: new Date().toISOString(),
    };
    writeDurably(join(tmp, PULL_MARKER), Buffer.from(`${JSON.stringify(written, null, 2)}\n`));
    chmodSync(tmp, 0o755); // mkdtemp makes it 0700: the serving container may read as another user
    if (existing !== undefined) {
      const old = mkdtempSync(join(dirname(out), `.${basename(out)}.old-`));
      renameSync(out, join(old, 'dir'));
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, out);
    }
    return { kind, out, files, bytes: files.reduce((s, f) => s + f.size, 0), up_to_date: false };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

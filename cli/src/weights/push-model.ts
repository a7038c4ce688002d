import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Messaging } from '@verdict/runtime';
import { CommandFailure } from '../framework/command-failure.js';
import {
  fileObject,
  listModelFiles,
  MANIFEST_FORMAT,
  type ManifestFile,
  type ModelManifest,
  manifestObject,
} from './model-manifest.js';
import { formatBytes } from './weights-nats.js';

/** fs.readFileSync's limit on Node 20; the runtime's putBlob takes the bytes in memory. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

export interface PushModelOptions {
  readonly bucket: string;
  readonly name: string;
  readonly dir: string;
  readonly progress: (message: string) => void;
}

/** Uploads every file of a model folder, then the manifest (so a manifest always means complete). */
export async function pushModel(messaging: Messaging, o: PushModelOptions): Promise<ModelManifest> {
  const files = listModelFiles(o.dir);
  const tooBig = files.find((f) => f.size > MAX_FILE_BYTES);
  if (tooBig !== undefined) {
    throw new CommandFailure(
      `${tooBig.path} is ${formatBytes(tooBig.size)}: files over 2 GiB cannot be pushed yet (shard the safetensors)`,
    );
  }
  const total = files.reduce((s, f) => s + f.size, 0);
  o.progress(`pushing ${files.length} files (${formatBytes(total)}) to ${o.bucket}/${o.name}/`);
  const entries: ManifestFile[] = [];
  for (const f of files) {
    const startedMs = Date.now();
    const bytes = readFileSync(join(o.dir, f.path));
    const info = await messaging.putBlob(o.bucket, fileObject(o.name, f.path), bytes);
    const seconds = Math.max((Date.now() - startedMs) / 1000, 1e-3);
    o.progress(
      `  ${f.path} ${formatBytes(info.size)} sha256 ${info.sha256.slice(0, 12)} (${formatBytes(info.size / seconds)}/s)`,
    );
    entries.push({ path: f.path, size: info.size, sha256: info.sha256 });
  }
  const manifest: ModelManifest = {
    format: MANIFEST_FORMAT,
    name: o.name,
    files: entries,
    created_at: new Date().toISOString(),
  };
  await messaging.putBlob(
    o.bucket,
    manifestObject(o.name),
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'),
  );
  return manifest;
}

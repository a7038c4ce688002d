import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../framework/usage-error.js';

/**
 * Object layout of a model folder in the weights bucket: every file at `<name>/<file>` and, written
 * last, `<name>/.verdict-manifest.json` listing them with sizes and sha256. A reader that finds
 * the manifest therefore finds every file it names. The learner's checkpoints are single objects
 * `<run-id>/v<version>.safetensors` (sha256 in the object metadata) and have no manifest.
 */
export const MANIFEST_FILE = '.verdict-manifest.json';
export const MANIFEST_FORMAT = 'verdict.model-folder.v1';

export interface ManifestFile {
  /** File name inside the model folder. */
  path: string;
  size: number;
  sha256: string;
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  files: ManifestFile[];
  created_at: string;
}

export function manifestObject(name: string): string {
  return `${name}/${MANIFEST_FILE}`;
}

export function fileObject(name: string, path: string): string {
  return `${name}/${path}`;
}

/** The learner's object for a checkpoint version (services/learner run-controller publishWeights). */
export function checkpointObject(runId: string, version: number): string {
  return `${runId}/v${version}.safetensors`;
}

/** Parses and checks a manifest read from the bucket; a malformed one is never trusted. */
export function parseManifest(bytes: Uint8Array, where: string): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new Error(`${where} is not JSON`);
  }
  const m = raw as Partial<ModelManifest>;
  if (m.format !== MANIFEST_FORMAT || !Array.isArray(m.files) || typeof m.name !== 'string') {
    throw new Error(`${where} is not a ${MANIFEST_FORMAT} manifest`);
  }
  for (const f of m.files) {
    if (
      typeof f?.path !== 'string' ||
      !isPlainFileName(f.path) ||
      !Number.isSafeInteger(f.size) ||
      typeof f.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(f.sha256)
    ) {
      throw new Error(`${where} has a malformed file entry ${JSON.stringify(f)}`);
    }
  }
  return m as ModelManifest;
}

/** A top-level file name: no folders, not hidden (so it can never be the manifest or escape --out). */
export function isPlainFileName(name: string): boolean {
  return name !== '' && !name.startsWith('.') && !name.includes('/') && !name.includes('\\');
}

/**
 * The files of a model folder to push: every visible regular file at the top level (config.json,
 * *.safetensors, tokenizer files, chat templates...). It must hold config.json and safetensors.
 */
export function listModelFiles(dir: string): { path: string; size: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new UsageError(`--model ${dir} cannot be read: ${(e as Error).message}`);
  }
  const files = names
    .filter(isPlainFileName)
    .map((path) => ({ path, stat: statSync(join(dir, path)) }))
    .filter((f) => f.stat.isFile())
    .map((f) => ({ path: f.path, size: f.stat.size }))
    .sort((a, b) => a.path.localeCompare(b.path));
  if (!files.some((f) => f.path === 'config.json')) {
    throw new UsageError(`--model ${dir} has no config.json (not a Hugging Face model folder)`);
  }
  if (!files.some((f) => f.path.endsWith('.safetensors'))) {
    throw new UsageError(`--model ${dir} has no *.safetensors weights`);
  }
  return files;
}

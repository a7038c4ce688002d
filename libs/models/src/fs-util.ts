import { existsSync, readFileSync } from 'node:fs';
import { ModelError } from './errors.js';

/** Reads a required file; a missing file is a NOT_FOUND naming the path and what it is. */
export function readRequiredFile(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new ModelError('NOT_FOUND', `${what} not found: ${path}`);
  return readFileSync(path);
}

/** Reads and parses a required JSON file; bad JSON names the file. */
export function readJsonFile(path: string, what: string): unknown {
  const text = readRequiredFile(path, what).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ModelError('INVALID_CONFIG', `${what} is not valid JSON: ${path}: ${(e as Error).message}`);
  }
}

import { createHash } from 'node:crypto';
import type { ObjectStore, Objm } from '@nats-io/obj';
import { type ErrorCode, VerdictError } from '../errors/index.js';

export interface BlobInfo {
  bucket: string;
  name: string;
  size: number;
  /** Lower-case hex SHA-256 of the bytes, computed on our side (not the NATS digest). */
  sha256: string;
}

export interface BlobExpectations {
  expectedSha256?: string;
  expectedSize?: number;
}

export type BlobIntegrityReason = 'not-found' | 'size-mismatch' | 'checksum-mismatch' | 'corrupt-stream';

/**
 * A blob is missing or does not match what its publisher announced: never load such bytes.
 * A VerdictError: NOT_FOUND when missing, INTERNAL (our closed set's stand-in for gRPC
 * DATA_LOSS) when corrupt or truncated; `reason` tells which.
 */
export class BlobIntegrityError extends VerdictError {
  readonly reason: BlobIntegrityReason;
  readonly bucket: string;
  readonly blobName: string;
  constructor(
    reason: BlobIntegrityReason,
    bucket: string,
    blobName: string,
    message: string,
    cause?: unknown,
  ) {
    const code: ErrorCode = reason === 'not-found' ? 'NOT_FOUND' : 'INTERNAL';
    super(code, message, { details: { reason, bucket, name: blobName }, cause });
    this.name = 'BlobIntegrityError';
    this.reason = reason;
    this.bucket = bucket;
    this.blobName = blobName;
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Opens (creating when missing) object-store buckets once per connection. */
export function createBlobStore(objm: Objm): {
  putBlob(bucket: string, name: string, bytes: Uint8Array): Promise<BlobInfo>;
  getBlob(bucket: string, name: string, expect?: BlobExpectations): Promise<Uint8Array>;
} {
  const buckets = new Map<string, Promise<ObjectStore>>();
  const open = (bucket: string): Promise<ObjectStore> => {
    let store = buckets.get(bucket);
    if (store === undefined) {
      store = objm.create(bucket);
      store.catch(() => buckets.delete(bucket));
      buckets.set(bucket, store);
    }
    return store;
  };

  return {
    async putBlob(bucket, name, bytes) {
      const sha256 = sha256Hex(bytes);
      const store = await open(bucket);
      // Our hex digest travels as metadata so readers that only have the name can still verify.
      const info = await store.putBlob({ name, metadata: { sha256 } }, bytes);
      if (info.size !== bytes.length) {
        throw new VerdictError(
          'INTERNAL',
          `putBlob(${bucket}/${name}): server stored ${info.size} bytes, sent ${bytes.length}`,
        );
      }
      return { bucket, name, size: bytes.length, sha256 };
    },

    async getBlob(bucket, name, expect = {}) {
      const store = await open(bucket);
      const where = `${bucket}/${name}`;
      const result = await store.get(name);
      if (result === null) {
        throw new BlobIntegrityError('not-found', bucket, name, `blob ${where} not found`);
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      try {
        const reader = result.data.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          size += value.length;
        }
        const streamError = await result.error;
        // Resolves to undefined (not the typed null) on success in nats.js 3.4.
        if (streamError instanceof Error) throw streamError;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new BlobIntegrityError(
          'corrupt-stream',
          bucket,
          name,
          `blob ${where} is corrupt: ${message}`,
          err,
        );
      }
      const expectedSize = expect.expectedSize ?? result.info.size;
      if (size !== expectedSize) {
        throw new BlobIntegrityError(
          'size-mismatch',
          bucket,
          name,
          `blob ${where} is truncated or padded: read ${size} bytes, expected ${expectedSize}`,
        );
      }
      const bytes = Buffer.concat(chunks, size);
      const expectedSha256 = expect.expectedSha256 ?? result.info.metadata?.['sha256'];
      if (expectedSha256 !== undefined) {
        const actual = sha256Hex(bytes);
        if (actual !== expectedSha256.toLowerCase()) {
          throw new BlobIntegrityError(
            'checksum-mismatch',
            bucket,
            name,
            `blob ${where} failed its checksum: sha256 ${actual}, expected ${expectedSha256}`,
          );
        }
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  };
}

import { type BlobExpectations, type BlobInfo, BlobIntegrityError, sha256Hex } from '../blobs.js';

interface StoredBlob {
  bytes: Uint8Array;
  /** As recorded at put time (NATS keeps them in the object's info). */
  size: number;
  sha256: string;
}

export interface MemoryBlobStore {
  putBlob(bucket: string, name: string, bytes: Uint8Array): Promise<BlobInfo>;
  getBlob(bucket: string, name: string, expect?: BlobExpectations): Promise<Uint8Array>;
  /** Test hook: replaces stored bytes without touching the recorded sha256 (simulates rot). */
  corrupt(bucket: string, name: string, bytes: Uint8Array): void;
}

/** The object store: bytes copied in and out, the same size and SHA-256 checks as getBlob on NATS. */
export function createMemoryBlobStore(): MemoryBlobStore {
  const buckets = new Map<string, Map<string, StoredBlob>>();
  const bucketOf = (bucket: string): Map<string, StoredBlob> => {
    let b = buckets.get(bucket);
    if (b === undefined) {
      b = new Map();
      buckets.set(bucket, b);
    }
    return b;
  };
  return {
    async putBlob(bucket, name, bytes) {
      const sha256 = sha256Hex(bytes);
      bucketOf(bucket).set(name, { bytes: Uint8Array.from(bytes), size: bytes.length, sha256 });
      return { bucket, name, size: bytes.length, sha256 };
    },
    async getBlob(bucket, name, expect = {}) {
      const where = `${bucket}/${name}`;
      const stored = buckets.get(bucket)?.get(name);
      if (stored === undefined) {
        throw new BlobIntegrityError('not-found', bucket, name, `blob ${where} not found`);
      }
      const bytes = Uint8Array.from(stored.bytes);
      const expectedSize = expect.expectedSize ?? stored.size;
      if (bytes.length !== expectedSize) {
        throw new BlobIntegrityError(
          'size-mismatch',
          bucket,
          name,
          `blob ${where} is truncated or padded: read ${bytes.length} bytes, expected ${expectedSize}`,
        );
      }
      const expectedSha256 = expect.expectedSha256 ?? stored.sha256;
      const actual = sha256Hex(bytes);
      if (actual !== expectedSha256.toLowerCase()) {
        throw new BlobIntegrityError(
          'checksum-mismatch',
          bucket,
          name,
          `blob ${where} failed its checksum: sha256 ${actual}, expected ${expectedSha256}`,
        );
      }
      return bytes;
    },
    corrupt(bucket, name, bytes) {
      const stored = buckets.get(bucket)?.get(name);
      if (stored !== undefined) stored.bytes = Uint8Array.from(bytes);
    },
  };
}

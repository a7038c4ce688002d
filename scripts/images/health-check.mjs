#!/usr/bin/env node
// grpc.health.v1.Health/Check against HOST:PORT until SERVING or the deadline, with only
// @grpc/grpc-js (plain node, no tsx, no .proto loading): the two messages are one field each,
// so they are encoded by hand. Empty service name = the server's overall health, the same call
// a Kubernetes gRPC probe makes.
//   node scripts/images/health-check.mjs HOST:PORT [--timeout-ms 60000] [--service NAME]
// Prints one JSON line {target, status, elapsedMs}; exit 0 only when SERVING.
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';

const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** HealthCheckRequest { string service = 1; } */
export function encodeHealthRequest(service) {
  const name = Buffer.from(service, 'utf8');
  if (name.length === 0) return Buffer.alloc(0);
  if (name.length > 127) throw new Error('service name too long for this tiny encoder');
  return Buffer.concat([Buffer.from([0x0a, name.length]), name]);
}

/** HealthCheckResponse { ServingStatus status = 1; } (a missing field is 0 = UNKNOWN). */
export function decodeHealthResponse(buf) {
  let status = 0;
  let i = 0;
  while (i < buf.length) {
    const key = buf[i++];
    if (key === 0x08) {
      let value = 0;
      let shift = 0;
      let byte;
      do {
        byte = buf[i++];
        value |= (byte & 0x7f) << shift;
        shift += 7;
      } while (byte & 0x80);
      status = value;
    } else {
      throw new Error(`unexpected field key 0x${key.toString(16)} in HealthCheckResponse`);
    }
  }
  return STATUS[status] ?? `STATUS_${status}`;
}

function checkOnce(client, service, deadlineMs) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      encodeHealthRequest,
      decodeHealthResponse,
      service,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, status) => resolve(err ? `ERROR(${grpc.status[err.code] ?? err.code}: ${err.details})` : status),
    );
  });
}

/** Polls until SERVING or timeoutMs; returns the last status seen. */
export async function waitForServing(target, { timeoutMs = 60_000, service = '' } = {}) {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const t0 = Date.now();
  let status = 'UNKNOWN';
  try {
    while (Date.now() - t0 < timeoutMs) {
      status = await checkOnce(client, service, 2_000);
      if (status === 'SERVING') break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    client.close();
  }
  return { target, status, elapsedMs: Date.now() - t0 };
}

if (process.argv[1] && resolvePath(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const target = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a) && a.includes(':'));
  const flag = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (!target) {
    process.stderr.write('usage: health-check.mjs HOST:PORT [--timeout-ms N] [--service NAME]\n');
    process.exit(2);
  }
  const result = await waitForServing(target, {
    timeoutMs: Number(flag('--timeout-ms') ?? 60_000),
    service: flag('--service') ?? '',
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(result.status === 'SERVING' ? 0 : 1);
}

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { SpanKind, trace } from '@opentelemetry/api';
import { health } from '@verdict/proto';
import {
  createInMemorySpanExporter,
  createTracingClientInterceptor,
  createTracingServerInterceptor,
  getTracer,
  startTelemetry,
  type Telemetry,
  withConsumerSpan,
  withProducerSpan,
} from '../src/telemetry/index.js';

// Acceptance: one gRPC call whose handler publishes to JetStream, and a consumer that
// processes the message, produce client → server → publish → process spans in ONE trace
// with the right parent links. Real gRPC server on port 0, real nats-server.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startNats(): Promise<{ url: string; stop(): Promise<void> }> {
  const storeDir = mkdtempSync(join(tmpdir(), 'verdict-telemetry-nats-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/sbin/nats-server',
    ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.includes('Server is ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${log}`)));
  });
  child.stderr?.resume();
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

const exporter = createInMemorySpanExporter();
let telemetry: Telemetry;
let nats: { url: string; stop(): Promise<void> };
let nc: NatsConnection;

before(async () => {
  telemetry = await startTelemetry({ serviceName: 'telemetry-test', traceExporter: exporter });
  assert.equal(telemetry.enabled, true);
  nats = await startNats();
  nc = await connect({ servers: nats.url });
});

after(async () => {
  await nc?.close();
  await nats?.stop();
  await telemetry?.shutdown();
});

test('gRPC call + JetStream publish/consume share one trace with parent links', async () => {
  const subject = 'telemetry.work';
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'TELEMETRY', subjects: ['telemetry.>'] });
  await jsm.consumers.add('TELEMETRY', { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc);

  // Server: the handler publishes through a producer span; its headers carry the context.
  const server = new grpc.Server({ interceptors: [createTracingServerInterceptor()] });
  server.addService(health.HealthService, {
    check(
      _call: grpc.ServerUnaryCall<health.HealthCheckRequest, health.HealthCheckResponse>,
      callback: grpc.sendUnaryData<health.HealthCheckResponse>,
    ) {
      // An async hop before publishing: the server span must survive it.
      void (async () => {
        await new Promise((resolve) => setImmediate(resolve));
        const h = natsHeaders();
        await withProducerSpan(subject, () => js.publish(subject, 'work', { headers: h }), { headers: h });
        callback(null, { status: health.HealthCheckResponse_ServingStatus.SERVING });
      })().catch((err: unknown) => callback(err as grpc.ServiceError));
    },
    watch(call: grpc.ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>) {
      call.end();
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const client = new health.HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    interceptors: [createTracingClientInterceptor()],
  });

  try {
    // Caller: an app span around the call, to check the client span picks up the active context.
    const response = await getTracer('test').startActiveSpan('caller', async (span) => {
      try {
        return await new Promise<health.HealthCheckResponse>((resolve, reject) =>
          client.check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res))),
        );
      } finally {
        span.end();
      }
    });
    assert.equal(response.status, health.HealthCheckResponse_ServingStatus.SERVING);

    // Consumer: one message, processed inside a consumer span with a child span of its own.
    const consumer = await js.consumers.get('TELEMETRY', 'worker');
    const batch = await consumer.fetch({ max_messages: 1, expires: 5_000 });
    let processed = 0;
    for await (const m of batch) {
      await withConsumerSpan(m, async () => {
        getTracer('test').startSpan('handle').end();
        processed++;
      });
      m.ack();
    }
    assert.equal(processed, 1);
  } finally {
    client.close();
    server.forceShutdown();
  }

  const spans = exporter.getFinishedSpans();
  const byName = (name: string) => {
    const found = spans.filter((s) => s.name === name);
    assert.equal(found.length, 1, `exactly one '${name}' span in ${spans.map((s) => s.name).join(', ')}`);
    return found[0]!;
  };
  const caller = byName('caller');
  // Client and server spans share the RPC name (`service/method`); kind tells them apart.
  const rpcSpans = spans.filter((s) => s.name === 'grpc.health.v1.Health/Check');
  assert.deepEqual(rpcSpans.map((s) => s.kind).sort(), [SpanKind.SERVER, SpanKind.CLIENT].sort());
  const clientSpan = rpcSpans.find((s) => s.kind === SpanKind.CLIENT)!;
  const serverSpan = rpcSpans.find((s) => s.kind === SpanKind.SERVER)!;
  const publish = byName(`publish ${subject}`);
  const process = byName(`process ${subject}`);
  const handle = byName('handle');

  assert.equal(publish.kind, SpanKind.PRODUCER);
  assert.equal(process.kind, SpanKind.CONSUMER);

  const traceId = caller.spanContext().traceId;
  for (const s of [clientSpan, serverSpan, publish, process, handle]) {
    assert.equal(s.spanContext().traceId, traceId, `${s.name} is in the caller's trace`);
  }
  const parentOf = (s: (typeof spans)[number]) => s.parentSpanContext?.spanId;
  assert.equal(parentOf(caller), undefined);
  assert.equal(parentOf(clientSpan), caller.spanContext().spanId);
  assert.equal(parentOf(serverSpan), clientSpan.spanContext().spanId);
  assert.equal(parentOf(publish), serverSpan.spanContext().spanId);
  assert.equal(parentOf(process), publish.spanContext().spanId);
  assert.equal(parentOf(handle), process.spanContext().spanId);
  assert.equal(serverSpan.parentSpanContext?.isRemote, true);
  assert.equal(process.parentSpanContext?.isRemote, true);

  assert.equal(serverSpan.attributes['rpc.system'], 'grpc');
  assert.equal(serverSpan.attributes['rpc.service'], 'grpc.health.v1.Health');
  assert.equal(serverSpan.attributes['rpc.method'], 'Check');
  assert.equal(serverSpan.attributes['rpc.grpc.status_code'], grpc.status.OK);
  assert.equal(clientSpan.attributes['rpc.grpc.status_code'], grpc.status.OK);
  assert.equal(process.attributes['messaging.destination.name'], subject);
  assert.equal(process.attributes['messaging.nats.stream_sequence'], 1);
  assert.equal(caller.resource.attributes['service.name'], 'telemetry-test');
  // Nothing is left active outside the spans.
  assert.equal(trace.getActiveSpan(), undefined);
});

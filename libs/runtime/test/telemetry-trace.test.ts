import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { health } from '@verdict/proto';
import { connectNats, type Messaging } from '../src/messaging/index.js';
import {
  createInMemorySpanExporter,
  createTracingClientInterceptor,
  createTracingServerInterceptor,
  type FinishedSpan,
  getTracer,
  natsTraceHooks,
  startTelemetry,
  type Telemetry,
  withConsumerSpan,
  withProducerSpan,
} from '../src/telemetry/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

// Acceptance: one gRPC call whose handler publishes to JetStream, and a consumer that
// processes the message, produce client → server → publish → process spans in ONE trace
// with the right parent links. Real gRPC server on port 0, real nats-server (the runtime's
// harness), the runtime's messaging module with the telemetry header hooks installed.

const exporter = createInMemorySpanExporter();
let telemetry: Telemetry;
let nats: NatsServerHandle;
let messaging: Messaging;

before(async () => {
  telemetry = await startTelemetry({
    serviceName: 'telemetry-test',
    resourceAttributes: { 'deployment.environment.name': 'test' },
    traceExporter: exporter,
  });
  assert.equal(telemetry.enabled, true);
  nats = await startNatsServer();
  messaging = await connectNats({ servers: nats.url, name: 'telemetry-test', headerHooks: natsTraceHooks });
});

after(async () => {
  await messaging?.close();
  await nats?.stop();
  await telemetry?.shutdown();
});

/** A gRPC health server whose Check handler runs `work` (after an async hop) before answering. */
async function startServer(
  work: () => Promise<void>,
): Promise<{ client: health.HealthClient; stop(): void }> {
  const server = new grpc.Server({ interceptors: [createTracingServerInterceptor()] });
  server.addService(health.HealthService, {
    check(
      _call: grpc.ServerUnaryCall<health.HealthCheckRequest, health.HealthCheckResponse>,
      callback: grpc.sendUnaryData<health.HealthCheckResponse>,
    ) {
      void (async () => {
        // An async hop before the work: the server span must stay active across it.
        await new Promise((resolve) => setImmediate(resolve));
        await work();
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
  return {
    client,
    stop() {
      client.close();
      server.forceShutdown();
    },
  };
}

/** Calls Check inside an app span named `caller`. */
function callInsideSpan(client: health.HealthClient): Promise<health.HealthCheckResponse> {
  return getTracer('test').startActiveSpan('caller', async (span) => {
    try {
      return await new Promise<health.HealthCheckResponse>((resolve, reject) =>
        client.check({ service: '' }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    } finally {
      span.end();
    }
  });
}

/** Asserts caller → client → server → publish → process → handle, one trace; returns the spans. */
function assertOneTrace(spans: FinishedSpan[], subject: string): void {
  const traceIds = new Set(spans.map((s) => s.spanContext().traceId));
  const byName = (name: string): FinishedSpan => {
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

  assert.deepEqual([...traceIds], [caller.spanContext().traceId], 'all spans share one trace id');
  const parentOf = (s: FinishedSpan) => s.parentSpanContext?.spanId;
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
  assert.equal(caller.resource.attributes['deployment.environment.name'], 'test');
  assert.equal(typeof caller.resource.attributes['service.instance.id'], 'string');
}

test('gRPC call + messaging publish/consume (header hooks) share one trace with parent links', async () => {
  exporter.reset();
  const subject = 'traced.work';
  await messaging.ensureStream({ name: 'TRACED', subjects: ['traced.>'] });
  await messaging.ensureConsumer({ stream: 'TRACED', name: 'worker' });
  const { client, stop } = await startServer(async () => {
    // natsTraceHooks.tracePublish opens the PRODUCER span; the headers carry it.
    await messaging.publish(subject, 'work');
  });
  try {
    const response = await callInsideSpan(client);
    assert.equal(response.status, health.HealthCheckResponse_ServingStatus.SERVING);

    const controller = new AbortController();
    let processed = 0;
    const stats = await messaging.consume({
      stream: 'TRACED',
      consumer: 'worker',
      signal: controller.signal,
      fetchExpiresMs: 1_000,
      // natsTraceHooks.traceConsume runs the handler inside the CONSUMER span.
      handler: async () => {
        getTracer('test').startSpan('handle').end();
        processed++;
        controller.abort();
        return 'ack' as const;
      },
    });
    assert.equal(processed, 1);
    assert.equal(stats.acked, 1);
  } finally {
    stop();
  }
  assertOneTrace(exporter.getFinishedSpans(), subject);
  // Nothing is left active outside the spans.
  assert.equal(trace.getActiveSpan(), undefined);
});

test('raw JetStream with explicit headers: same trace shape', async () => {
  exporter.reset();
  const subject = 'raw.work';
  await messaging.ensureStream({ name: 'RAW', subjects: ['raw.>'] });
  await messaging.ensureConsumer({ stream: 'RAW', name: 'worker' });
  const js = messaging.jetstream;
  const { client, stop } = await startServer(async () => {
    const h = natsHeaders();
    await withProducerSpan(subject, () => js.publish(subject, 'work', { headers: h }), { headers: h });
  });
  try {
    await callInsideSpan(client);
    const consumer = await js.consumers.get('RAW', 'worker');
    const batch = await consumer.fetch({ max_messages: 1, expires: 5_000 });
    for await (const m of batch) {
      await withConsumerSpan(m, async () => getTracer('test').startSpan('handle').end());
      m.ack();
    }
  } finally {
    stop();
  }
  assertOneTrace(exporter.getFinishedSpans(), subject);
});

test('a failing call marks both RPC spans with the status code', async () => {
  exporter.reset();
  const { client, stop } = await startServer(async () => {
    throw Object.assign(new Error('no such model'), { code: grpc.status.NOT_FOUND });
  });
  try {
    await assert.rejects(
      callInsideSpan(client),
      (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND,
    );
  } finally {
    stop();
  }
  const rpcSpans = exporter.getFinishedSpans().filter((s) => s.name === 'grpc.health.v1.Health/Check');
  assert.equal(rpcSpans.length, 2);
  for (const s of rpcSpans) {
    assert.equal(s.attributes['rpc.grpc.status_code'], grpc.status.NOT_FOUND);
    assert.equal(s.status.code, SpanStatusCode.ERROR);
    assert.match(s.status.message ?? '', /NOT_FOUND: no such model/);
  }
});

test('a server-streaming handler runs inside the server span', async () => {
  exporter.reset();
  const server = new grpc.Server({ interceptors: [createTracingServerInterceptor()] });
  server.addService(health.HealthService, {
    check(
      _call: grpc.ServerUnaryCall<health.HealthCheckRequest, health.HealthCheckResponse>,
      callback: grpc.sendUnaryData<health.HealthCheckResponse>,
    ) {
      callback(null, { status: health.HealthCheckResponse_ServingStatus.SERVING });
    },
    watch(call: grpc.ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>) {
      void (async () => {
        for (let i = 0; i < 3; i++) {
          await new Promise((resolve) => setImmediate(resolve));
          getTracer('test').startSpan(`write ${i}`).end();
          call.write({ status: health.HealthCheckResponse_ServingStatus.SERVING });
        }
        call.end();
      })();
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
    const received = await new Promise<number>((resolve, reject) => {
      let n = 0;
      const stream = client.watch({ service: '' });
      stream.on('data', () => n++);
      stream.on('error', reject);
      stream.on('end', () => resolve(n));
    });
    assert.equal(received, 3);
  } finally {
    client.close();
    server.forceShutdown();
  }
  const spans = exporter.getFinishedSpans();
  const serverSpan = spans.find(
    (s) => s.kind === SpanKind.SERVER && s.name === 'grpc.health.v1.Health/Watch',
  );
  const clientSpan = spans.find(
    (s) => s.kind === SpanKind.CLIENT && s.name === 'grpc.health.v1.Health/Watch',
  );
  assert.ok(serverSpan && clientSpan, spans.map((s) => `${s.name}/${s.kind}`).join(', '));
  assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
  const writes = spans.filter((s) => s.name.startsWith('write '));
  assert.equal(writes.length, 3);
  for (const w of writes) assert.equal(w.parentSpanContext?.spanId, serverSpan.spanContext().spanId);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { judgeV1 } from '@verdict/proto';
import { bidi, createGrpcClient, createGrpcServer, unary } from '../src/grpc/index.js';
import { silentLogger } from '../src/lifecycle/index.js';
import {
  createGrpcMetricsObserver,
  createInMemorySpanExporter,
  createTracingClientInterceptor,
  createTracingServerInterceptor,
  getTracer,
  startTelemetry,
} from '../src/telemetry/index.js';

// The tracing interceptors plugged into the runtime's own gRPC kit (createGrpcServer's
// `interceptors`/`observers`, createGrpcClient's `interceptors`), with its handler adapters:
// an async unary handler runs inside the SERVER span. (Streaming handlers are covered with
// plain grpc-js in telemetry-trace.test.ts.)

test('runtime gRPC kit: spans link client → server → handler work, async unary handler', async () => {
  const exporter = createInMemorySpanExporter();
  const telemetry = await startTelemetry({
    serviceName: 'grpc-kit',
    traceExporter: exporter,
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
  });
  const server = createGrpcServer({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    interceptors: [createTracingServerInterceptor()],
    observers: [createGrpcMetricsObserver()],
  });
  server.addService(judgeV1.JudgeServiceService, {
    judgeBatch: unary<judgeV1.JudgeBatchRequest, judgeV1.JudgeBatchResponse>(async (request) => {
      await new Promise((resolve) => setImmediate(resolve));
      getTracer('test').startSpan('batch work').end();
      return { results: request.items.map((item) => judgeV1.JudgeResult.fromPartial({ id: item.id })) };
    }),
    judgeStream: bidi<judgeV1.JudgeStreamRequest, judgeV1.JudgeStreamResponse>(async function* (requests) {
      for await (const r of requests) {
        getTracer('test')
          .startSpan(`stream work ${r.item?.id ?? ''}`)
          .end();
        yield { result: judgeV1.JudgeResult.fromPartial({ id: r.item?.id ?? '' }) };
      }
    }),
  });
  await server.start();
  const client = createGrpcClient(judgeV1.JudgeServiceClient, server.address, {
    interceptors: [createTracingClientInterceptor()],
  });
  try {
    const batch = await client.unary('judgeBatch', { items: [judgeV1.JudgeItem.fromPartial({ id: 'a' })] });
    assert.equal(batch.results[0]?.id, 'a');
    const spans = exporter.getFinishedSpans();
    const find = (name: string, kind?: SpanKind) => {
      const s = spans.find((x) => x.name === name && (kind === undefined || x.kind === kind));
      assert.ok(s, `span ${name} in ${spans.map((x) => x.name).join(', ')}`);
      return s;
    };
    for (const [method, work] of [['JudgeBatch', ['batch work']]] as const) {
      const name = `verdict.judge.v1.JudgeService/${method}`;
      const clientSpan = find(name, SpanKind.CLIENT);
      const serverSpan = find(name, SpanKind.SERVER);
      assert.equal(serverSpan.spanContext().traceId, clientSpan.spanContext().traceId);
      assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
      for (const w of work) assert.equal(find(w).parentSpanContext?.spanId, serverSpan.spanContext().spanId);
    }
    const scrape = await (await fetch(`http://127.0.0.1:${telemetry.prometheusPort}/metrics`)).text();
    assert.match(scrape, /^rpc_server_duration_ms_count\{[^}]*rpc_method="JudgeBatch"[^}]*\} 1\b/m);
  } finally {
    client.close();
    await server.stop();
    await telemetry.shutdown();
  }
});

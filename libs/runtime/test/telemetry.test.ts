import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import {
  createGrpcMetricsObserver,
  createInMemorySpanExporter,
  createMetrics,
  extractTraceContext,
  getTraceLogFields,
  getTracer,
  injectTraceHeaders,
  natsTraceHooks,
  startTelemetry,
  type TelemetryLogger,
  withProducerSpan,
} from '../src/telemetry/index.js';

function capturingLogger(): TelemetryLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (message, fields) =>
      lines.push(fields === undefined ? message : `${message} ${JSON.stringify(fields)}`),
  };
}

/** A port nobody listens on: bound, then closed. */
function closedPort(): Promise<number> {
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

test('an unreachable OTLP endpoint neither throws nor stops the app, and is logged once', async () => {
  const logger = capturingLogger();
  const port = await closedPort();
  const telemetry = await startTelemetry({
    serviceName: 'unreachable-otlp',
    otlpEndpoint: `http://127.0.0.1:${port}`,
    exportTimeoutMs: 1_000,
    shutdownTimeoutMs: 3_000,
    logger,
  });
  assert.equal(telemetry.enabled, true);
  const counter = createMetrics(telemetry.meter).counter('work_items_total', 'items done');
  for (let round = 0; round < 3; round++) {
    getTracer('app').startActiveSpan(`work ${round}`, (span) => span.end());
    counter.add(1);
    await telemetry.forceFlush(); // resolves although every export fails
  }
  const counts = telemetry.failureCounts();
  assert.ok((counts['trace export'] ?? 0) >= 3, `trace exports failed: ${JSON.stringify(counts)}`);
  assert.ok((counts['metric export'] ?? 0) >= 1, `metric exports failed: ${JSON.stringify(counts)}`);
  const traceWarnings = logger.lines.filter((l) => l.startsWith('trace export failed'));
  assert.equal(traceWarnings.length, 1, `one warning per outage, got: ${logger.lines.join(' | ')}`);
  await telemetry.shutdown();
  // The process goes on: a new telemetry can start after shutdown.
  const again = await startTelemetry({ serviceName: 'after', logger });
  assert.equal(again.enabled, true);
  await again.shutdown();
});

test('bootstrap failure gives a warning and a no-op telemetry, never a throw', async () => {
  const logger = capturingLogger();
  const telemetry = await startTelemetry({ serviceName: 'bad', samplerRatio: 2, logger });
  assert.equal(telemetry.enabled, false);
  assert.match(logger.lines.join('\n'), /bootstrap failed/);
  assert.match(logger.lines.join('\n'), /samplerRatio/);
  // The no-op pieces are usable.
  telemetry.tracer.startSpan('ignored').end();
  telemetry.meter.createCounter('ignored_total').add(1);
  await telemetry.shutdown();

  // A busy Prometheus port is a bootstrap failure too, not a crash.
  const first = await startTelemetry({ serviceName: 'prom', prometheusPort: 0, prometheusHost: '127.0.0.1' });
  assert.ok(first.prometheusPort !== undefined && first.prometheusPort > 0);
  await first.shutdown();
  const blocker = createServer();
  const busyPort = await new Promise<number>((resolve) =>
    blocker.listen(0, '127.0.0.1', () => {
      const address = blocker.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    }),
  );
  const busy = await startTelemetry({
    serviceName: 'prom-busy',
    prometheusPort: busyPort,
    prometheusHost: '127.0.0.1',
    logger,
  });
  assert.equal(busy.enabled, false);
  assert.match(logger.lines.at(-1) ?? '', /bootstrap failed/);
  await new Promise((resolve) => blocker.close(resolve));
  // And a failed bootstrap left no globals behind: a normal start works.
  const ok = await startTelemetry({ serviceName: 'ok', traceExporter: createInMemorySpanExporter() });
  assert.equal(ok.enabled, true);
  await ok.shutdown();
});

test('Prometheus endpoint on port 0 serves recorded metrics on GET /metrics', async () => {
  const telemetry = await startTelemetry({
    serviceName: 'prom-test',
    serviceVersion: '1.2.3',
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
  });
  try {
    const port = telemetry.prometheusPort;
    assert.ok(port !== undefined && port > 0, 'bound port reported');
    const m = createMetrics(telemetry.meter);
    m.counter('rollouts_scored_total', 'scored rollouts').add(3, { outcome: 'ok' });
    const latency = m.histogram('judge_latency_ms', 'judge call latency');
    latency.record(12);
    latency.record(70);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /^rollouts_scored_total\{outcome="ok"[^}]*\} 3\b/m);
    assert.match(body, /^judge_latency_ms_count\{[^}]*\} 2\b/m);
    assert.match(body, /^judge_latency_ms_sum\{[^}]*\} 82\b/m);
    assert.match(body, /^judge_latency_ms_bucket\{[^}]*le="25"[^}]*\} 1\b/m);
    assert.match(body, /# UNIT judge_latency_ms ms/);
    // The gRPC server's call-observer hook records RPC durations.
    const observer = createGrpcMetricsObserver();
    observer
      .onCallStart({ method: '/verdict.judge.v1.JudgeService/Judge' })
      .onCallEnd({ code: 5, durationMs: 3 });
    const after = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(
      after,
      /^rpc_server_duration_ms_count\{[^}]*rpc_method="Judge"[^}]*rpc_grpc_status_code="NOT_FOUND"[^}]*\} 1\b/m,
    );
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  } finally {
    await telemetry.shutdown();
  }
});

test('metric names must be snake_case and carry their unit', () => {
  const m = createMetrics();
  assert.throws(() => m.counter('rollouts_scored', 'x'), /must end with '_total'/);
  assert.throws(() => m.counter('Rollouts_total', 'x'), /snake_case/);
  assert.throws(() => m.histogram('judge_latency', 'x'), /must end with its unit/);
  assert.throws(() => m.upDownCounter('queue_depth', 'x'), /must end with its unit/);
  m.histogram('weights_upload_seconds', 'x');
  m.upDownCounter('queue_depth_items', 'x');
});

test('W3C headers round-trip through NATS MsgHdrs and plain records', async () => {
  const telemetry = await startTelemetry({
    serviceName: 'prop',
    traceExporter: createInMemorySpanExporter(),
  });
  try {
    await getTracer('test').startActiveSpan('parent', async (span) => {
      const { traceId, spanId } = span.spanContext();
      const hdrs = natsHeaders();
      injectTraceHeaders(hdrs);
      assert.match(hdrs.get('traceparent'), new RegExp(`^00-${traceId}-${spanId}-01$`));
      const record: Record<string, string> = {};
      injectTraceHeaders(record);
      for (const carrier of [hdrs, record]) {
        const extracted = trace.getSpanContext(extractTraceContext(carrier));
        assert.equal(extracted?.traceId, traceId);
        assert.equal(extracted?.spanId, spanId);
        assert.equal(extracted?.isRemote, true);
      }
      // The messaging hook injects the active context: inside a producer span, that span.
      const viaHook: Record<string, string> = {};
      let producerSpanId = '';
      await withProducerSpan('s.x', (producer) => {
        producerSpanId = producer.spanContext().spanId;
        natsTraceHooks.injectHeaders(viaHook);
      });
      assert.equal(trace.getSpanContext(natsTraceHooks.extractContext(viaHook))?.spanId, producerSpanId);
      span.end();
    });
    // Missing or malformed headers: a fresh root, no throw.
    assert.equal(extractTraceContext({}), ROOT_CONTEXT);
    assert.equal(trace.getSpanContext(extractTraceContext({ traceparent: 'garbage' })), undefined);
    assert.equal(extractTraceContext(undefined), ROOT_CONTEXT);
    // runInContext makes the extracted context active for the handler.
    const remote = extractTraceContext({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` });
    const seen = await natsTraceHooks.runInContext(remote, async () =>
      trace.getSpanContext(context.active()),
    );
    assert.equal(seen?.traceId, 'a'.repeat(32));
  } finally {
    await telemetry.shutdown();
  }
});

test('samplerRatio 0 drops new traces but children follow a sampled parent', async () => {
  const exporter = createInMemorySpanExporter();
  const telemetry = await startTelemetry({
    serviceName: 'sampling',
    traceExporter: exporter,
    samplerRatio: 0,
  });
  try {
    getTracer('t').startSpan('root-dropped').end();
    const sampledParent = extractTraceContext({ traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` });
    getTracer('t').startSpan('child-kept', {}, sampledParent).end();
    assert.deepEqual(
      exporter.getFinishedSpans().map((s) => s.name),
      ['child-kept'],
    );
  } finally {
    await telemetry.shutdown();
  }
});

test('natsTraceHooks.tracePublish/traceConsume make producer → consumer spans; log fields follow', async () => {
  const exporter = createInMemorySpanExporter();
  const telemetry = await startTelemetry({ serviceName: 'hooks', traceExporter: exporter });
  try {
    assert.deepEqual(getTraceLogFields(), {});
    const carried: Record<string, string> = {};
    await natsTraceHooks.tracePublish('s.hook', async () => {
      natsTraceHooks.injectHeaders(carried); // what the messaging publish does inside
    });
    let fields: ReturnType<typeof getTraceLogFields> = {};
    await natsTraceHooks.traceConsume(
      { subject: 's.hook', headers: carried, streamSequence: 7 },
      async () => {
        fields = getTraceLogFields();
      },
    );
    const [producer, consumer] = exporter.getFinishedSpans();
    assert.equal(producer?.name, 'publish s.hook');
    assert.equal(consumer?.name, 'process s.hook');
    assert.equal(consumer?.parentSpanContext?.spanId, producer?.spanContext().spanId);
    assert.equal(consumer?.attributes['messaging.nats.stream_sequence'], 7);
    assert.deepEqual(fields, {
      trace_id: consumer?.spanContext().traceId,
      span_id: consumer?.spanContext().spanId,
    });
  } finally {
    await telemetry.shutdown();
  }
});

// Conformance, part 3: W3C trace context rides in message headers on both transports, so a
// publish (PRODUCER span) and the handler run (CONSUMER span) join one trace via natsTraceHooks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { connectMessaging, disposeInMemoryBroker, type Messaging } from '../src/messaging/index.js';
import {
  createInMemorySpanExporter,
  getTracer,
  natsTraceHooks,
  startTelemetry,
  type Telemetry,
} from '../src/telemetry/index.js';
import { type NatsServerHandle, startNatsServer } from '../src/testing/index.js';

const exporter = createInMemorySpanExporter();
let telemetry: Telemetry;
let nats: NatsServerHandle;
const BROKER = `conformance-trace-${process.pid}`;

before(async () => {
  telemetry = await startTelemetry({ serviceName: 'conformance-trace', traceExporter: exporter });
  nats = await startNatsServer();
});

after(async () => {
  disposeInMemoryBroker(BROKER);
  await nats?.stop();
  await telemetry?.shutdown();
});

for (const transport of ['nats', 'memory'] as const) {
  describe(`messaging conformance (trace): ${transport}`, () => {
    let m: Messaging;
    before(async () => {
      const servers = transport === 'nats' ? nats.url : `mem://${BROKER}`;
      m = await connectMessaging({ servers, name: 'trace', headerHooks: natsTraceHooks });
    });
    after(() => m?.close());

    it('publish → process → handle share one trace with parent links', async () => {
      exporter.reset();
      const subject = `trace${transport}.work`;
      await m.ensureStream({ name: `TRACE_${transport.toUpperCase()}`, subjects: [`trace${transport}.>`] });
      await m.ensureConsumer({ stream: `TRACE_${transport.toUpperCase()}`, name: 'worker' });
      await getTracer('test').startActiveSpan('caller', async (span) => {
        try {
          await m.publish(subject, 'work');
        } finally {
          span.end();
        }
      });
      const stop = new AbortController();
      const stats = await m.consume({
        stream: `TRACE_${transport.toUpperCase()}`,
        consumer: 'worker',
        fetchExpiresMs: 1_000,
        signal: stop.signal,
        handler: async () => {
          getTracer('test').startSpan('handle').end();
          stop.abort();
          return 'ack' as const;
        },
      });
      assert.equal(stats.acked, 1);
      const spans = exporter.getFinishedSpans();
      const one = (name: string) => {
        const found = spans.filter((s) => s.name === name);
        assert.equal(found.length, 1, `one '${name}' in ${spans.map((s) => s.name).join(', ')}`);
        return found[0]!;
      };
      const caller = one('caller');
      const publish = one(`publish ${subject}`);
      const processSpan = one(`process ${subject}`);
      const handle = one('handle');
      assert.equal(publish.kind, SpanKind.PRODUCER);
      assert.equal(processSpan.kind, SpanKind.CONSUMER);
      assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);
      assert.equal(publish.parentSpanContext?.spanId, caller.spanContext().spanId);
      assert.equal(processSpan.parentSpanContext?.spanId, publish.spanContext().spanId);
      assert.equal(processSpan.parentSpanContext?.isRemote, true);
      assert.equal(handle.parentSpanContext?.spanId, processSpan.spanContext().spanId);
      assert.equal(processSpan.attributes['messaging.nats.stream_sequence'], 1);
    });
  });
}

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { createLifecycle, type LifecycleComponent, type LifecycleState } from '../src/index.js';

function recorder(events: string[], name: string, stop?: LifecycleComponent['stop']): LifecycleComponent {
  return {
    name,
    start: () => {
      events.push(`start ${name}`);
    },
    stop:
      stop ??
      (async () => {
        await new Promise((resolve) => setImmediate(resolve));
        events.push(`stop ${name}`);
      }),
  };
}

describe('Lifecycle', () => {
  it('starts in order, drains in reverse order and reports state changes', async () => {
    const events: string[] = [];
    const states: Array<[LifecycleState, LifecycleState]> = [];
    const lifecycle = createLifecycle({ graceTimeoutMs: 5_000 });
    lifecycle.onStateChange((state, previous) => states.push([state, previous]));
    lifecycle
      .register(recorder(events, 'nats'))
      .register(recorder(events, 'model'))
      .register(recorder(events, 'grpc'));
    lifecycle.onShutdown('flush', () => {
      events.push('stop flush');
    });
    assert.equal(lifecycle.state, 'STARTING');
    await lifecycle.start();
    assert.equal(lifecycle.state, 'SERVING');
    const report = await lifecycle.stop();
    assert.deepEqual(events, [
      'start nats',
      'start model',
      'start grpc',
      'stop flush',
      'stop grpc',
      'stop model',
      'stop nats',
    ]);
    assert.deepEqual(report.stopped, ['flush', 'grpc', 'model', 'nats']);
    assert.deepEqual(report.abandoned, []);
    assert.equal(report.state, 'STOPPED');
    assert.deepEqual(states, [
      ['SERVING', 'STARTING'],
      ['DRAINING', 'SERVING'],
      ['STOPPED', 'DRAINING'],
    ]);
  });

  it('stop() is idempotent: one drain, one report', async () => {
    let stops = 0;
    const lifecycle = createLifecycle().onShutdown('x', () => {
      stops += 1;
    });
    await lifecycle.start();
    const [a, b] = await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    const c = await lifecycle.stop('again');
    assert.equal(stops, 1);
    assert.equal(a, b);
    assert.equal(a, c);
    assert.equal(await lifecycle.whenStopped(), a);
  });

  it('abandons work still running at the grace timeout and reports it', async () => {
    const events: string[] = [];
    let sawAbort = false;
    const lifecycle = createLifecycle({ graceTimeoutMs: 50 });
    lifecycle.register(recorder(events, 'first'));
    lifecycle.register(
      recorder(events, 'stuck', (ctx) => {
        ctx.signal.addEventListener('abort', () => {
          sawAbort = true;
        });
        return new Promise<void>(() => {}); // never finishes on its own
      }),
    );
    lifecycle.register(recorder(events, 'last'));
    await lifecycle.start();
    const report = await lifecycle.stop();
    assert.deepEqual(report.stopped, ['last']);
    assert.deepEqual(report.abandoned, ['stuck', 'first']);
    assert.equal(report.state, 'FAILED');
    assert.equal(lifecycle.state, 'FAILED');
    assert.ok(sawAbort, 'the stuck component was told through its AbortSignal');
    assert.deepEqual(events, ['start first', 'start stuck', 'start last', 'stop last']);
  });

  it('a failing start stops what was started, in reverse, and ends FAILED', async () => {
    const events: string[] = [];
    const lifecycle = createLifecycle();
    lifecycle.register(recorder(events, 'a')).register(recorder(events, 'b'));
    lifecycle.register({
      name: 'broken',
      start: () => {
        throw new Error('port in use');
      },
    });
    lifecycle.register(recorder(events, 'never'));
    await assert.rejects(lifecycle.start(), /port in use/);
    assert.equal(lifecycle.state, 'FAILED');
    assert.deepEqual(events, ['start a', 'start b', 'stop b', 'stop a']);
    const report = await lifecycle.whenStopped();
    assert.equal((report.failure as Error).message, 'port in use');
  });

  it('a component whose stop() throws is reported and the others still drain', async () => {
    const events: string[] = [];
    const lifecycle = createLifecycle();
    lifecycle.register(recorder(events, 'a'));
    lifecycle.register(
      recorder(events, 'bad', () => {
        throw new Error('close failed');
      }),
    );
    await lifecycle.start();
    const report = await lifecycle.stop();
    assert.deepEqual(report.stopped, ['a']);
    assert.equal(report.failed[0]?.name, 'bad');
    assert.equal(report.state, 'FAILED');
  });

  it('first signal drains and exits 0; signal handlers are installed once', async () => {
    const target = new EventEmitter();
    const exits: number[] = [];
    const events: string[] = [];
    const lifecycle = createLifecycle().register(recorder(events, 'grpc'));
    const uninstall = lifecycle.installSignalHandlers({ target, exit: (code) => exits.push(code) });
    createLifecycle().installSignalHandlers({ target, exit: () => assert.fail('second install is a no-op') });
    assert.equal(target.listenerCount('SIGTERM'), 1);
    await lifecycle.start();
    target.emit('SIGTERM', 'SIGTERM');
    assert.equal(lifecycle.state, 'DRAINING');
    await lifecycle.whenStopped();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(exits, [0]);
    assert.deepEqual(events, ['start grpc', 'stop grpc']);
    uninstall();
    assert.equal(target.listenerCount('SIGTERM'), 0);
  });

  it('a second signal stops immediately, abandoning the drain', async () => {
    const target = new EventEmitter();
    const exits: number[] = [];
    const lifecycle = createLifecycle({ graceTimeoutMs: 60_000 });
    lifecycle.onShutdown('slow', () => new Promise<void>(() => {}));
    const uninstall = lifecycle.installSignalHandlers({ target, exit: (code) => exits.push(code) });
    await lifecycle.start();
    target.emit('SIGINT', 'SIGINT');
    target.emit('SIGTERM', 'SIGTERM');
    const report = await lifecycle.whenStopped();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(report.abandoned, ['slow']);
    assert.deepEqual(exits, [1]);
    uninstall();
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ConfigOf,
  defineConfig,
  env,
  isVerdictError,
  parseDurationMs,
  type VerdictError,
} from '../src/index.js';

const schema = defineConfig({
  host: env.string('JUDGE_HOST', { default: '0.0.0.0' }),
  port: env.int('JUDGE_PORT', { default: 50051, min: 0, max: 65535 }),
  logLevel: env.enum('LOG_LEVEL', ['debug', 'info', 'warn', 'error'], { default: 'info' }),
  natsUrl: env.url('NATS_URL', { protocols: ['nats:', 'tls:'] }),
  batch: {
    maxSize: env.int('JUDGE_MAX_BATCH_SIZE', { default: 32, min: 1, max: 512 }),
    maxWaitMs: env.durationMs('JUDGE_MAX_BATCH_WAIT', { default: 5, max: 1000 }),
  },
  temperature: env.number('JUDGE_TEMPERATURE', { default: 1, min: 0 }),
  tracing: env.bool('TRACING_ENABLED', { default: false }),
  peers: env.list('JUDGE_PEERS', 'string', { default: [] }),
  ports: env.list('EXTRA_PORTS', 'int', { default: [] }),
  apiToken: env.optional(env.string('API_TOKEN', { secret: true, minLength: 8 })),
});

function loadError(source: Record<string, string | undefined>): VerdictError {
  try {
    schema.load(source);
  } catch (error) {
    assert.ok(isVerdictError(error), 'expected a VerdictError');
    return error;
  }
  assert.fail('expected load() to throw');
}

describe('defineConfig', () => {
  it('parses a valid environment into a typed, deeply frozen config with defaults', () => {
    const config = schema.load({
      NATS_URL: 'nats://127.0.0.1:4222',
      JUDGE_PORT: '0',
      JUDGE_MAX_BATCH_WAIT: '250ms',
      TRACING_ENABLED: 'YES',
      JUDGE_PEERS: 'a:1, b:2,,',
      EXTRA_PORTS: '1,2',
      JUDGE_TEMPERATURE: '0.7',
      LOG_LEVEL: '',
    });
    // Compile-time: the loaded config has the declared types.
    const typed: ConfigOf<typeof schema.shape> = config;
    const level: 'debug' | 'info' | 'warn' | 'error' = typed.logLevel;
    const token: string | undefined = typed.apiToken;
    assert.equal(token, undefined);
    assert.equal(level, 'info');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 0);
    assert.equal(config.logLevel, 'info'); // empty counts as unset
    assert.equal(config.batch.maxSize, 32);
    assert.equal(config.batch.maxWaitMs, 250);
    assert.equal(config.temperature, 0.7);
    assert.equal(config.tracing, true);
    assert.deepEqual(config.peers, ['a:1', 'b:2']);
    assert.deepEqual(config.ports, [1, 2]);
    assert.equal(config.apiToken, undefined);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.batch) && Object.isFrozen(config.peers));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  it('reports three bad variables in ONE INVALID_ARGUMENT error naming each value and rule', () => {
    const error = loadError({
      NATS_URL: 'http://x',
      JUDGE_PORT: '70000',
      LOG_LEVEL: 'loud',
    });
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.message, /3 problems/);
    assert.match(error.message, /JUDGE_PORT="70000": must be integer in \[0, 65535\]/);
    assert.match(error.message, /LOG_LEVEL="loud": must be one of debug, info, warn, error/);
    assert.match(error.message, /NATS_URL="http:\/\/x": must be URL with protocol nats: or tls:/);
    assert.equal(error.field, 'JUDGE_PORT,LOG_LEVEL,NATS_URL');
    const problems = (error.details as { problems: unknown[] }).problems;
    assert.equal(problems.length, 3);
  });

  it('reports missing required variables, type errors and redacts secrets', () => {
    const error = loadError({
      JUDGE_MAX_BATCH_SIZE: '12x',
      JUDGE_MAX_BATCH_WAIT: '2s',
      TRACING_ENABLED: 'maybe',
      EXTRA_PORTS: '1,two',
      API_TOKEN: 'short',
      JUDGE_TEMPERATURE: '0x10',
    });
    assert.match(error.message, /7 problems/);
    assert.match(error.message, /NATS_URL is not set: required, must be URL/);
    assert.match(error.message, /JUDGE_MAX_BATCH_SIZE="12x": must be integer in \[1, 512\]/);
    assert.match(error.message, /JUDGE_MAX_BATCH_WAIT="2s": must be duration .* <= 1000ms/);
    assert.match(error.message, /TRACING_ENABLED="maybe"/);
    assert.match(error.message, /EXTRA_PORTS="1,two": .*item 1 'two' is not a int/);
    assert.match(error.message, /API_TOKEN="<redacted>"/);
    assert.doesNotMatch(error.message, /short/);
    assert.match(error.message, /JUDGE_TEMPERATURE="0x10": must be number >= 0/);
  });

  it('rejects a variable declared twice', () => {
    assert.throws(() => defineConfig({ a: env.int('X'), b: { c: env.string('X') } }), /declared twice/);
  });

  it('describes its variables for docs', () => {
    const docs = schema.describe();
    const port = docs.find((d) => d.variable === 'JUDGE_PORT');
    assert.deepEqual(port && { path: port.path, default: port.default }, { path: 'port', default: 50051 });
    assert.ok(docs.some((d) => d.path === 'batch.maxWaitMs'));
  });
});

describe('parseDurationMs', () => {
  it('parses units and compound durations', () => {
    assert.equal(parseDurationMs('250'), 250);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('2h'), 7_200_000);
    assert.equal(parseDurationMs('5 s'), undefined);
    assert.equal(parseDurationMs('s'), undefined);
    assert.equal(parseDurationMs('-1s'), undefined);
  });
});

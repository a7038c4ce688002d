import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { getMeter } from './tracer.js';

/**
 * Instrument factory that keeps metric names honest: snake_case names that are already valid
 * Prometheus names, counters ending in `_total`, and every measured quantity carrying its
 * unit as the name's suffix (`judge_latency_ms`, `weights_size_bytes`), from which the OTel
 * unit is derived. A bad name is a programming error and throws at creation.
 */

const UNIT_SUFFIXES: ReadonlyArray<readonly [suffix: string, unit: string, buckets: readonly number[]]> = [
  ['_ms', 'ms', [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000]],
  ['_seconds', 's', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]],
  ['_bytes', 'By', [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]],
  ['_tokens', '{token}', [1, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096]],
  ['_items', '{item}', [1, 2, 4, 8, 16, 32, 64, 128, 256]],
  ['_ratio', '1', [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]],
];

const NAME_PATTERN = /^[a-z][a-z0-9_]*[a-z0-9]$/;

function checkName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new TypeError(`metric name '${name}' must be snake_case ([a-z][a-z0-9_]*)`);
  }
}

function unitOf(name: string): { unit: string; buckets: readonly number[] } {
  for (const [suffix, unit, buckets] of UNIT_SUFFIXES) {
    if (name.endsWith(suffix)) return { unit, buckets };
  }
  const known = UNIT_SUFFIXES.map(([s]) => s).join(', ');
  throw new TypeError(`metric name '${name}' must end with its unit (${known})`);
}

export interface MetricsFactory {
  /** Monotonic count; the name ends in `_total` (e.g. `rollouts_scored_total`). */
  counter(name: string, description: string): Counter;
  /** A value that goes up and down; the name ends with its unit (e.g. `queue_depth_items`). */
  upDownCounter(name: string, description: string): UpDownCounter;
  /** A distribution; the name ends with its unit, which also picks default buckets. */
  histogram(name: string, description: string, options?: { buckets?: number[] }): Histogram;
}

/** A factory on `meter` (default: the global meter; call after `startTelemetry`). */
export function createMetrics(meter: Meter = getMeter()): MetricsFactory {
  return {
    counter(name, description) {
      checkName(name);
      if (!name.endsWith('_total')) throw new TypeError(`counter name '${name}' must end with '_total'`);
      return meter.createCounter(name, { description });
    },
    upDownCounter(name, description) {
      checkName(name);
      const { unit } = unitOf(name);
      return meter.createUpDownCounter(name, { description, unit });
    },
    histogram(name, description, options = {}) {
      checkName(name);
      const { unit, buckets } = unitOf(name);
      return meter.createHistogram(name, {
        description,
        unit,
        advice: { explicitBucketBoundaries: options.buckets ?? [...buckets] },
      });
    },
  };
}

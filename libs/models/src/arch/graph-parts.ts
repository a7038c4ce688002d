import type { GraphBuilder, Value } from '@verdict/graph';
import { ModelError } from '../errors.js';

/** Graph building blocks every family's trunk and graphs share (one definition each). */

/** A declared parameter by HF name; a name the family never declared is a bug, said as such. */
export function paramOf(params: ReadonlyMap<string, Value>, name: string): Value {
  const v = params.get(name);
  if (v === undefined) throw new ModelError('INVALID_ARGUMENT', `graph parameter ${name} was not declared`);
  return v;
}

/** x · Wᵀ (+ b) for an HF Linear weight [out, in]. */
export function linearHf(g: GraphBuilder, x: Value, w: Value, b: Value | undefined): Value {
  const y = g.matmul(x, g.transpose(w, [1, 0]));
  return b ? g.add(y, b) : y;
}

/**
 * Selects each row's last real position t* = max_t(mask[t]·t) as a one-hot over t, so both left
 * padding (last column) and right padding (last 1 of the mask) work. Returns [batch, hidden].
 */
export function lastRealPosition(g: GraphBuilder, hidden: Value, mask: Value): Value {
  const t = g.arange(mask.shape[1]!); // [T] int64
  const lastIdx = g.max(g.mul(mask, t), 1, true); // [B,1]
  const isLast = g.cast(g.equal(t, lastIdx), 'float32'); // [B,T]
  return g.squeeze(g.matmul(g.unsqueeze(isLast, 1), hidden), 1); // [B,1,T]·[B,T,H] → [B,H]
}

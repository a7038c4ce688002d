import type { GraphBuilder, Value } from '@verdict/graph';

/**
 * log softmax(logits)[target] at every position: logits [B,T,V], targets [B,T] int64 → [B,T].
 * Targets must be valid ids everywhere (ORT throws on out-of-range indices): give padding a real
 * id and a zero loss mask.
 */
export function tokenLogprobs(g: GraphBuilder, logits: Value, targets: Value): Value {
  const logp = g.logSoftmax(logits, -1);
  return g.squeeze(g.gatherElements(logp, g.unsqueeze(targets, -1), -1), -1);
}

/** Entropy of the next-token distribution at every position, −Σ_v p·log p: logits [B,T,V] → [B,T]. */
export function tokenEntropy(g: GraphBuilder, logits: Value): Value {
  const logp = g.logSoftmax(logits, -1);
  return g.neg(g.sum(g.mul(g.exp(logp), logp), -1));
}

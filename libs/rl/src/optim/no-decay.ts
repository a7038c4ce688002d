/**
 * Default rule for which parameters skip weight decay: biases and normalisation weights,
 * recognised by Hugging Face names (the same patterns as transformers' Trainer
 * get_decay_parameter_names): `*.bias`, `*layernorm*`, `*rmsnorm*`, `model.norm.weight`,
 * `*_norm.*` (q_norm / k_norm in Qwen3). Embeddings and linear weights are decayed.
 */
const NO_DECAY_PATTERNS: readonly RegExp[] = [
  /bias/,
  /layernorm/i,
  /rmsnorm/i,
  /(?:^|\.)norm(?:$|\.)/,
  /_norm(?:$|\.)/,
];

export function isDefaultNoDecayParam(name: string): boolean {
  return NO_DECAY_PATTERNS.some((p) => p.test(name));
}

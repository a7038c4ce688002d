/**
 * What generation, judging and the KV-cache engine read from any family's config: every family's
 * own config (LlamaFamilyConfig, OptConfig, ...) is a superset of it. `modelType` is the HF
 * `model_type` that picked the family.
 */
export interface CausalLmConfig {
  readonly modelType: string;
  readonly vocabSize: number;
  readonly numLayers: number;
  /** Heads of the K/V cache tensors [batch, numKvHeads, positions, headDim]. */
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly maxPositionEmbeddings: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenIds: readonly number[];
  /** Caps sequences below max_position_embeddings where set (see maxSequenceLength). */
  readonly slidingWindow?: number | undefined;
}

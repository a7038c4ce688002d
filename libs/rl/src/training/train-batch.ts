import { createTensor, type Tensor } from '@verdict/graph';

/**
 * One micro-batch in the training graph's layout, row-major [batchSize, seqLen]. `targets[b,t]` is the
 * token the model should predict at position t (the caller shifts: targets[t] = ids[t+1]); padding
 * positions need a valid id (0 is fine) and a zero `lossMask`.
 */
export interface TrainBatch {
  readonly batchSize: number;
  readonly seqLen: number;
  readonly inputIds: ArrayLike<number>;
  /** 1 = real token, 0 = padding. */
  readonly attentionMask: ArrayLike<number>;
  /** Default: HF's cumsum(mask) − 1 per row, padding → 1. */
  readonly positionIds?: ArrayLike<number>;
  readonly targets: ArrayLike<number>;
  readonly lossMask: ArrayLike<number>;
  /** Per-token float inputs of the loss by graph input name (`advantages`, `behaviour_logprobs`, ...). */
  readonly tokenInputs?: Readonly<Record<string, ArrayLike<number>>>;
}

function int64(values: ArrayLike<number>): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  return out;
}

/** HF position ids for any padding side: cumsum(mask) − 1, padding positions → 1. */
export function positionIdsFor(batchSize: number, seqLen: number, mask: ArrayLike<number>): Int32Array {
  const out = new Int32Array(batchSize * seqLen);
  for (let b = 0; b < batchSize; b++) {
    let sum = 0;
    for (let t = 0; t < seqLen; t++) {
      const m = mask[b * seqLen + t]!;
      sum += m;
      out[b * seqLen + t] = m === 0 ? 1 : sum - 1;
    }
  }
  return out;
}

/** Checks sizes and builds the graph feeds (tensors own fresh buffers, safe to transfer). */
export function batchFeeds(batch: TrainBatch, required: readonly string[] = []): Record<string, Tensor> {
  const { batchSize: B, seqLen: T } = batch;
  const n = B * T;
  if (!Number.isInteger(B) || !Number.isInteger(T) || B < 1 || T < 1)
    throw new RangeError(`batch: batchSize and seqLen must be positive integers (got ${B}, ${T})`);
  const check = (name: string, a: ArrayLike<number>) => {
    if (a.length !== n)
      throw new RangeError(`batch: ${name} must hold batchSize*seqLen = ${n} values (got ${a.length})`);
  };
  check('inputIds', batch.inputIds);
  check('attentionMask', batch.attentionMask);
  check('targets', batch.targets);
  check('lossMask', batch.lossMask);
  const positions = batch.positionIds ?? positionIdsFor(B, T, batch.attentionMask);
  check('positionIds', positions);
  const feeds: Record<string, Tensor> = {
    input_ids: createTensor('int64', [B, T], int64(batch.inputIds)),
    attention_mask: createTensor('int64', [B, T], int64(batch.attentionMask)),
    position_ids: createTensor('int64', [B, T], int64(positions)),
    targets: createTensor('int64', [B, T], int64(batch.targets)),
    loss_mask: createTensor('float32', [B, T], Float32Array.from(batch.lossMask)),
  };
  for (const name of required) {
    const v = batch.tokenInputs?.[name];
    if (v === undefined) throw new RangeError(`batch: the loss needs tokenInputs.${name}`);
    check(`tokenInputs.${name}`, v);
    feeds[name] = createTensor('float32', [B, T], Float32Array.from(v));
  }
  return feeds;
}

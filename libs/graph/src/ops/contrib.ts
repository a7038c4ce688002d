import type { OpDef, Value } from '../types.js';

/**
 * com.microsoft contrib ops for inference graphs (ORT only; no VJP). Inputs are positional as in
 * ORT's schema; pass ABSENT_INPUT for an omitted optional input.
 */
export const contribOps: OpDef[] = [
  {
    // query [B,S,NH·D], key/value [B,S,KV·D], past_key/past_value [B,KV,P,D] (P = buffer capacity
    // when present is bound to the same buffer), seqlens_k [B] int32 (total length − 1 per row),
    // total_sequence_length [] int32, cos_cache, sin_cache, position_ids, attention_bias
    // [B|1, NH|1, S, total]. Outputs: output [B,S,NH·D], present_key/value [B,KV,P,D].
    name: 'GroupQueryAttention',
    domain: 'com.microsoft',
    attrTypes: {
      num_heads: 'int',
      kv_num_heads: 'int',
      scale: 'float',
      do_rotary: 'int',
      local_window_size: 'int',
      softcap: 'float',
    },
    infer(inputs, attrs) {
      const [q, , , pastKey] = inputs as [Value, Value, Value, Value | undefined];
      if (q.shape.length !== 3) throw new Error('GroupQueryAttention: query must be [batch, seq, hidden]');
      if (typeof attrs['num_heads'] !== 'number' || typeof attrs['kv_num_heads'] !== 'number')
        throw new Error('GroupQueryAttention: num_heads and kv_num_heads are required');
      if (!pastKey || pastKey.name === '' || pastKey.shape.length !== 4)
        throw new Error('GroupQueryAttention: this builder needs past_key/past_value [batch, kv, cap, dim]');
      return [
        { dtype: q.dtype, shape: [...q.shape] },
        { dtype: q.dtype, shape: [...pastKey.shape] },
        { dtype: q.dtype, shape: [...pastKey.shape] },
      ];
    },
  },
];

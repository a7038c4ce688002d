// transformers.js (@huggingface/transformers) as the comparison engine: loads a folder written by
// exportLlamaOnnx (`verdict export`) and runs its own greedy generate() on the same ONNX file.

/** Greedy generation with transformers.js, or why it could not run. */
export type TransformersJsEngine =
  | {
      readonly ok: true;
      readonly version: string;
      /** Equal-length prompts (no padding), greedy, exactly `maxNewTokens` new tokens per row. */
      generate(prompts: readonly (readonly number[])[], maxNewTokens: number): Promise<number[][]>;
      dispose(): Promise<void>;
    }
  | { readonly ok: false; readonly reason: string };

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

export async function loadTransformersJs(exportDir: string, threads: number): Promise<TransformersJsEngine> {
  let tjs: typeof import('@huggingface/transformers');
  try {
    tjs = await import('@huggingface/transformers');
  } catch (e) {
    return { ok: false, reason: `cannot import @huggingface/transformers: ${describeError(e)}` };
  }
  // Offline: a local folder only, never the Hub.
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = '';
  let model: Awaited<ReturnType<typeof tjs.AutoModelForCausalLM.from_pretrained>>;
  try {
    model = await tjs.AutoModelForCausalLM.from_pretrained(exportDir, {
      dtype: 'fp32',
      device: 'cpu',
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
  } catch (e) {
    return { ok: false, reason: `transformers.js could not load ${exportDir}: ${describeError(e)}` };
  }
  return {
    ok: true,
    version: tjs.env.version,
    async generate(prompts, maxNewTokens) {
      const B = prompts.length;
      const T = prompts[0]!.length;
      if (prompts.some((p) => p.length !== T))
        throw new Error('transformers.js bench: prompts must have equal length');
      const ids = BigInt64Array.from(prompts.flatMap((p) => p.map((id) => BigInt(id))));
      const out = await model.generate({
        input_ids: new tjs.Tensor('int64', ids, [B, T]),
        attention_mask: new tjs.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
        max_new_tokens: maxNewTokens,
        min_new_tokens: maxNewTokens,
        do_sample: false,
      });
      if (!(out instanceof tjs.Tensor)) throw new Error('transformers.js generate returned no tensor');
      const width = out.dims[1]!;
      const data = out.data as BigInt64Array;
      return Array.from({ length: B }, (_, b) =>
        Array.from(data.subarray(b * width + T, (b + 1) * width), (x) => Number(x)),
      );
    },
    async dispose() {
      await model.dispose();
    },
  };
}

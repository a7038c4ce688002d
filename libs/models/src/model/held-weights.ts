import type { GraphBuilder } from '@verdict/graph';
import { ModelError } from '../errors.js';
import type { FamilyGraphs, ModelWeights } from './family-model.js';

/**
 * What an inference-only model runs, and so which sessions must be loaded before its JS weights
 * can go: 'generation' (prefill + KV-buffer decode: a policy server), 'judge' (the judge graph: a
 * judge server), 'all' (the three) or 'classify' (the classifier graph of a
 * sequence-classification checkpoint: a judge server's reranker).
 */
export type WeightsRole = 'generation' | 'judge' | 'all' | 'classify';

export type GraphName = 'prefill' | 'decode' | 'judge' | 'classify';

const ROLE_GRAPHS: Readonly<Record<WeightsRole, readonly GraphName[]>> = {
  generation: ['prefill', 'decode'],
  judge: ['judge'],
  all: ['prefill', 'decode', 'judge'],
  classify: ['classify'],
};

/**
 * A model's weights and the graphs built from them, until the sessions of its role are loaded.
 * Sessions are still built lazily (each graph when its session first loads); the release happens
 * when the last one the role names has loaded, because every graph is built from the in-memory
 * weights and nothing else (one code path: no re-reading of a checkpoint folder that may have
 * changed on disk since, and models built from weights in memory, such as a policy server's hot
 * swap, release the same way).
 */
export interface HeldWeights {
  /** The family's graphs; with a role, a graph outside it is an INVALID_ARGUMENT naming the option. */
  readonly graphs: FamilyGraphs;
  /** Records that the session of graph `name` has loaded; the last of the role's releases the weights. */
  loaded(name: string): void;
  /** The weights; after the release an INVALID_ARGUMENT saying they were released. */
  weights(): ModelWeights;
  /** Bytes of the weight arrays still referenced (each array once); 0 after the release. */
  bytesHeld(): number;
}

export function holdWeights(
  weights: ModelWeights,
  graphs: FamilyGraphs,
  role: WeightsRole | undefined,
): HeldWeights {
  if (role !== undefined && !Object.hasOwn(ROLE_GRAPHS, role)) {
    throw new ModelError(
      'INVALID_ARGUMENT',
      `releaseWeightsAfterLoad must be one of ${Object.keys(ROLE_GRAPHS).join(', ')} (got ${JSON.stringify(role)})`,
    );
  }
  // Both go together: the graphs' builders close over the weights.
  let held: { weights: ModelWeights; graphs: FamilyGraphs } | undefined = { weights, graphs };
  const pending = new Set<string>(role === undefined ? [] : ROLE_GRAPHS[role]);

  function build(name: GraphName): GraphBuilder {
    if (role !== undefined && !ROLE_GRAPHS[role].includes(name)) {
      throw new ModelError(
        'INVALID_ARGUMENT',
        `this model was loaded with releaseWeightsAfterLoad: '${role}', which does not run the ${name} graph`,
      );
    }
    if (held === undefined) {
      // Not reached: each graph of the role is built once, and the release follows the last.
      throw new ModelError(
        'INVALID_ARGUMENT',
        `the ${name} graph cannot be built: the weights were released`,
      );
    }
    const graph = held.graphs[name];
    if (graph === undefined) {
      throw new ModelError('INVALID_ARGUMENT', `this model has no ${name} graph`);
    }
    return graph();
  }

  return {
    graphs: {
      prefill: () => build('prefill'),
      decode: () => build('decode'),
      judge: () => build('judge'),
      ...(graphs.classify === undefined ? {} : { classify: () => build('classify') }),
    },
    loaded(name) {
      if (role === undefined || held === undefined) return;
      pending.delete(name);
      if (pending.size === 0) held = undefined;
    },
    weights() {
      if (held === undefined) {
        throw new ModelError(
          'INVALID_ARGUMENT',
          `the model's weights were released once its '${role}' sessions loaded (releaseWeightsAfterLoad); load it without the option to read them`,
        );
      }
      return held.weights;
    },
    bytesHeld() {
      if (held === undefined) return 0;
      let bytes = 0;
      for (const w of new Set(held.weights.values())) bytes += w.byteLength;
      return bytes;
    },
  };
}

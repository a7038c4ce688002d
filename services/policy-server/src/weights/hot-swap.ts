import type { ExecutionProviderInfo } from '@verdict/graph';
import type { CausalLmConfig, FamilyModel, ModelTokenizer } from '@verdict/models';
import { weightsV1 } from '@verdict/proto';
import type { Messaging, RuntimeLogger } from '@verdict/runtime';
import type { ModelHolder } from '../domain/model-holder.js';
import type { ServedModel } from '../generation/generator.js';
import { WEIGHTS_BUCKET } from '../streams.js';
import { buildWarmModel, type ModelSessionOptions, parseSafetensorsWeights } from './build-model.js';

export type WeightsEvent =
  | { readonly kind: 'loaded'; readonly version: bigint; readonly loadMs: number }
  | { readonly kind: 'rejected'; readonly version: bigint; readonly reason: string }
  | { readonly kind: 'skipped'; readonly version: bigint; readonly reason: string };

export interface HotSwapOptions {
  readonly holder: ModelHolder<ServedModel>;
  readonly messaging: Messaging;
  /** The serving model's config (any family: new weights are checked against its shapes). */
  readonly config: CausalLmConfig;
  readonly tokenizer: ModelTokenizer;
  /** Threads and execution provider of the new model's sessions (as for the first model). */
  readonly sessions: ModelSessionOptions;
  /** Only announcements of this run are loaded (undefined = any run). */
  readonly runId: string | undefined;
  readonly logger: RuntimeLogger;
  /** The provider the new version's sessions got, reported before it is installed. */
  readonly onExecutionProvider?: (info: ExecutionProviderInfo, version: bigint) => void;
  readonly onEvent?: (event: WeightsEvent) => void;
}

/**
 * Handles one WeightsPublished: fetch the object, verify size and sha256, parse and check the
 * tensors against the serving config, warm a model on them, then install it. Requests admitted
 * before the install finish on the old weights (they hold leases); the old model closes after
 * the last of them. Any failure keeps the old weights and is logged as an error.
 */
export function createHotSwap(
  options: HotSwapOptions,
): (message: weightsV1.WeightsPublished) => Promise<void> {
  const { holder, messaging, logger } = options;
  const emit = (e: WeightsEvent) => options.onEvent?.(e);
  return async (message) => {
    const version = message.version;
    const fields = { version: version.toString(), runId: message.runId, object: message.objectName };
    if (options.runId !== undefined && message.runId !== options.runId) {
      emit({ kind: 'skipped', version, reason: `run ${message.runId} is not ${options.runId}` });
      return;
    }
    const loaded = holder.version;
    if (loaded !== undefined && version <= loaded) {
      emit({ kind: 'skipped', version, reason: `version ${loaded} is already loaded` });
      return;
    }
    const reject = (reason: string, error?: unknown) => {
      logger.error('rejected weights; keeping the loaded version', {
        ...fields,
        loadedVersion: loaded?.toString(),
        reason,
        error,
      });
      emit({ kind: 'rejected', version, reason });
    };
    if (message.format !== weightsV1.WeightsFormat.WEIGHTS_FORMAT_SAFETENSORS) {
      reject(`unsupported weights format ${message.format}`);
      return;
    }
    const started = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = await messaging.getBlob(message.bucket || WEIGHTS_BUCKET, message.objectName, {
        expectedSha256: message.sha256,
        expectedSize: Number(message.sizeBytes),
      });
    } catch (error) {
      reject(`blob ${message.objectName} failed verification: ${(error as Error).message}`, error);
      return;
    }
    let model: FamilyModel;
    try {
      const weights = parseSafetensorsWeights(bytes, options.config);
      model = await buildWarmModel(options.config, weights, options.tokenizer, options.sessions);
    } catch (error) {
      reject(`weights could not be loaded: ${(error as Error).message}`, error);
      return;
    }
    // A newer version may have been installed while this one loaded (e.g. at start-up).
    const now = holder.version;
    if (now !== undefined && version <= now) {
      await model.close();
      emit({ kind: 'skipped', version, reason: `version ${now} was installed meanwhile` });
      return;
    }
    if (model.executionProvider !== undefined)
      options.onExecutionProvider?.(model.executionProvider, version);
    holder.install(model, version);
    const loadMs = performance.now() - started;
    logger.info('weights swapped', {
      ...fields,
      previousVersion: loaded?.toString(),
      loadMs: Math.round(loadMs),
    });
    emit({ kind: 'loaded', version, loadMs });
  };
}

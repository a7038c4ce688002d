import { type CausalLmConfig, type JudgeModel, type LlamaModel, loadLlamaModel } from '@verdict/models';
import { silentLogger } from '@verdict/runtime';
import { createJudgeServerApp, type JudgeServerApp, type JudgeServerDeps } from '../src/app.js';
import { loadJudgeServerConfig } from '../src/config.js';

/**
 * The real model behind a gate: while held, scoreLast waits (the model is "busy"), so tests
 * can build up a queue deterministically. Released, it is the plain model.
 */
export interface GatedModel extends JudgeModel<CausalLmConfig> {
  hold(): void;
  release(): void;
  /** Model calls started (including ones waiting at the gate). */
  readonly calls: number;
  /** Model calls blocked at the gate right now. */
  readonly waiting: number;
  /** Prefix passes of shared-prefix judging (prefillPrefixes calls). */
  readonly prefixCalls: number;
}

export function gateModel(model: JudgeModel<CausalLmConfig>): GatedModel {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let calls = 0;
  let waiting = 0;
  let prefixCalls = 0;
  const through = async <T>(call: () => Promise<T>): Promise<T> => {
    calls++;
    waiting++;
    while (gate !== undefined) await gate;
    waiting--;
    return call();
  };
  const { prefillPrefixes, scoreLastAfterPrefix } = model;
  return {
    config: model.config,
    tokenizer: model.tokenizer,
    scoreLast: (input, ids) => through(() => model.scoreLast(input, ids)),
    // Shared-prefix judging goes through the gate too, when the model offers it.
    ...(prefillPrefixes && scoreLastAfterPrefix
      ? {
          prefillPrefixes: (input: Parameters<typeof prefillPrefixes>[0]) => {
            prefixCalls++;
            return through(() => prefillPrefixes.call(model, input));
          },
          scoreLastAfterPrefix: (...args: Parameters<typeof scoreLastAfterPrefix>) =>
            through(() => scoreLastAfterPrefix.apply(model, args)),
        }
      : {}),
    hold() {
      gate ??= new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release() {
      const o = open;
      gate = undefined;
      open = undefined;
      o?.();
    },
    get calls() {
      return calls;
    },
    get waiting() {
      return waiting;
    },
    get prefixCalls() {
      return prefixCalls;
    },
  };
}

export function startJudgeApp(
  modelDir: string,
  env: Record<string, string>,
  deps: JudgeServerDeps = {},
): JudgeServerApp {
  const config = loadJudgeServerConfig({
    JUDGE_MODEL_DIR: modelDir,
    JUDGE_HOST: '127.0.0.1',
    JUDGE_PORT: '0',
    JUDGE_DEFAULT_TEMPLATE: 'plain',
    ...env,
  });
  return createJudgeServerApp(config, { logger: silentLogger, telemetry: false, ...deps });
}

export function loadModel(dir: string): LlamaModel {
  return loadLlamaModel(dir);
}

export async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

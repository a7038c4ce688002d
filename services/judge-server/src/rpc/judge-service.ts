import type { JudgeResult as EngineResult } from '@verdict/models';
import { judgeV1 } from '@verdict/proto';
import { bidi, type CallContext, clientText, unary, VerdictError } from '@verdict/runtime';
import { type DynamicBatcher, type ItemOutcome, QueueFullError } from '../domain/dynamic-batcher.js';
import { calibratedScore, type LoadedJudgeCalibration } from '../engine/judge-calibration.js';
import type { JudgeEngine, ResolvedTemplate } from '../engine/judge-engine.js';
import { JUDGE_ITEM_LIMITS, MalformedStreamMessage } from './judge-stream-definition.js';

export interface JudgeInput {
  readonly question: string;
  readonly solution: string;
  /** JudgeItem.group_key ("" = none): items of one group share their prompt's prefix computation. */
  readonly groupKey: string;
}

export interface JudgeServiceDeps {
  readonly engine: JudgeEngine;
  readonly batcher: DynamicBatcher<JudgeInput, EngineResult>;
  readonly maxRequestItems: number;
  readonly maxQueueWaitMs: number;
  /** Applied to OK results of its template (calibrated_score, provenance.calibration_hash). */
  readonly calibration?: LoadedJudgeCalibration;
  /** Called once per finished item with its status and enqueue→result latency. */
  readonly onItemDone?: (status: judgeV1.JudgeStatus, latencyMs: number) => void;
}

const S = judgeV1.JudgeStatus;

interface Checked {
  readonly template: ResolvedTemplate;
}

/** Why an item cannot be judged, naming the field and the limit; undefined when it is fine. */
function checkItem(
  engine: JudgeEngine,
  item: judgeV1.JudgeItem,
  path: string,
): { field: string; message: string } | Checked {
  // Sizes before anything reads the text (tokenizing 4 MB is event-loop work the client chose).
  const sizes: [string, string, number][] = [
    ['id', item.id, JUDGE_ITEM_LIMITS.idChars],
    ['template_name', item.templateName, JUDGE_ITEM_LIMITS.templateNameChars],
    ['group_key', item.groupKey ?? '', JUDGE_ITEM_LIMITS.groupKeyChars],
    ['question', item.question, JUDGE_ITEM_LIMITS.questionChars],
    ['solution', item.solution, JUDGE_ITEM_LIMITS.solutionChars],
  ];
  for (const [name, value, max] of sizes) {
    if (value.length > max)
      return { field: `${path}.${name}`, message: `must be at most ${max} characters (got ${value.length})` };
  }
  if (item.question.trim() === '')
    return { field: `${path}.question`, message: 'question must not be empty' };
  if (item.solution.trim() === '')
    return { field: `${path}.solution`, message: 'solution must not be empty' };
  const template = engine.resolveTemplate(item.templateName);
  if (template === undefined) {
    return {
      field: `${path}.template_name`,
      message: `unknown judge template ${clientText(JSON.stringify(item.templateName))} (known: ${engine.templateNames.join(', ')}, or "" for the default)`,
    };
  }
  const tokens = engine.promptTokens(item.question, item.solution, template);
  const { limit, field } = engine.maxPromptTokens;
  if (tokens > limit) {
    return {
      field: `${path}.solution`,
      message: `judge prompt (question + solution in template ${template.name}) has ${tokens} tokens, more than the judge model's ${field} (${limit})`,
    };
  }
  return { template };
}

function emptyResult(id: string, status: judgeV1.JudgeStatus, message: string): judgeV1.JudgeResult {
  return {
    id,
    status,
    message,
    score: 0,
    pYesFull: 0,
    otherMass: 0,
    yesTokenId: 0,
    noTokenId: 0,
    yesLogit: 0,
    noLogit: 0,
  };
}

function toWireResult(
  engine: JudgeEngine,
  id: string,
  template: ResolvedTemplate,
  outcome: ItemOutcome<EngineResult>,
  calibration: LoadedJudgeCalibration | undefined,
): judgeV1.JudgeResult {
  const provenance = {
    judgeModelId: engine.modelId,
    templateName: template.name,
    templateHash: template.hash,
    calibrationHash: '',
  };
  if (outcome.kind !== 'ok') {
    const status = outcome.kind === 'timeout' ? S.JUDGE_STATUS_TIMEOUT : S.JUDGE_STATUS_ERROR;
    return { ...emptyResult(id, status, outcome.message), provenance };
  }
  const r = outcome.value;
  const calibrated = calibratedScore(calibration, template.hash, r.zYes, r.zNo);
  if (calibrated !== undefined) provenance.calibrationHash = calibration!.hash;
  return {
    ...(calibrated !== undefined ? { calibratedScore: calibrated } : {}),
    id,
    status: S.JUDGE_STATUS_OK,
    message: '',
    score: r.score,
    pYesFull: r.pYesFull,
    otherMass: r.otherMass,
    yesTokenId: r.yesId,
    noTokenId: r.noId,
    yesLogit: r.zYes,
    noLogit: r.zNo,
    provenance,
  };
}

/** The call's deadline or the server's queue-wait bound, whichever is sooner. */
function itemDeadlineMs(ctx: CallContext, maxQueueWaitMs: number): number {
  return Math.min(ctx.deadlineMs ?? Number.POSITIVE_INFINITY, Date.now() + maxQueueWaitMs);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new VerdictError('CANCELLED', 'call cancelled');
}

export function createJudgeServiceHandlers(deps: JudgeServiceDeps): judgeV1.JudgeServiceServer {
  const { batcher } = deps;

  const judgeBatch = async (
    request: judgeV1.JudgeBatchRequest,
    ctx: CallContext,
  ): Promise<judgeV1.JudgeBatchResponse> => {
    const engine = deps.engine;
    const { items } = request;
    if (items.length > deps.maxRequestItems) {
      throw new VerdictError(
        'INVALID_ARGUMENT',
        `items has ${items.length} entries, more than the server's limit of ${deps.maxRequestItems} per JudgeBatch (JUDGE_MAX_REQUEST_ITEMS)`,
        { field: 'items', details: { limit: deps.maxRequestItems, got: items.length } },
      );
    }
    const seen = new Set<string>();
    const templates: ResolvedTemplate[] = [];
    items.forEach((item, i) => {
      if (seen.has(item.id)) {
        throw new VerdictError(
          'INVALID_ARGUMENT',
          `duplicate item id ${clientText(JSON.stringify(item.id))}`,
          {
            field: `items[${i}].id`,
          },
        );
      }
      seen.add(item.id);
      const checked = checkItem(engine, item, `items[${i}]`);
      if (!('template' in checked)) {
        throw new VerdictError('INVALID_ARGUMENT', `${checked.field}: ${checked.message}`, {
          field: checked.field,
        });
      }
      templates.push(checked.template);
    });
    if (items.length === 0) return { results: [] };
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    const startedMs = Date.now();
    let pending: Promise<ItemOutcome<EngineResult>>[];
    try {
      pending = batcher.submit(
        items.map((item, i) => ({
          groupKey: templates[i]!.name,
          input: { question: item.question, solution: item.solution, groupKey: item.groupKey ?? '' },
        })),
        { deadlineMs: itemDeadlineMs(ctx, deps.maxQueueWaitMs), signal: ctx.signal },
      );
    } catch (error) {
      if (error instanceof QueueFullError) {
        throw new VerdictError('RESOURCE_EXHAUSTED', `${error.message}; retry with backoff`, {
          details: { queued: error.queued, capacity: error.capacity, requested: error.requested },
        });
      }
      throw error;
    }
    const aborted = new Promise<never>((_, reject) => {
      if (ctx.signal.aborted) reject(abortReason(ctx.signal));
      ctx.signal.addEventListener('abort', () => reject(abortReason(ctx.signal)), { once: true });
    });
    aborted.catch(() => undefined);
    const outcomes = await Promise.race([Promise.all(pending), aborted]);
    const results = outcomes.map((o, i) => {
      const r = toWireResult(engine, items[i]!.id, templates[i]!, o, deps.calibration);
      deps.onItemDone?.(r.status, Date.now() - startedMs);
      return r;
    });
    return { results };
  };

  async function* judgeStream(
    requests: AsyncIterable<judgeV1.JudgeStreamRequest>,
    ctx: CallContext,
  ): AsyncGenerator<judgeV1.JudgeStreamResponse> {
    const engine = deps.engine;
    // Results go out as their batches finish, while the client keeps sending: a reader task
    // submits items and pushes results into `ready`; this generator drains it.
    const ready: judgeV1.JudgeResult[] = [];
    let wake: (() => void) | undefined;
    let readerDone = false;
    let readerError: unknown;
    let outstanding = 0;
    const push = (r: judgeV1.JudgeResult): void => {
      ready.push(r);
      wake?.();
    };
    const seen = new Set<string>();
    const reader = (async () => {
      let index = 0;
      for await (const req of requests as AsyncIterable<
        judgeV1.JudgeStreamRequest | MalformedStreamMessage
      >) {
        const path = `item#${index++}`;
        if (req instanceof MalformedStreamMessage) {
          // Stop reading; the items already accepted still get their results (the generator
          // below drains them) before the call ends with this status.
          throw new VerdictError('INVALID_ARGUMENT', `${path}: not a JudgeStreamRequest (${req.reason})`, {
            field: path,
          });
        }
        const item = req.item ?? { id: '', question: '', solution: '', templateName: '' };
        if (item.id.length > JUDGE_ITEM_LIMITS.idChars) {
          // The result must carry some id: a bounded quote of it (the item is refused anyway).
          push(
            emptyResult(
              clientText(item.id),
              S.JUDGE_STATUS_INVALID,
              `${path}.id: must be at most ${JUDGE_ITEM_LIMITS.idChars} characters (got ${item.id.length})`,
            ),
          );
          deps.onItemDone?.(S.JUDGE_STATUS_INVALID, 0);
          continue;
        }
        if (seen.has(item.id)) {
          push(emptyResult(item.id, S.JUDGE_STATUS_INVALID, `${path}.id: duplicate id in this stream`));
          continue;
        }
        seen.add(item.id);
        const checked = checkItem(engine, item, path);
        if (!('template' in checked)) {
          push(emptyResult(item.id, S.JUDGE_STATUS_INVALID, `${checked.field}: ${checked.message}`));
          deps.onItemDone?.(S.JUDGE_STATUS_INVALID, 0);
          continue;
        }
        const { template } = checked;
        const startedMs = Date.now();
        try {
          const [promise] = batcher.submit(
            [
              {
                groupKey: template.name,
                input: { question: item.question, solution: item.solution, groupKey: item.groupKey ?? '' },
              },
            ],
            { deadlineMs: itemDeadlineMs(ctx, deps.maxQueueWaitMs), signal: ctx.signal },
          );
          outstanding++;
          void promise!.then((outcome) => {
            outstanding--;
            const r = toWireResult(engine, item.id, template, outcome, deps.calibration);
            deps.onItemDone?.(r.status, Date.now() - startedMs);
            push(r);
          });
        } catch (error) {
          if (!(error instanceof QueueFullError)) throw error;
          push(emptyResult(item.id, S.JUDGE_STATUS_OVERLOADED, `${error.message}; retry with backoff`));
          deps.onItemDone?.(S.JUDGE_STATUS_OVERLOADED, 0);
        }
      }
    })().then(
      () => {
        readerDone = true;
        wake?.();
      },
      (error: unknown) => {
        readerError = error;
        readerDone = true;
        wake?.();
      },
    );
    try {
      while (true) {
        const next = ready.shift();
        if (next !== undefined) {
          yield { result: next };
          continue;
        }
        // A reader error (a malformed message) ends the call only once every accepted item's
        // result has been sent: what the client already got accepted is never dropped.
        if (readerDone && outstanding === 0) {
          if (readerError !== undefined) throw readerError;
          break;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      await Promise.race([reader, new Promise((resolve) => setTimeout(resolve, 0))]);
    }
  }

  return {
    judgeBatch: unary(judgeBatch),
    judgeStream: bidi(judgeStream),
  } as unknown as judgeV1.JudgeServiceServer;
}

import { judgeV1 } from '@verdict/proto';
import {
  createGrpcClient,
  createTracingClientInterceptor,
  type GrpcClient,
  type GrpcClientTlsConfig,
  grpcClientSecurity,
  isVerdictError,
} from '@verdict/runtime';
import type { AskJudge } from '../domain/score-sample.js';

export interface JudgeAskerOptions {
  readonly address: string;
  /** Default deadline of one judge call, all retries included (a call may set its own). */
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** TLS to the judge (checked by the config loader); undefined = plaintext. */
  readonly tls?: GrpcClientTlsConfig;
}

export interface JudgeAsker {
  readonly ask: AskJudge;
  close(): void;
}

/**
 * The judge-server client: one single-item JudgeBatch per sample (the judge-server coalesces
 * concurrent calls into batches), retried on UNAVAILABLE and RESOURCE_EXHAUSTED with backoff
 * inside the deadline. Failures become typed outcomes, never exceptions or a 0.
 */
export function createJudgeAsker(options: JudgeAskerOptions): JudgeAsker {
  const security = grpcClientSecurity(options.tls);
  const client: GrpcClient<judgeV1.JudgeServiceClient> = createGrpcClient(
    judgeV1.JudgeServiceClient,
    options.address,
    {
      defaultDeadlineMs: options.timeoutMs,
      idempotentMethods: ['judgeBatch'],
      retry: { maxAttempts: options.maxAttempts, retryResourceExhausted: true },
      interceptors: [createTracingClientInterceptor()],
      credentials: security.credentials,
      channelOptions: security.channelOptions,
    },
  );
  return {
    async ask(item, callOptions) {
      const timeoutMs = callOptions?.timeoutMs ?? options.timeoutMs;
      try {
        const { results } = await client.unary('judgeBatch', { items: [item] }, { deadlineMs: timeoutMs });
        const result = results[0];
        if (result === undefined) return { kind: 'error', message: 'judge returned no result' };
        return { kind: 'result', result };
      } catch (error) {
        if (isVerdictError(error) && error.code === 'DEADLINE_EXCEEDED') {
          return { kind: 'timeout', message: `judge did not answer within ${timeoutMs} ms` };
        }
        const code = isVerdictError(error) ? error.code : 'INTERNAL';
        const message = error instanceof Error ? error.message : String(error);
        return { kind: 'error', message: `judge call failed (${code}): ${message}` };
      }
    },
    close: () => client.close(),
  };
}

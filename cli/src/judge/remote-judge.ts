import { readFileSync } from 'node:fs';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import type { judgeV1 as JudgeWire } from '@verdict/proto';
import { CommandFailure } from '../framework/command-failure.js';
import { UsageError } from '../framework/usage-error.js';
import type { JudgeInputItem } from './judge-items.js';
import type { JudgeOutput } from './judge-output.js';

export interface RemoteTlsOptions {
  /** PEM CA bundle that signed the server certificate (default: the system roots). */
  readonly caFile?: string;
  /** PEM client certificate and key, for servers that require mutual TLS. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Name the server certificate must carry when it differs from HOST (e.g. connecting by IP). */
  readonly serverName?: string;
}

export interface RemoteJudgeOptions {
  /** `HOST:PORT`, already validated. */
  readonly address: string;
  /** undefined = plaintext. */
  readonly tls?: RemoteTlsOptions;
  /** Whole-call deadline, retries included. */
  readonly deadlineMs: number;
  /** '' = the server's default template. */
  readonly template: string;
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`--${flag} ${path} cannot be read: ${(e as Error).message}`);
  }
}

/** gRPC channel credentials and options for the TLS flags (files are read here: bad paths exit 2). */
export async function remoteCredentials(
  tls: RemoteTlsOptions | undefined,
): Promise<{ credentials: ChannelCredentials; channelOptions: ChannelOptions }> {
  const { credentials } = await import('@grpc/grpc-js');
  if (tls === undefined) return { credentials: credentials.createInsecure(), channelOptions: {} };
  const ca = tls.caFile !== undefined ? readPem('ca', tls.caFile) : null;
  const key = tls.keyFile !== undefined ? readPem('key', tls.keyFile) : null;
  const cert = tls.certFile !== undefined ? readPem('cert', tls.certFile) : null;
  const channelOptions: ChannelOptions =
    tls.serverName !== undefined
      ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }
      : {};
  try {
    return { credentials: credentials.createSsl(ca, key, cert), channelOptions };
  } catch (e) {
    throw new UsageError(`--cert/--key are not a usable PEM pair: ${(e as Error).message}`);
  }
}

/**
 * Sends the items as one JudgeBatch to a running judge-server. RPC errors become exit codes:
 * INVALID_ARGUMENT (the server's field message) → 2, UNAVAILABLE / DEADLINE_EXCEEDED and the
 * rest → 1 with one line. Per-item statuses stay in the results.
 */
export async function judgeRemotely(
  items: readonly JudgeInputItem[],
  options: RemoteJudgeOptions,
  progress: (message: string) => void,
): Promise<JudgeOutput[]> {
  const [{ judgeV1 }, { createGrpcClient, VerdictError }] = await Promise.all([
    import('@verdict/proto'),
    import('@verdict/runtime'),
  ]);
  const { credentials, channelOptions } = await remoteCredentials(options.tls);
  const client = createGrpcClient(judgeV1.JudgeServiceClient, options.address, {
    credentials,
    channelOptions,
    defaultDeadlineMs: options.deadlineMs,
    // Judging is read-only: a batch lost to a dropped connection may be sent again.
    idempotentMethods: ['judgeBatch'],
  });
  const where = `judge-server ${options.address}${options.tls ? ' (TLS)' : ''}`;
  progress(`judging ${items.length} item(s) on ${where}`);
  let response: JudgeWire.JudgeBatchResponse;
  try {
    response = await client.unary('judgeBatch', {
      items: items.map((i) => ({
        id: i.id,
        question: i.question,
        solution: i.answer,
        templateName: options.template,
      })),
    });
  } catch (e) {
    const err = VerdictError.from(e);
    // grpc-js appends resolver notes on further lines; the first line says what happened.
    const detail = (err.message.split('\n')[0] ?? '').replace(/\s*Resolution note:.*$/, '');
    if (err.code === 'INVALID_ARGUMENT') {
      throw new UsageError(`${where} rejected the request: ${detail}`);
    }
    if (err.code === 'UNAVAILABLE') {
      throw new CommandFailure(`${where} is unavailable: ${detail}`, { cause: e });
    }
    if (err.code === 'DEADLINE_EXCEEDED') {
      throw new CommandFailure(`${where} did not answer within ${options.deadlineMs} ms (--deadline)`, {
        cause: e,
      });
    }
    throw new CommandFailure(`${where} failed: ${err.code}: ${detail}`, { cause: e });
  } finally {
    client.close();
  }
  if (response.results.length !== items.length) {
    throw new CommandFailure(
      `${where} answered ${response.results.length} results for ${items.length} items`,
    );
  }
  return response.results.map((r) => ({
    score: r.score,
    p_yes_full: r.pYesFull,
    other_mass: r.otherMass,
    yes_id: r.yesTokenId,
    no_id: r.noTokenId,
    z_yes: r.yesLogit,
    z_no: r.noLogit,
    status: judgeV1.judgeStatusToJSON(r.status).replace(/^JUDGE_STATUS_/, ''),
    message: r.message,
    provenance: {
      judge_model_id: r.provenance?.judgeModelId ?? '',
      template_name: r.provenance?.templateName ?? '',
      template_hash: r.provenance?.templateHash ?? '',
    },
  }));
}

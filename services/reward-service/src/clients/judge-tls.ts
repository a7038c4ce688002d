// TLS of the judge-server client: REWARD_JUDGE_TLS switches it on explicitly (no TLS guessed
// from a CA alone), the CA / client certificate are files (Kubernetes secret mounts). The files
// are read and checked when the config loads, so a bad secret fails the start with a message
// naming the variable instead of failing every judge call later.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { type ChannelCredentials, type ChannelOptions, credentials } from '@grpc/grpc-js';

export interface JudgeTlsSettings {
  readonly enabled: boolean;
  readonly caFile: string | undefined;
  readonly serverName: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

export const JUDGE_TLS_VARIABLES = {
  enabled: 'REWARD_JUDGE_TLS',
  caFile: 'REWARD_JUDGE_TLS_CA_FILE',
  serverName: 'REWARD_JUDGE_TLS_SERVER_NAME',
  certFile: 'REWARD_JUDGE_TLS_CERT_FILE',
  keyFile: 'REWARD_JUDGE_TLS_KEY_FILE',
} as const;

/** How the judge client connects, as logged at start. */
export type JudgeTransport = 'plaintext' | 'tls' | 'tls (client certificate)';

export function judgeTransportOf(tls: JudgeTlsSettings): JudgeTransport {
  if (!tls.enabled) return 'plaintext';
  return tls.certFile !== undefined ? 'tls (client certificate)' : 'tls';
}

/** Config problems of the judge TLS variables (empty = fine); reads and parses the files. */
export function judgeTlsProblems(tls: JudgeTlsSettings): string[] {
  const v = JUDGE_TLS_VARIABLES;
  if (!tls.enabled) {
    const stray = (['caFile', 'serverName', 'certFile', 'keyFile'] as const)
      .filter((k) => tls[k] !== undefined)
      .map((k) => v[k]);
    // TLS material without TLS would silently dial plaintext: say so instead.
    return stray.length > 0 ? [`${stray.join(', ')} set but ${v.enabled} is not true`] : [];
  }
  const problems: string[] = [];
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.push(`${v.certFile} and ${v.keyFile} go together (client certificate): set both or neither`);
  }
  const ca = readPem(tls.caFile, v.caFile, problems);
  if (ca !== undefined) {
    try {
      // createSecureContext accepts garbage as `ca`; parsing the first certificate does not.
      new X509Certificate(ca);
    } catch (error) {
      problems.push(`${v.caFile}: not a PEM CA certificate (${reasonOf(error)})`);
    }
  }
  const cert = readPem(tls.certFile, v.certFile, problems);
  const key = readPem(tls.keyFile, v.keyFile, problems);
  if (cert !== undefined && key !== undefined) {
    try {
      createSecureContext({ cert, key });
    } catch (error) {
      problems.push(
        `${v.certFile} / ${v.keyFile}: not a PEM certificate and matching private key (${reasonOf(error)})`,
      );
    }
  }
  return problems;
}

/** grpc-js credentials and channel options of the judge client (files read again: checked at load). */
export function createJudgeChannelSecurity(tls: JudgeTlsSettings): {
  credentials: ChannelCredentials;
  channelOptions: ChannelOptions;
} {
  if (!tls.enabled) return { credentials: credentials.createInsecure(), channelOptions: {} };
  const read = (file: string | undefined) => (file === undefined ? null : readFileSync(file));
  return {
    // No CA file = the system roots (a judge behind a publicly trusted certificate).
    credentials: credentials.createSsl(read(tls.caFile), read(tls.keyFile), read(tls.certFile)),
    channelOptions: tls.serverName !== undefined ? { 'grpc.ssl_target_name_override': tls.serverName } : {},
  };
}

function readPem(file: string | undefined, variable: string, problems: string[]): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    problems.push(`${variable} ${file} cannot be read (${reasonOf(error)})`);
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  // File system errors: the code (ENOENT, EACCES); OpenSSL errors: the message.
  if (error instanceof Error)
    return 'syscall' in error && 'code' in error ? String(error.code) : error.message;
  return String(error);
}

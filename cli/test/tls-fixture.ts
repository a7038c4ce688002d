import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  credentials,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceError,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { judgeV1 } from '@verdict/proto';

export interface TlsFixture {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** The only name in the server certificate (no IP SAN, so connecting by IP needs --server-name). */
  readonly serverName: string;
}

export function haveOpenssl(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

/** A throwaway CA, a server certificate for `judge.verdict.test` and a client certificate (P-256). */
export function writeTlsFixture(dir: string): TlsFixture {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=verdict test CA',
  );
  const serverName = 'judge.verdict.test';
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(p(`${name}.ext`), ext);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  leaf('server', serverName, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`);
  leaf('client', 'verdict test client', 'extendedKeyUsage=clientAuth\n');
  return {
    caFile: p('ca.pem'),
    serverCertFile: p('server.pem'),
    serverKeyFile: p('server.key'),
    clientCertFile: p('client.pem'),
    clientKeyFile: p('client.key'),
    serverName,
  };
}

export interface TlsJudgeProxy {
  /** TLS, no client certificate asked. */
  readonly serverAuthPort: number;
  /** TLS, a client certificate signed by the fixture CA required. */
  readonly mtlsPort: number;
  stop(): void;
}

/**
 * A grpc-js server with TLS that serves JudgeService.JudgeBatch by forwarding to a plaintext
 * judge-server: the judge-server itself has no TLS listener, and this exercises the CLI's TLS
 * client against real TLS handshakes with real scores behind them.
 */
export async function startTlsJudgeProxy(backend: string, tls: TlsFixture): Promise<TlsJudgeProxy> {
  const client = new judgeV1.JudgeServiceClient(backend, credentials.createInsecure());
  const server = new Server();
  server.addService(judgeV1.JudgeServiceService, {
    judgeBatch(
      call: ServerUnaryCall<judgeV1.JudgeBatchRequest, judgeV1.JudgeBatchResponse>,
      callback: sendUnaryData<judgeV1.JudgeBatchResponse>,
    ) {
      client.judgeBatch(call.request, (error: ServiceError | null, response) => callback(error, response));
    },
    judgeStream(call: { emit(event: 'error', e: Partial<ServiceError>): void }) {
      call.emit('error', { code: status.UNIMPLEMENTED, details: 'not proxied' });
    },
  });
  const key = readFileSync(tls.serverKeyFile);
  const cert = readFileSync(tls.serverCertFile);
  const ca = readFileSync(tls.caFile);
  const bind = (creds: ServerCredentials) =>
    new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', creds, (e, port) => (e ? reject(e) : resolve(port))),
    );
  const serverAuthPort = await bind(
    ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }], false),
  );
  const mtlsPort = await bind(
    ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], true),
  );
  return {
    serverAuthPort,
    mtlsPort,
    stop() {
      server.forceShutdown();
      client.close();
    },
  };
}

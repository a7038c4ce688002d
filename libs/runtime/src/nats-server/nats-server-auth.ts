/** What a started nats-server demands of its clients; see startNatsServer's `auth` option. */
export interface NatsServerAuthOptions {
  /** With `password`: the single user the server accepts (`--user/--pass`). */
  user?: string;
  password?: string;
  /** Token auth (`--auth`); exclusive with user/password. */
  token?: string;
  /** Serve TLS only with this certificate, e.g. `createTestCertificates().server`. */
  tls?: { certFile: string; keyFile: string };
  /** Mutual TLS: require client certificates signed by this CA (needs `tls`). */
  tlsClientCaFile?: string;
}

/** The nats-server command-line flags for `auth`; throws on combinations the server rejects. */
export function natsServerAuthArgs(auth: NatsServerAuthOptions): string[] {
  const args: string[] = [];
  if ((auth.user === undefined) !== (auth.password === undefined)) {
    throw new Error('nats-server auth: user and password go together');
  }
  if (auth.token !== undefined && auth.user !== undefined) {
    throw new Error('nats-server auth: token and user/password are exclusive');
  }
  if (auth.user !== undefined && auth.password !== undefined) {
    args.push('--user', auth.user, '--pass', auth.password);
  }
  if (auth.token !== undefined) args.push('--auth', auth.token);
  if (auth.tls !== undefined) {
    args.push('--tls', '--tlscert', auth.tls.certFile, '--tlskey', auth.tls.keyFile);
  }
  if (auth.tlsClientCaFile !== undefined) {
    if (auth.tls === undefined) throw new Error('nats-server auth: tlsClientCaFile needs tls');
    args.push('--tlsverify', '--tlscacert', auth.tlsClientCaFile);
  }
  return args;
}

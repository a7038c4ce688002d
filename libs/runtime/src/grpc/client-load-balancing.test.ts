// Client-side load balancing of createGrpcClient against two REAL gRPC servers on port 0:
// an `ipv4:` address list stands in for the pod IPs a headless Service's DNS name resolves to.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type Metadata,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { createGrpcClient, grpcLoadBalancingFor } from './client.js';

interface Who {
  server: string;
}
const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Who => JSON.parse(bytes.toString()) as Who,
};
const WhoService = {
  who: {
    path: '/test.v1.Who/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} satisfies ServiceDefinition;
interface WhoClient extends Client {
  who(
    request: Who,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: (error: ServiceError | null, response: Who) => void,
  ): ClientUnaryCall;
}
const WhoClientCtor = makeGenericClientConstructor(WhoService, 'Who') as unknown as new (
  ...args: ConstructorParameters<ReturnType<typeof makeGenericClientConstructor>>
) => WhoClient;

async function startWhoServer(name: string): Promise<{ server: Server; port: number; calls: () => number }> {
  let calls = 0;
  const server = new Server();
  server.addService(WhoService, {
    who: (_call: unknown, callback: (error: null, response: Who) => void) => {
      calls += 1;
      callback(null, { server: name });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { server, port, calls: () => calls };
}

describe('gRPC client load balancing (two real servers)', () => {
  let a: Awaited<ReturnType<typeof startWhoServer>>;
  let b: Awaited<ReturnType<typeof startWhoServer>>;
  before(async () => {
    [a, b] = await Promise.all([startWhoServer('a'), startWhoServer('b')]);
  });
  after(() => {
    a?.server.forceShutdown();
    b?.server.forceShutdown();
  });

  /** Sequential calls; returns how many each server answered. */
  async function spread(client: ReturnType<typeof createGrpcClient<WhoClient>>, n: number) {
    const seen = { a: 0, b: 0 };
    for (let i = 0; i < n; i++) {
      const r = await client.unary('who', { server: '' });
      seen[r.server as 'a' | 'b'] += 1;
    }
    return seen;
  }

  it('round_robin over an ipv4: list sends calls to both servers', async () => {
    const client = createGrpcClient(WhoClientCtor, `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`, {
      loadBalancing: 'round_robin',
    });
    try {
      await client.waitForReady(5_000);
      // The second subchannel may still be connecting for the first calls: allow a few rounds.
      let seen = await spread(client, 10);
      for (let round = 0; round < 20 && (seen.a === 0 || seen.b === 0); round++) {
        await new Promise((r) => setTimeout(r, 25));
        const more = await spread(client, 10);
        seen = { a: seen.a + more.a, b: seen.b + more.b };
      }
      assert.ok(seen.a > 0 && seen.b > 0, `calls per server: ${JSON.stringify(seen)}`);
    } finally {
      client.close();
    }
  });

  it('without the option (pick_first) the same list sends every call to one server', async () => {
    const client = createGrpcClient(WhoClientCtor, `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`);
    try {
      const seen = await spread(client, 20);
      assert.ok((seen.a === 20 && seen.b === 0) || (seen.a === 0 && seen.b === 20), JSON.stringify(seen));
    } finally {
      client.close();
    }
  });

  it('an explicit grpc.service_config in channelOptions wins over loadBalancing', async () => {
    const client = createGrpcClient(WhoClientCtor, `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`, {
      loadBalancing: 'round_robin',
      channelOptions: {
        'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }] }),
      },
    });
    try {
      await client.waitForReady(5_000);
      await new Promise((r) => setTimeout(r, 100));
      const seen = await spread(client, 20);
      assert.ok(seen.a === 0 || seen.b === 0, JSON.stringify(seen));
    } finally {
      client.close();
    }
  });

  it('a dns:/// target connects and defaults to round_robin', async () => {
    assert.equal(grpcLoadBalancingFor(`dns:///localhost:${a.port}`), 'round_robin');
    assert.equal(grpcLoadBalancingFor(`localhost:${a.port}`), 'pick_first');
    assert.equal(grpcLoadBalancingFor(`dns:///localhost:${a.port}`, 'pick_first'), 'pick_first');
    const client = createGrpcClient(WhoClientCtor, `dns:///localhost:${a.port}`);
    try {
      const r = await client.unary('who', { server: '' });
      assert.equal(r.server, 'a');
    } finally {
      client.close();
    }
  });
});

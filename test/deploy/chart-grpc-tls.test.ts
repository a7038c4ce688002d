// TLS on all five gRPC servers (ci/grpc-tls-values.yaml: mutual TLS everywhere): each server's
// <PREFIX>_TLS_* and plaintext health port with the probes on it, its Secret mounted read-only,
// the in-chart clients (reward -> judge, evaluator -> policy, learner -> evaluator) with only the
// server's ca.crt plus their own client certificate; nothing of it with TLS off.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  allContainers,
  type Container,
  ensureHelm,
  envValue,
  find,
  type K8sObject,
  type PodTemplate,
  podTemplates,
  render,
  template,
} from './helm.js';

const ALL = { valuesFiles: ['ci/grpc-tls-values.yaml'] };

before(() => ensureHelm());

function pod(objects: readonly K8sObject[], kind: string, name: string): PodTemplate {
  const found = podTemplates([find(objects, kind, name)])[0];
  assert.ok(found, `${kind}/${name} has no pod template`);
  return found.template;
}

function main(tpl: PodTemplate): Container {
  const c = tpl.spec?.containers[0];
  assert.ok(c);
  return c;
}

function projected(tpl: PodTemplate, volume: string): { mode: number | undefined; items: string[] } {
  const v = tpl.spec?.volumes?.find((x) => x.name === volume);
  assert.ok(v?.projected, `no projected volume ${volume}`);
  const items = (v.projected.sources ?? []).flatMap((s) =>
    (s.secret?.items ?? []).map((i) => `${s.secret?.name}:${i.key}→${i.path}`),
  );
  return { mode: v.projected.defaultMode, items };
}

const SERVERS = [
  {
    kind: 'Deployment',
    name: 'verdict-judge-server',
    prefix: 'JUDGE',
    port: 50052,
    health: 50062,
    volume: 'judge-tls',
    secret: 'verdict-judge-tls',
    clientCa: 'verdict-judge-tls',
  },
  {
    kind: 'Deployment',
    name: 'verdict-policy-server',
    prefix: 'POLICY',
    port: 50051,
    health: 50061,
    volume: 'grpc-tls',
    secret: 'verdict-policy-tls',
    clientCa: 'verdict-policy-tls',
  },
  {
    kind: 'Deployment',
    name: 'verdict-reward-service',
    prefix: 'REWARD',
    port: 50053,
    health: 50063,
    volume: 'grpc-tls',
    secret: 'verdict-reward-tls',
    clientCa: 'verdict-reward-tls',
  },
  {
    kind: 'StatefulSet',
    name: 'verdict-learner',
    prefix: 'LEARNER',
    port: 50054,
    health: 50064,
    volume: 'grpc-tls',
    secret: 'verdict-learner-tls',
    clientCa: 'verdict-learner-tls',
  },
  {
    kind: 'Deployment',
    name: 'verdict-evaluator',
    prefix: 'EVALUATOR',
    port: 50055,
    health: 50065,
    volume: 'grpc-tls',
    secret: 'verdict-evaluator-tls',
    clientCa: 'verdict-clients-ca',
  },
] as const;

describe('TLS on every gRPC server (ci/grpc-tls-values.yaml)', () => {
  for (const s of SERVERS) {
    test(`${s.name}: ${s.prefix}_TLS_*, health port ${s.health} with every probe on it, the Secret at /etc/verdict/tls`, () => {
      const tpl = pod(render(ALL), s.kind, s.name);
      const c = main(tpl);
      assert.deepEqual(
        c.ports?.map((p) => [p.name, p.containerPort]),
        [
          ['grpc', s.port],
          ['health', s.health],
        ],
      );
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        assert.equal(probe?.grpc?.port, s.health, `${s.name}: probes on the plaintext health port`);
      }
      assert.equal(envValue(c, `${s.prefix}_TLS_CERT_FILE`), '/etc/verdict/tls/tls.crt');
      assert.equal(envValue(c, `${s.prefix}_TLS_KEY_FILE`), '/etc/verdict/tls/tls.key');
      assert.equal(envValue(c, `${s.prefix}_TLS_CLIENT_CA_FILE`), '/etc/verdict/tls/client-ca.crt');
      assert.equal(envValue(c, `${s.prefix}_HEALTH_PORT`), String(s.health));
      assert.equal(envValue(c, `${s.prefix}_PORT`), String(s.port));
      const mount = c.volumeMounts?.find((m) => m.name === s.volume);
      assert.equal(mount?.mountPath, '/etc/verdict/tls');
      assert.equal(mount?.readOnly, true);
      const { mode, items } = projected(tpl, s.volume);
      assert.equal(mode, 0o440);
      assert.deepEqual(items, [
        `${s.secret}:tls.crt→tls.crt`,
        `${s.secret}:tls.key→tls.key`,
        `${s.clientCa}:ca.crt→client-ca.crt`,
      ]);
    });
  }

  test('clients: evaluator (CronJob and server) -> policy-server, learner -> evaluator with ca.crt only plus their client certificate', () => {
    const objects = render(ALL);
    const cases = [
      {
        tpl: pod(objects, 'Deployment', 'verdict-evaluator'),
        prefix: 'EVALUATOR_POLICY_TLS',
        target: 'policy',
        name: 'policy.verdict.svc',
        secret: 'verdict-policy-tls',
        client: 'verdict-evaluator-client',
      },
      {
        tpl: pod(objects, 'CronJob', 'verdict-evaluator'),
        prefix: 'EVALUATOR_POLICY_TLS',
        target: 'policy',
        name: 'policy.verdict.svc',
        secret: 'verdict-policy-tls',
        client: 'verdict-evaluator-client',
      },
      {
        tpl: pod(objects, 'StatefulSet', 'verdict-learner'),
        prefix: 'LEARNER_EVALUATOR_TLS',
        target: 'evaluator',
        name: 'evaluator.verdict.svc',
        secret: 'verdict-evaluator-tls',
        client: 'verdict-learner-client',
      },
    ];
    for (const k of cases) {
      const c = main(k.tpl);
      const dir = `/etc/verdict/${k.target}-tls`;
      assert.equal(envValue(c, k.prefix), 'true');
      assert.equal(envValue(c, `${k.prefix}_CA_FILE`), `${dir}/ca.crt`);
      assert.equal(envValue(c, `${k.prefix}_SERVER_NAME`), k.name);
      assert.equal(envValue(c, `${k.prefix}_CERT_FILE`), `${dir}/tls.crt`);
      assert.equal(envValue(c, `${k.prefix}_KEY_FILE`), `${dir}/tls.key`);
      assert.equal(c.volumeMounts?.find((m) => m.name === `${k.target}-tls`)?.mountPath, dir);
      assert.deepEqual(projected(k.tpl, `${k.target}-tls`).items, [
        `${k.secret}:ca.crt→ca.crt`,
        `${k.client}:tls.crt→tls.crt`,
        `${k.client}:tls.key→tls.key`,
      ]);
    }
  });

  test('server auth only: no client CA, no client certificates, the release service name verified', () => {
    const objects = render({
      ...ALL,
      set: ['policyServer.tls.clientCa.enabled=false', 'policyServer.tls.serverName='],
    });
    const policy = main(pod(objects, 'Deployment', 'verdict-policy-server'));
    assert.equal(envValue(policy, 'POLICY_TLS_CLIENT_CA_FILE'), undefined);
    const evaluator = pod(objects, 'Deployment', 'verdict-evaluator');
    assert.equal(envValue(main(evaluator), 'EVALUATOR_POLICY_TLS_CERT_FILE'), undefined);
    assert.equal(envValue(main(evaluator), 'EVALUATOR_POLICY_TLS_SERVER_NAME'), 'verdict-policy-server');
    assert.deepEqual(projected(evaluator, 'policy-tls').items, ['verdict-policy-tls:ca.crt→ca.crt']);
  });

  test('NetworkPolicy: probesFrom opens each TLS server health port', () => {
    const objects = render({ ...ALL, set: ['networkPolicy.probesFrom[0].ipBlock.cidr=10.0.0.0/16'] });
    for (const s of SERVERS) {
      const np = find(objects, 'NetworkPolicy', `${s.name}-ingress-probes`);
      const ingress = (np.spec as { ingress: { ports: unknown[] }[] }).ingress;
      assert.deepEqual(ingress[0]?.ports, [{ protocol: 'TCP', port: s.health }], s.name);
    }
  });
});

describe('TLS off (defaults)', () => {
  test('no <PREFIX>_TLS_*, health port or TLS volume on any pod', () => {
    for (const { owner, template: tpl } of podTemplates(render())) {
      for (const c of allContainers(tpl)) {
        const where = `${owner.metadata.name}/${c.name}`;
        const names = (c.env ?? []).map((e) => e.name);
        assert.deepEqual(
          names.filter((n) => /_TLS$|_TLS_|_HEALTH_PORT$/.test(n) && !n.startsWith('NATS_')),
          [],
          where,
        );
        assert.equal(
          c.ports?.find((p) => p.name === 'health'),
          undefined,
          where,
        );
      }
      assert.deepEqual(
        (tpl.spec?.volumes ?? []).filter((v) => v.name.endsWith('-tls')).map((v) => v.name),
        [],
        owner.metadata.name,
      );
    }
  });
});

describe('rejected values', () => {
  test('TLS without existingSecret, mutual TLS without the client certificate Secret, health port = gRPC port', () => {
    const noSecret = template({ set: ['policyServer.tls.enabled=true'] });
    assert.notEqual(noSecret.status, 0);
    assert.match(
      noSecret.stderr,
      /policyServer\.tls\.existingSecret is required when policyServer\.tls\.enabled/,
    );
    const noClientCert = template({ ...ALL, set: ['learner.evaluatorTls.clientCertSecret='] });
    assert.notEqual(noClientCert.status, 0);
    assert.match(
      noClientCert.stderr,
      /learner\.evaluatorTls\.clientCertSecret is required when evaluator\.tls\.clientCa\.enabled/,
    );
    const samePort = template({ ...ALL, set: ['rewardService.tls.healthPort=50053'] });
    assert.notEqual(samePort.status, 0);
    assert.match(samePort.stderr, /rewardService\.tls\.healthPort must differ from rewardService\.port/);
  });

  test('the schema rejects a string health port and an unknown tls key', () => {
    const r = template({ set: ['learner.tls.healthPort=health', 'evaluator.tls.cert=x'] });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /learner\.tls\.healthPort: Invalid type\. Expected: integer, given: string/);
    assert.match(r.stderr, /Additional property cert is not allowed/);
  });
});

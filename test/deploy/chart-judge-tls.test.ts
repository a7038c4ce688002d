// judgeServer.tls: the judge's TLS Secret, JUDGE_TLS_* and probes on the plaintext health port;
// the reward-service and the helm test pod dialling it with TLS; nothing of it with TLS off.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import {
  allContainers,
  type Container,
  chartDir,
  ensureHelm,
  envValue,
  find,
  helm,
  type K8sObject,
  type PodTemplate,
  podTemplates,
  type RenderOptions,
  render,
  template,
} from './helm.js';

const TLS = { valuesFiles: ['ci/judge-tls-values.yaml'] };
const SERVER_AUTH = {
  ...TLS,
  set: ['judgeServer.tls.clientCa.enabled=false', 'judgeServer.tls.serverName='],
};
const OFF: readonly RenderOptions[] = [
  {},
  { valuesFiles: ['ci/cpu-small-values.yaml'] },
  { valuesFiles: ['ci/gpu-cluster-values.yaml'] },
  { valuesFiles: ['ci/external-nats-values.yaml'] },
];

before(() => ensureHelm());

function pod(objects: readonly K8sObject[], kind: string, name: string): PodTemplate {
  const owner = find(objects, kind, name);
  const found = podTemplates([owner])[0];
  assert.ok(found, `${kind}/${name} has no pod template`);
  return found.template;
}

function main(tpl: PodTemplate): Container {
  const c = tpl.spec?.containers[0];
  assert.ok(c);
  return c;
}

/** The projected Secret sources of a pod volume, as `secret:key→path` strings. */
function projected(tpl: PodTemplate, volume: string): { mode: number | undefined; items: string[] } {
  const v = tpl.spec?.volumes?.find((x) => x.name === volume);
  assert.ok(v?.projected, `no projected volume ${volume}`);
  const items = (v.projected.sources ?? []).flatMap((s) =>
    (s.secret?.items ?? []).map((i) => `${s.secret?.name}:${i.key}→${i.path}`),
  );
  return { mode: v.projected.defaultMode, items };
}

function mountOf(c: Container, volume: string) {
  return c.volumeMounts?.find((m) => m.name === volume);
}

describe('judgeServer.tls on (ci/judge-tls-values.yaml: mutual TLS)', () => {
  test('judge-server: health containerPort, all three gRPC probes on it, JUDGE_TLS_* and JUDGE_HEALTH_PORT', () => {
    const c = main(pod(render(TLS), 'Deployment', 'verdict-judge-server'));
    assert.deepEqual(
      c.ports?.map((p) => [p.name, p.containerPort]),
      [
        ['grpc', 50052],
        ['health', 50062],
      ],
    );
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
      assert.equal(probe?.grpc?.port, 50062);
    }
    assert.equal(envValue(c, 'JUDGE_TLS_CERT_FILE'), '/etc/verdict/tls/tls.crt');
    assert.equal(envValue(c, 'JUDGE_TLS_KEY_FILE'), '/etc/verdict/tls/tls.key');
    assert.equal(envValue(c, 'JUDGE_TLS_CLIENT_CA_FILE'), '/etc/verdict/tls/client-ca.crt');
    assert.equal(envValue(c, 'JUDGE_HEALTH_PORT'), '50062');
    assert.equal(envValue(c, 'JUDGE_PORT'), '50052', 'the gRPC port itself is unchanged');
  });

  test('judge-server: the Secret is mounted read-only at /etc/verdict/tls, mode 0440, group 1000', () => {
    const tpl = pod(render(TLS), 'Deployment', 'verdict-judge-server');
    const mount = mountOf(main(tpl), 'judge-tls');
    assert.equal(mount?.mountPath, '/etc/verdict/tls');
    assert.equal(mount?.readOnly, true);
    const { mode, items } = projected(tpl, 'judge-tls');
    assert.equal(mode, 0o440);
    assert.equal(tpl.spec?.securityContext?.fsGroup, 1000);
    assert.deepEqual(items, [
      'verdict-judge-tls:tls.crt→tls.crt',
      'verdict-judge-tls:tls.key→tls.key',
      'verdict-judge-tls:ca.crt→client-ca.crt',
    ]);
  });

  test('a separate client-CA Secret is projected as client-ca.crt', () => {
    const tpl = pod(
      render({ ...TLS, set: ['judgeServer.tls.clientCa.existingSecret=clients-ca'] }),
      'Deployment',
      'verdict-judge-server',
    );
    assert.ok(projected(tpl, 'judge-tls').items.includes('clients-ca:ca.crt→client-ca.crt'));
  });

  test('reward-service: REWARD_JUDGE_TLS_* and only ca.crt of the judge Secret plus its client certificate', () => {
    const tpl = pod(render(TLS), 'Deployment', 'verdict-reward-service');
    const c = main(tpl);
    assert.equal(envValue(c, 'JUDGE_ADDRESS'), 'dns:///verdict-judge-server-headless:50052');
    assert.equal(envValue(c, 'REWARD_JUDGE_TLS'), 'true');
    assert.equal(envValue(c, 'REWARD_JUDGE_TLS_CA_FILE'), '/etc/verdict/judge-tls/ca.crt');
    assert.equal(envValue(c, 'REWARD_JUDGE_TLS_SERVER_NAME'), 'judge.verdict.svc');
    assert.equal(envValue(c, 'REWARD_JUDGE_TLS_CERT_FILE'), '/etc/verdict/judge-tls/tls.crt');
    assert.equal(envValue(c, 'REWARD_JUDGE_TLS_KEY_FILE'), '/etc/verdict/judge-tls/tls.key');
    assert.equal(mountOf(c, 'judge-tls')?.mountPath, '/etc/verdict/judge-tls');
    assert.equal(mountOf(c, 'judge-tls')?.readOnly, true);
    const { mode, items } = projected(tpl, 'judge-tls');
    assert.equal(mode, 0o440);
    assert.deepEqual(items, [
      'verdict-judge-tls:ca.crt→ca.crt',
      'verdict-reward-judge-client:tls.crt→tls.crt',
      'verdict-reward-judge-client:tls.key→tls.key',
    ]);
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
      assert.equal(probe?.grpc?.port, 50053, 'the reward-service keeps its own plaintext probes');
    }
  });

  test('helm test pod: verdict judge --remote with --tls --ca --server-name --cert --key, the material mounted', () => {
    const tpl = pod(render(TLS), 'Pod', 'verdict-test-judge');
    const c = main(tpl);
    const args = (c.command ?? []).join(' ');
    assert.match(args, /--remote verdict-judge-server:50052 /);
    assert.match(
      args,
      / --tls --ca \/etc\/verdict\/judge-tls\/ca\.crt --server-name judge\.verdict\.svc --cert \/etc\/verdict\/judge-tls\/tls\.crt --key \/etc\/verdict\/judge-tls\/tls\.key$/,
    );
    assert.equal(mountOf(c, 'judge-tls')?.mountPath, '/etc/verdict/judge-tls');
    assert.ok(projected(tpl, 'judge-tls').items.includes('verdict-judge-tls:ca.crt→ca.crt'));
  });

  test('NetworkPolicy: probesFrom opens only the health port; callers still reach only 50052', () => {
    const objects = render(TLS);
    const rule = (name: string) =>
      (find(objects, 'NetworkPolicy', name).spec as { ingress: { from: unknown[]; ports: unknown[] }[] })
        .ingress;
    assert.deepEqual(rule('verdict-judge-server-ingress-probes'), [
      { from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ protocol: 'TCP', port: 50062 }] },
    ]);
    assert.deepEqual(rule('verdict-judge-server-ingress')[0]?.ports, [{ protocol: 'TCP', port: 50052 }]);
    const noPeers = render({ ...TLS, set: ['networkPolicy.probesFrom=null'] });
    assert.equal(
      noPeers.find((o) => o.metadata.name === 'verdict-judge-server-ingress-probes'),
      undefined,
      'without probesFrom the node-local kubelet traffic needs no rule',
    );
  });

  test('server auth only: no client CA, no client certificate, the judge service name verified', () => {
    const objects = render(SERVER_AUTH);
    const judge = pod(objects, 'Deployment', 'verdict-judge-server');
    assert.equal(envValue(main(judge), 'JUDGE_TLS_CLIENT_CA_FILE'), undefined);
    assert.deepEqual(projected(judge, 'judge-tls').items, [
      'verdict-judge-tls:tls.crt→tls.crt',
      'verdict-judge-tls:tls.key→tls.key',
    ]);
    const reward = pod(objects, 'Deployment', 'verdict-reward-service');
    for (const name of ['REWARD_JUDGE_TLS_CERT_FILE', 'REWARD_JUDGE_TLS_KEY_FILE']) {
      assert.equal(envValue(main(reward), name), undefined, name);
    }
    // It dials the headless twin, so it verifies the service name the certificate carries.
    assert.equal(envValue(main(reward), 'JUDGE_ADDRESS'), 'dns:///verdict-judge-server-headless:50052');
    assert.equal(envValue(main(reward), 'REWARD_JUDGE_TLS_SERVER_NAME'), 'verdict-judge-server');
    assert.deepEqual(projected(reward, 'judge-tls').items, ['verdict-judge-tls:ca.crt→ca.crt']);
    const args = (main(pod(objects, 'Pod', 'verdict-test-judge')).command ?? []).join(' ');
    assert.match(args, / --tls --ca \/etc\/verdict\/judge-tls\/ca\.crt$/);
  });
});

describe('judgeServer.tls off (defaults and every other ci values file)', () => {
  for (const options of OFF) {
    const label = options.valuesFiles?.[0] ?? 'defaults';
    test(`${label}: no TLS env, health port, judge-tls volume, probes policy or --tls`, () => {
      const objects = render(options);
      for (const { owner, template: tpl } of podTemplates(objects)) {
        for (const c of allContainers(tpl)) {
          const where = `${owner.metadata.name}/${c.name}`;
          const names = (c.env ?? []).map((e) => e.name);
          assert.deepEqual(
            names.filter((n) => /^(JUDGE_TLS_|JUDGE_HEALTH_PORT|REWARD_JUDGE_TLS)/.test(n)),
            [],
            where,
          );
          assert.equal(
            c.ports?.find((p) => p.name === 'health'),
            undefined,
            where,
          );
          assert.equal(mountOf(c, 'judge-tls'), undefined, where);
          assert.ok(!(c.command ?? []).includes('--tls'), where);
        }
        assert.equal(
          tpl.spec?.volumes?.find((v) => v.name === 'judge-tls'),
          undefined,
          owner.metadata.name,
        );
      }
      const judge = main(pod(objects, 'Deployment', 'verdict-judge-server'));
      assert.equal(judge.readinessProbe?.grpc?.port, 50052);
      assert.equal(
        objects.find((o) => o.metadata.name.endsWith('-ingress-probes')),
        undefined,
      );
    });
  }

  test('probesFrom alone (TLS off) renders no probes policy', () => {
    const objects = render({ set: ['networkPolicy.probesFrom[0].ipBlock.cidr=10.0.0.0/16'] });
    assert.equal(
      objects.find((o) => o.metadata.name.endsWith('-ingress-probes')),
      undefined,
    );
  });
});

describe('judgeServer.tls rejected values', () => {
  test('TLS without existingSecret, mutual TLS without the client certificate Secret, health port = gRPC port', () => {
    const noSecret = template({ set: ['judgeServer.tls.enabled=true'] });
    assert.notEqual(noSecret.status, 0);
    assert.match(
      noSecret.stderr,
      /judgeServer\.tls\.existingSecret is required when judgeServer\.tls\.enabled/,
    );
    const noClientCert = template({ ...TLS, set: ['rewardService.judgeTls.clientCertSecret='] });
    assert.notEqual(noClientCert.status, 0);
    assert.match(
      noClientCert.stderr,
      /rewardService\.judgeTls\.clientCertSecret is required when judgeServer\.tls\.clientCa\.enabled/,
    );
    const samePort = template({ ...TLS, set: ['judgeServer.tls.healthPort=50052'] });
    assert.notEqual(samePort.status, 0);
    assert.match(samePort.stderr, /judgeServer\.tls\.healthPort must differ from judgeServer\.port/);
  });

  test('the schema rejects a string health port, a server name with spaces and an unknown tls key', () => {
    const r = template({
      set: [
        'judgeServer.tls.healthPort=health',
        'judgeServer.tls.serverName=judge server',
        'judgeServer.tls.cert=x',
      ],
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /judgeServer\.tls\.healthPort: Invalid type\. Expected: integer, given: string/);
    assert.match(r.stderr, /judgeServer\.tls\.serverName: Does not match pattern/);
    assert.match(r.stderr, /Additional property cert is not allowed/);
  });
});

describe('NOTES.txt with judgeServer.tls', () => {
  const copy = mkdtempSync(join(tmpdir(), 'verdict-notes-tls-'));
  after(() => rmSync(copy, { recursive: true, force: true }));

  // helm template does not render NOTES.txt: render it from a copy where it is a YAML block scalar.
  const notes = (values: string[]): string => {
    const chart = join(copy, 'verdict');
    cpSync(chartDir, chart, { recursive: true });
    const text = readFileSync(join(chart, 'templates/NOTES.txt'), 'utf8');
    rmSync(join(chart, 'templates/NOTES.txt'), { force: true });
    const block = text
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
    writeFileSync(join(chart, 'templates/notes-check.yaml'), `notes: |\n${block}\n`);
    const r = helm([
      'template',
      'verdict',
      chart,
      '-n',
      'ml',
      '--show-only',
      'templates/notes-check.yaml',
      ...values,
    ]);
    assert.equal(r.status, 0, r.stderr);
    return String((parseDocument(r.stdout).toJS() as { notes: string }).notes);
  };

  test('the judge calls use the CA, the server name and (mutual TLS) a client certificate; no -plaintext', () => {
    const text = notes(['-f', join(chartDir, 'ci/judge-tls-values.yaml')]);
    assert.match(text, /gRPC, mutual TLS; probes on the plaintext health port 50062/);
    assert.match(
      text,
      /get secret verdict-judge-tls -o jsonpath='\{\.data\.ca\\\.crt\}' \| base64 -d > judge-ca\.crt/,
    );
    assert.match(
      text,
      /grpcurl -cacert judge-ca\.crt -servername judge\.verdict\.svc -cert client\.crt -key client\.key/,
    );
    assert.match(
      text,
      /npx verdict judge --remote localhost:50052 --tls --ca judge-ca\.crt --server-name judge\.verdict\.svc \\\n\s+--cert client\.crt --key client\.key/,
    );
    assert.doesNotMatch(text, /-plaintext/);
    const serverAuth = notes([
      '-f',
      join(chartDir, 'ci/judge-tls-values.yaml'),
      '--set',
      'judgeServer.tls.clientCa.enabled=false',
      '--set',
      'judgeServer.tls.serverName=',
    ]);
    assert.match(serverAuth, /gRPC, TLS;/);
    assert.match(serverAuth, /--tls --ca judge-ca\.crt --server-name verdict-judge-server \\/);
    assert.doesNotMatch(serverAuth, /client\.crt/);
  });
});

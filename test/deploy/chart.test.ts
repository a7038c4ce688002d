import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SUITE_NAMES } from '@verdict/data';
import {
  allContainers,
  type Container,
  chartDir,
  ensureHelm,
  envValue,
  find,
  helm,
  type K8sObject,
  lint,
  podTemplates,
  render,
  selects,
  template,
  validateObject,
} from './helm.js';

const VALUES_FILES = [
  'ci/cpu-small-values.yaml',
  'ci/gpu-cluster-values.yaml',
  'ci/external-nats-values.yaml',
];
const CPU = { valuesFiles: ['ci/cpu-small-values.yaml'] };
const GPU = { valuesFiles: ['ci/gpu-cluster-values.yaml'] };
const EXT = { valuesFiles: ['ci/external-nats-values.yaml'] };
const appVersion = /^appVersion:\s*"?([^"\n]+)"?/m.exec(
  readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'),
)?.[1];

const workloads = (objects: readonly K8sObject[]) =>
  objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const isVerdictImage = (c: Container) => /\/verdict-[a-z-]+:/.test(c.image ?? '');
const gpuLimit = (c: Container) => c.resources?.limits?.['nvidia.com/gpu'];

before(() => ensureHelm());

describe('helm lint and kubernetes-models', () => {
  for (const file of VALUES_FILES) {
    test(`helm lint --strict passes for ${file}`, () => {
      const r = lint(file);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    test(`every object rendered from ${file} validates with kubernetes-models`, (t) => {
      const objects = render({ valuesFiles: [file] });
      assert.ok(objects.length >= 20, `only ${objects.length} objects`);
      for (const o of objects) validateObject(o);
      const counts = new Map<string, number>();
      for (const o of objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
      t.diagnostic(
        `${file}: ${objects.length} objects (${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')})`,
      );
    });
  }

  test('kubernetes-models rejects a malformed object (the validation can fail)', () => {
    const [deployment] = render(CPU).filter((o) => o.kind === 'Deployment');
    assert.ok(deployment);
    const broken = structuredClone(deployment);
    (broken.spec as Record<string, unknown>)['replicas'] = 'two';
    assert.throws(() => validateObject(broken), /replicas/);
  });
});

describe('workloads', () => {
  for (const [name, options] of [
    ['cpu-small', CPU],
    ['gpu-cluster', GPU],
    ['external-nats', EXT],
  ] as const) {
    test(`${name}: startup, readiness and liveness probes on every long-running container (gRPC for Verdict)`, () => {
      const objects = render(options);
      assert.ok(workloads(objects).length >= 4);
      for (const w of workloads(objects)) {
        const spec = (w.spec as { template: { spec: { containers: Container[] } } }).template.spec;
        for (const c of spec.containers) {
          const where = `${w.kind}/${w.metadata.name} container ${c.name}`;
          for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
            assert.ok(probe, `${where}: missing probe`);
            if (isVerdictImage(c)) {
              const grpcPort = c.ports?.find((p) => p.name === 'grpc')?.containerPort;
              assert.ok(grpcPort, `${where}: no grpc port`);
              assert.equal(probe.grpc?.port, grpcPort, `${where}: probe is not gRPC on the service port`);
            } else {
              assert.ok(probe.httpGet ?? probe.grpc ?? probe.tcpSocket, `${where}: probe without a check`);
            }
          }
        }
      }
    });

    test(`${name}: Deployment/StatefulSet selectors match their pod labels, Services match containerPorts`, () => {
      const objects = render(options);
      for (const w of workloads(objects)) {
        const spec = w.spec as { selector: { matchLabels: Record<string, string> }; template: K8sObject };
        assert.ok(selects(spec.selector.matchLabels, spec.template.metadata.labels), w.metadata.name);
      }
      for (const svc of objects.filter((o) => o.kind === 'Service')) {
        const spec = svc.spec as {
          selector: Record<string, string>;
          ports: { port: number; targetPort: string | number }[];
        };
        const pods = podTemplates(objects).filter((p) => selects(spec.selector, p.template.metadata?.labels));
        assert.ok(pods.length > 0, `Service ${svc.metadata.name} selects no pods`);
        const containerPorts = pods.flatMap((p) => allContainers(p.template).flatMap((c) => c.ports ?? []));
        for (const port of spec.ports) {
          const match = containerPorts.find((cp) =>
            typeof port.targetPort === 'string'
              ? cp.name === port.targetPort && cp.containerPort === port.port
              : cp.containerPort === port.targetPort,
          );
          assert.ok(match, `Service ${svc.metadata.name} port ${port.port} matches no containerPort`);
        }
      }
    });

    test(`${name}: no container or initContainer can run as root; read-only root, no privilege escalation`, () => {
      const objects = render(options);
      const templates = podTemplates(objects);
      assert.ok(templates.length >= 6);
      for (const { owner, template: tpl } of templates) {
        const pod = tpl.spec?.securityContext ?? {};
        for (const c of allContainers(tpl)) {
          const where = `${owner.kind}/${owner.metadata.name} ${c.name}`;
          const sc = c.securityContext ?? {};
          assert.equal(sc.runAsNonRoot ?? pod.runAsNonRoot, true, `${where}: runAsNonRoot`);
          const uid = sc.runAsUser ?? pod.runAsUser;
          assert.ok(uid !== undefined && uid !== 0, `${where}: runAsUser ${uid}`);
          assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
          assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
          assert.ok(sc.capabilities?.drop?.includes('ALL'), `${where}: capabilities.drop ALL`);
          assert.equal(sc.seccompProfile?.type ?? pod.seccompProfile?.type, 'RuntimeDefault', where);
          assert.ok(
            c.volumeMounts?.some((m) => m.mountPath === '/tmp'),
            `${where}: /tmp mount`,
          );
        }
      }
    });

    test(`${name}: a PodDisruptionBudget selects each Deployment's pods; no image uses :latest`, () => {
      const objects = render(options);
      const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
      const deployments = objects.filter((o) => o.kind === 'Deployment');
      assert.ok(deployments.length >= 3);
      for (const d of deployments) {
        const labels = (d.spec as { template: K8sObject }).template.metadata.labels;
        const pdb = pdbs.find((p) =>
          selects(
            (p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
            labels,
          ),
        );
        assert.ok(pdb, `no PodDisruptionBudget for Deployment/${d.metadata.name}`);
      }
      for (const { owner, template: tpl } of podTemplates(objects)) {
        for (const c of allContainers(tpl)) {
          const image = c.image ?? '';
          const tag = /:([^:/]+)$/.exec(image)?.[1];
          assert.ok(
            tag && tag !== 'latest',
            `${owner.metadata.name}/${c.name}: image ${image} without a pinned tag`,
          );
        }
      }
    });
  }

  test('images follow <registry>/verdict-<service>:<appVersion>, NetworkPolicies exist', () => {
    const objects = render(CPU);
    const images = new Set(
      podTemplates(objects).flatMap((p) => allContainers(p.template).map((c) => c.image)),
    );
    for (const s of ['policy-server', 'judge-server', 'reward-service', 'learner', 'evaluator']) {
      assert.ok(
        images.has(`ghcr.io/verdict-rl/verdict-${s}:${appVersion}`),
        `${s}: ${[...images].join(' ')}`,
      );
    }
    assert.ok(objects.filter((o) => o.kind === 'NetworkPolicy').length >= 6);
  });
});

describe('GPU', () => {
  test('cpu-small: no nvidia.com/gpu anywhere, CPU images and execution providers', () => {
    for (const { template: tpl } of podTemplates(render(CPU))) {
      for (const c of allContainers(tpl)) {
        assert.equal(gpuLimit(c), undefined, c.name);
        assert.equal(c.resources?.requests?.['nvidia.com/gpu'], undefined, c.name);
        assert.doesNotMatch(c.image ?? '', /cuda/);
        for (const e of c.env ?? []) if (e.name.endsWith('_EXECUTION_PROVIDER')) assert.equal(e.value, 'cpu');
      }
      assert.equal(tpl.spec?.tolerations, undefined);
    }
  });

  test('gpu-cluster: nvidia.com/gpu limits exactly on policy-server, judge-server, learner, with GPU scheduling', () => {
    const withGpu: string[] = [];
    for (const { owner, template: tpl } of podTemplates(render(GPU))) {
      const main = tpl.spec?.containers.find((c) => gpuLimit(c) !== undefined);
      const initWithGpu = (tpl.spec?.initContainers ?? []).filter((c) => gpuLimit(c) !== undefined);
      assert.deepEqual(initWithGpu, [], `${owner.metadata.name}: init containers get no GPU`);
      if (main === undefined) {
        assert.equal(tpl.spec?.runtimeClassName, undefined, owner.metadata.name);
        continue;
      }
      withGpu.push(owner.metadata.name);
      assert.equal(gpuLimit(main), 1);
      assert.match(main.image ?? '', /:0\.1\.0-cuda12$/);
      const prefix = { 'policy-server': 'POLICY', 'judge-server': 'JUDGE', learner: 'LEARNER' }[main.name];
      assert.ok(prefix, main.name);
      assert.equal(envValue(main, `${prefix}_EXECUTION_PROVIDER`), 'cuda');
      assert.equal(envValue(main, `${prefix}_EXECUTION_PROVIDER_FALLBACK`), 'never');
      assert.equal(tpl.spec?.nodeSelector?.['nvidia.com/gpu.present'], 'true');
      assert.ok(tpl.spec?.tolerations?.some((t) => t.key === 'nvidia.com/gpu' && t.effect === 'NoSchedule'));
      assert.equal(tpl.spec?.runtimeClassName, 'nvidia');
    }
    assert.deepEqual(withGpu.sort(), ['verdict-judge-server', 'verdict-learner', 'verdict-policy-server']);
  });

  test('gpu-cluster: HPAs (autoscaling/v2) for judge-server and policy-server, their Deployments leave replicas to them', () => {
    const objects = render(GPU);
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    assert.deepEqual(hpas.map((h) => h.metadata.name).sort(), [
      'verdict-judge-server',
      'verdict-policy-server',
    ]);
    for (const h of hpas) {
      assert.equal(h.apiVersion, 'autoscaling/v2');
      const target = (h.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
      assert.equal(find(objects, target.kind, target.name).spec?.['replicas'], undefined);
    }
  });

  test('--set judgeServer.gpu.count=2 gives the judge 2 GPUs and leaves the others at 1', () => {
    const objects = render({ ...GPU, set: ['judgeServer.gpu.count=2'] });
    const judge = podTemplates(objects).find((p) => p.owner.metadata.name === 'verdict-judge-server');
    assert.equal(gpuLimit(judge!.template.spec!.containers[0]!), 2);
    const policy = podTemplates(objects).find((p) => p.owner.metadata.name === 'verdict-policy-server');
    assert.equal(gpuLimit(policy!.template.spec!.containers[0]!), 1);
  });
});

describe('evaluator CronJob', () => {
  const evaluatorContainer = (objects: readonly K8sObject[]) => {
    const cron = find(objects, 'CronJob', 'verdict-evaluator');
    const tpl = podTemplates([cron])[0]!.template;
    return { cron, container: tpl.spec!.containers[0]! };
  };

  test('defaults: nightly, EVALUATOR_ONCE, suites gsm8k-test, gsm-plus, svamp, policy-server target', () => {
    const { cron, container } = evaluatorContainer(render(CPU));
    assert.equal(cron.spec?.['schedule'], '30 2 * * *');
    assert.equal(envValue(container, 'EVALUATOR_ONCE'), 'true');
    assert.equal(envValue(container, 'EVALUATOR_SUITES'), 'gsm8k-test,gsm-plus,svamp');
    assert.equal(envValue(container, 'EVALUATOR_POLICY_TARGET'), 'verdict-policy-server:50051');
    assert.equal(container.startupProbe, undefined, 'a run-and-exit job has no probes');
  });

  test('schedule and suites come from --set', () => {
    const { cron, container } = evaluatorContainer(
      render({ ...CPU, set: ['evaluator.schedule=15 1 * * 0', 'evaluator.suites={svamp,gsm-hard}'] }),
    );
    assert.equal(cron.spec?.['schedule'], '15 1 * * 0');
    assert.equal(envValue(container, 'EVALUATOR_SUITES'), 'svamp,gsm-hard');
  });

  test("the schema's suite names are exactly @verdict/data SUITE_NAMES", () => {
    const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'));
    assert.deepEqual(
      [...schema.properties.evaluator.properties.suites.items.enum].sort(),
      [...SUITE_NAMES].sort(),
    );
  });
});

describe('NATS, learner, config checksum', () => {
  test('built-in NATS: JetStream StatefulSet (nats:2.10-alpine -js -sd /data) and every NATS client on its Service', () => {
    const objects = render(CPU);
    const nats = find(objects, 'StatefulSet', 'verdict-nats');
    const c = podTemplates([nats])[0]!.template.spec!.containers[0]!;
    assert.equal(c.image, 'docker.io/library/nats:2.10-alpine');
    assert.deepEqual(c.args?.slice(0, 3), ['-js', '-sd', '/data']);
    find(objects, 'Service', 'verdict-nats');
    find(objects, 'Service', 'verdict-nats-headless');
    for (const { template: tpl } of podTemplates(objects)) {
      for (const ct of allContainers(tpl)) {
        const url = envValue(ct, 'NATS_URL');
        if (url !== undefined) assert.equal(url, 'nats://verdict-nats.verdict-test.svc:4222');
      }
    }
  });

  test('external-nats: no NATS StatefulSet/Service, NATS_URL is the external URL, creds + TLS from existing Secrets', () => {
    const objects = render(EXT);
    assert.equal(objects.filter((o) => o.metadata.name.startsWith('verdict-nats')).length, 0);
    assert.equal(objects.filter((o) => o.kind === 'Secret').length, 0, 'existing Secrets are not rendered');
    let clients = 0;
    for (const { owner, template: tpl } of podTemplates(objects)) {
      for (const c of allContainers(tpl)) {
        if (envValue(c, 'NATS_URL') === undefined) continue;
        clients++;
        assert.equal(envValue(c, 'NATS_URL'), 'tls://nats.nats.svc.cluster.local:4222');
        assert.equal(envValue(c, 'NATS_CREDS_FILE'), '/etc/verdict/nats-auth/nats.creds');
        assert.equal(envValue(c, 'NATS_TLS_CA_FILE'), '/etc/verdict/nats-tls/ca.crt');
        assert.ok(c.volumeMounts?.some((m) => m.mountPath === '/etc/verdict/nats-tls'));
      }
      const secrets = (tpl.spec?.volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName] : []));
      if (secrets.length > 0) {
        assert.deepEqual(secrets.sort(), ['verdict-nats-creds', 'verdict-nats-tls'], owner.metadata.name);
      }
    }
    assert.ok(clients >= 6, `${clients} NATS clients (3 services, learner, weight pulls)`);
  });

  test('learner: StatefulSet with a checkpoint volumeClaimTemplate and LEARNER_RUN_CONFIG from the ConfigMap', () => {
    const objects = render(GPU);
    const learner = find(objects, 'StatefulSet', 'verdict-learner');
    const spec = learner.spec as { replicas: number; volumeClaimTemplates: K8sObject[] };
    assert.equal(spec.replicas, 1);
    assert.equal(spec.volumeClaimTemplates[0]?.metadata.name, 'checkpoints');
    const c = podTemplates([learner])[0]!.template.spec!.containers[0]!;
    assert.ok(c.volumeMounts?.some((m) => m.name === 'checkpoints' && m.mountPath === '/data/runs'));
    assert.equal(envValue(c, 'LEARNER_RUNS_DIR'), '/data/runs');
    assert.equal(envValue(c, 'LEARNER_RUN_CONFIG'), '/etc/verdict/run-config/run-config.json');
    assert.equal(envValue(c, 'LEARNER_EVALUATOR_ADDRESS'), 'verdict-evaluator:50055');
    const cm = find(objects, 'ConfigMap', 'verdict-learner-run-config');
    const run = JSON.parse(cm.data?.['run-config.json'] ?? '');
    assert.equal(run.runId, 'qwen05-gsm8k-judge7b');
    assert.equal(run.student.dir, '/data/models/qwen2.5-0.5b-instruct');
  });

  test('NetworkPolicies: default deny, DNS, reward→judge, evaluator→policy, learner→evaluator, clients→NATS', () => {
    const objects = render(GPU);
    const byName = (n: string) => find(objects, 'NetworkPolicy', n).spec as Record<string, unknown>;
    assert.deepEqual(byName('verdict-default-deny')['policyTypes'], ['Ingress', 'Egress']);
    assert.equal(byName('verdict-default-deny')['ingress'], undefined);
    assert.match(JSON.stringify(byName('verdict-egress-dns')), /"port":53/);
    const judgeIn = JSON.stringify(byName('verdict-judge-server-ingress'));
    assert.match(judgeIn, /"app.kubernetes.io\/component":"reward-service"/);
    assert.match(judgeIn, /"port":50052/);
    assert.match(
      JSON.stringify(byName('verdict-policy-server-ingress')),
      /component":"evaluator".*"port":50051/,
    );
    assert.match(JSON.stringify(byName('verdict-evaluator-ingress')), /component":"learner".*"port":50055/);
    assert.match(JSON.stringify(byName('verdict-reward-service-egress-judge-server')), /"port":50052/);
    assert.match(JSON.stringify(byName('verdict-evaluator-egress-policy-server')), /"port":50051/);
    assert.match(JSON.stringify(byName('verdict-learner-egress-evaluator')), /"port":50055/);
    assert.match(JSON.stringify(byName('verdict-nats')), /"verdict.dev\/nats-client":"true".*"port":4222/);
    assert.equal(
      objects.some((o) => o.metadata.name === 'verdict-reward-service-ingress'),
      false,
      'nobody calls the reward-service unless networkPolicy.clientsFrom says so',
    );
  });

  test('checksum/config changes with the run config (learner only) and with the shared env (every pod)', () => {
    const checksums = (set: string[]) => {
      const out: Record<string, string | undefined> = {};
      for (const { owner, template: tpl } of podTemplates(render({ ...CPU, set }))) {
        out[owner.metadata.name] = tpl.metadata?.annotations?.['checksum/config'];
      }
      return out;
    };
    const base = checksums([]);
    assert.match(base['verdict-learner'] ?? '', /^[0-9a-f]{64}$/);
    const runChanged = checksums(['learner.runConfig.maxSteps=5']);
    assert.notEqual(runChanged['verdict-learner'], base['verdict-learner']);
    assert.equal(runChanged['verdict-policy-server'], base['verdict-policy-server']);
    const envChanged = checksums(['global.logLevel=debug']);
    assert.notEqual(envChanged['verdict-policy-server'], base['verdict-policy-server']);
    assert.notEqual(envChanged['verdict-learner'], base['verdict-learner']);
  });
});

describe('rejected values', () => {
  test('judgeServer.gpu.count=two is rejected by values.schema.json, naming the field', () => {
    const r = template({ ...GPU, set: ['judgeServer.gpu.count=two'] });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /judgeServer\.gpu\.count: Invalid type\. Expected: integer, given: string/);
  });

  test('nats.enabled=false without nats.externalUrl fails with the required message', () => {
    const r = template({ set: ['nats.enabled=false'] });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /nats\.externalUrl is required when nats\.enabled=false/);
  });

  test('bad port, unknown suite, :latest tag and a misspelled key are rejected', () => {
    const r = template({
      set: [
        'policyServer.port=70000',
        'evaluator.suites={gsm8k}',
        'global.imageTag=latest',
        'judgeServer.gpus=1',
        'evaluator.schedule=nightly',
      ],
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /policyServer\.port: Must be less than or equal to 65535/);
    assert.match(r.stderr, /evaluator\.suites\.0: evaluator\.suites\.0 must be one of the following/);
    assert.match(r.stderr, /global\.imageTag: Must not validate the schema/);
    assert.match(r.stderr, /Additional property gpus is not allowed/);
    assert.match(r.stderr, /evaluator\.schedule: Does not match pattern/);
  });
});

describe('helm package', () => {
  const dist = mkdtempSync(join(tmpdir(), 'verdict-chart-'));
  after(() => rmSync(dist, { recursive: true, force: true }));

  test('the chart packages into verdict-<version>.tgz', () => {
    const r = helm(['package', chartDir, '-d', dist]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dist, 'verdict-0.1.0.tgz')), r.stdout);
  });
});

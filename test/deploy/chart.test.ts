import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  allContainers,
  type Container,
  chartDir,
  ensureHelm,
  envValue,
  find,
  type K8sObject,
  lint,
  podTemplates,
  render,
  selects,
  validateObject,
} from './helm.js';

const VALUES_FILES = [
  'ci/cpu-small-values.yaml',
  'ci/gpu-cluster-values.yaml',
  'ci/external-nats-values.yaml',
  'ci/judge-tls-values.yaml',
  'ci/grpc-tls-values.yaml',
];
const CPU = { valuesFiles: ['ci/cpu-small-values.yaml'] };
const GPU = { valuesFiles: ['ci/gpu-cluster-values.yaml'] };
const EXT = { valuesFiles: ['ci/external-nats-values.yaml'] };
const TLS = { valuesFiles: ['ci/judge-tls-values.yaml'] };
const ALL_TLS = { valuesFiles: ['ci/grpc-tls-values.yaml'] };
const appVersion = /^appVersion:\s*"?([^"\n]+)"?/m.exec(
  readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'),
)?.[1];

const workloads = (objects: readonly K8sObject[]) =>
  objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const isVerdictImage = (c: Container) => /\/verdict-[a-z-]+:/.test(c.image ?? '');
const gpuLimit = (c: Container) => c.resources?.limits?.['nvidia.com/gpu'];

before(() => ensureHelm());

describe('helm lint and kubernetes-models', () => {
  test('helm lint --strict passes with the default values', () => {
    const r = lint();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

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
    ['judge-tls', TLS],
    ['grpc-tls', ALL_TLS],
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
              // A TLS gRPC port has a plaintext health-only twin: kubelet gRPC probes speak no TLS.
              const healthPort = c.ports?.find((p) => p.name === 'health')?.containerPort;
              assert.equal(
                probe.grpc?.port,
                healthPort ?? grpcPort,
                `${where}: probe is not gRPC on the ${healthPort ? 'health' : 'service'} port`,
              );
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

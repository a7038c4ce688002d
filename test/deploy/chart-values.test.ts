import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SUITE_NAMES } from '@verdict/data';
import { parseDocument } from 'yaml';
import {
  allContainers,
  chartDir,
  ensureHelm,
  envValue,
  find,
  helm,
  type K8sObject,
  podTemplates,
  render,
  template,
} from './helm.js';

const CPU = { valuesFiles: ['ci/cpu-small-values.yaml'] };
const GPU = { valuesFiles: ['ci/gpu-cluster-values.yaml'] };
const EXT = { valuesFiles: ['ci/external-nats-values.yaml'] };

before(() => ensureHelm());

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
    assert.equal(
      envValue(container, 'EVALUATOR_POLICY_TARGET'),
      'dns:///verdict-policy-server-headless:50051',
    );
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
    assert.equal(run.student.checkpointUri, '/data/models/qwen2.5-0.5b-instruct');
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

  test('reward weights must sum to 1, and ρ > 0 needs a single reward-service replica', () => {
    const sum = template({ setJson: ['rewardService.rhoRerank=0.5'] });
    assert.notEqual(sum.status, 0);
    assert.match(sum.stderr, /rewardService\.lambdaVr \+ muJudge \+ rhoRerank must sum to 1 \(got 1\.5\)/);
    const rerank = [
      'rewardService.lambdaVr=0.5',
      'rewardService.muJudge=0.25',
      'rewardService.rhoRerank=0.25',
    ];
    assert.equal(template({ setJson: rerank }).status, 0);
    const replicas = template({ setJson: [...rerank, 'rewardService.replicaCount=2'] });
    assert.notEqual(replicas.status, 0);
    assert.match(replicas.stderr, /rhoRerank > 0 needs rewardService\.replicaCount = 1/);
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

describe('NOTES.txt', () => {
  const copy = mkdtempSync(join(tmpdir(), 'verdict-notes-'));
  after(() => rmSync(copy, { recursive: true, force: true }));

  // helm template does not render NOTES.txt (helm 3 needs a cluster for install --dry-run): render
  // it from a copy of the chart where it is wrapped as a YAML block scalar.
  test('shows the grpcurl JudgeBatch call, verdict judge --remote and the manual evaluation', () => {
    const chart = join(copy, 'verdict');
    cpSync(chartDir, chart, { recursive: true });
    const notes = readFileSync(join(chart, 'templates/NOTES.txt'), 'utf8');
    rmSync(join(chart, 'templates/NOTES.txt'));
    const block = notes
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n');
    writeFileSync(join(chart, 'templates/notes-check.yaml'), `notes: |\n${block}\n`);
    const r = helm(['template', 'verdict', chart, '-n', 'ml', '--show-only', 'templates/notes-check.yaml']);
    assert.equal(r.status, 0, r.stderr);
    const text = String((parseDocument(r.stdout).toJS() as { notes: string }).notes);
    assert.match(text, /port-forward svc\/verdict-judge-server 50052:50052/);
    assert.match(text, /-proto verdict\/judge\/v1\/judge\.proto/);
    assert.match(text, /verdict\.judge\.v1\.JudgeService\/JudgeBatch/);
    assert.match(text, /"items":\[\{"id":"q1","question":/);
    assert.match(text, /npx verdict judge --remote localhost:50052/);
    assert.match(text, /kubectl -n ml create job --from=cronjob\/verdict-evaluator eval-manual/);
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

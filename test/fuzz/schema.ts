// The RPCs to fuzz, from the protobuf descriptors: `buf build` (pinned in package-lock, offline)
// compiles proto/ into a FileDescriptorSet and @bufbuild/protobuf reads it. The generated
// ts-proto code carries no descriptors, and the .proto files are the contract anyway.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFileRegistry, type DescMethod, type DescService, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const HEALTH = 'grpc.health.v1.Health';

/** The gRPC services each server hosts (every one also serves the standard health service). */
export const SERVERS: Readonly<Record<string, readonly string[]>> = {
  'judge-server': ['verdict.judge.v1.JudgeService', 'verdict.judge.v1.JudgeInfoService', HEALTH],
  'reward-service': ['verdict.reward.v1.RewardService', HEALTH],
  'policy-server': ['verdict.policy.v1.PolicyService', HEALTH],
  learner: ['verdict.learner.v1.LearnerService', HEALTH],
  evaluator: ['verdict.evaluator.v1.EvaluatorService', HEALTH],
};

/** The stack's address key of each server (startStack's `addresses`). */
export const ADDRESS_KEY: Readonly<Record<string, string>> = {
  'judge-server': 'judge-server',
  'reward-service': 'reward-service',
  'policy-server': 'policy-server-0',
  learner: 'learner',
  evaluator: 'evaluator',
};

export interface FuzzMethod {
  /** `server/Service/Method`, e.g. `judge-server/JudgeService/JudgeBatch` (the replay key). */
  readonly id: string;
  readonly server: string;
  /** The HTTP/2 path, `/package.Service/Method`. */
  readonly path: string;
  readonly desc: DescMethod;
}

export interface FuzzSchema {
  readonly methods: readonly FuzzMethod[];
  /** Every fully-qualified service name (the health service's plausible `service` values). */
  readonly serviceNames: readonly string[];
}

export function loadSchema(): FuzzSchema {
  const bytes = execFileSync(
    `${ROOT}node_modules/.bin/buf`,
    ['build', '--as-file-descriptor-set', '-o', '-#format=binpb'],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  const methods: FuzzMethod[] = [];
  const serviceNames = new Set<string>();
  for (const [server, services] of Object.entries(SERVERS)) {
    for (const name of services) {
      const service: DescService | undefined = registry.getService(name);
      if (service === undefined) throw new Error(`fuzz: service ${name} is not in proto/`);
      serviceNames.add(name);
      for (const m of service.methods) {
        methods.push({
          id: `${server}/${service.name}/${m.name}`,
          server,
          path: `/${name}/${m.name}`,
          desc: m,
        });
      }
    }
  }
  return { methods, serviceNames: [...serviceNames] };
}

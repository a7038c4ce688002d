// The five services the fuzzer talks to: the end-to-end tests' toy stack (tiny random models, the
// in-process messaging transport, free loopback ports), started by the one launcher.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '@verdict/cli/stack';
import { disposeInMemoryBroker } from '@verdict/runtime';
import { toyStackOptions } from '../support/stack.js';
import { writeToyJudge, writeToyStudent } from '../support/toy-models.js';

export interface FuzzStack {
  readonly addresses: Readonly<Record<string, string>>;
  /** The toy student's folder (a valid `checkpoint_uri`). */
  readonly studentDir: string;
  stop(): Promise<void>;
}

export async function startFuzzStack(): Promise<FuzzStack> {
  const broker = `fuzz-${process.pid}-${Date.now()}`;
  const student = writeToyStudent();
  const judge = writeToyJudge();
  const work = mkdtempSync(join(tmpdir(), 'verdict-fuzz-'));
  const cleanup = () => {
    disposeInMemoryBroker(broker);
    student.cleanup();
    judge.cleanup();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const stack = await startStack(
      toyStackOptions({
        natsUrl: `mem://${broker}`,
        studentDir: student.dir,
        judgeDir: judge.dir,
        workDir: work,
      }),
    );
    return {
      addresses: stack.addresses,
      studentDir: student.dir,
      stop: async () => {
        try {
          await stack.stop();
        } finally {
          cleanup();
        }
      },
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}

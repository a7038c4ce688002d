import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { rolloutV1 } from '@verdict/proto';
import { connectNats } from '@verdict/runtime';
import { startNatsServer } from '@verdict/runtime/testing';
import { ROLLOUTS_STREAM } from '../src/streams.js';
import { generated, REWARD_BIN, startJudgeServerProcess, startServiceProcess, waitFor } from './helpers.js';
import { writeToyJudgeModel } from './toy-judge-model.js';

/**
 * The reward-service as a child process, SIGKILLed while it is scoring and restarted: every
 * generated rollout ends up scored exactly once by id (acks only after the scored publish; the
 * scored message id dedupes the re-scoring of rollouts that were in flight at the kill).
 */
describe('reward-service SIGKILL mid-stream', () => {
  const fixture = writeToyJudgeModel();
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    fixture.cleanup();
  });

  it('scores every rollout exactly once across a kill and restart', async () => {
    const nats = await startNatsServer();
    const judge = await startJudgeServerProcess(fixture.dir);
    children.push(judge.child);
    const m = await connectNats({ servers: nats.url, name: 'test' });
    try {
      await m.ensureStream(ROLLOUTS_STREAM);
      await m.ensureConsumer({
        stream: ROLLOUTS_STREAM.name,
        name: 'test-scored',
        filterSubject: 'verdict.rollout.scored',
      });
      const N = 300;
      for (let i = 0; i < N; i++) {
        const g = generated(`k-${i}`, {
          labeled: i % 2 === 0,
          gold: '4',
          completion: `It is ${i % 7}. #### ${i % 7}`,
        });
        await m.publish('verdict.rollout.generated', rolloutV1.RolloutGenerated.encode(g).finish(), {
          msgId: `k-${i}:generated`,
        });
      }
      const counts = new Map<string, number>();
      const stop = new AbortController();
      const collector = m.consume({
        stream: ROLLOUTS_STREAM.name,
        consumer: 'test-scored',
        signal: stop.signal,
        handler: (msg) => {
          const id = rolloutV1.RolloutScored.decode(msg.data).generated?.request?.rolloutId ?? '?';
          counts.set(id, (counts.get(id) ?? 0) + 1);
          return 'ack';
        },
      });
      const env = {
        NATS_URL: nats.url,
        JUDGE_ADDRESS: judge.address,
        REWARD_HOST: '127.0.0.1',
        REWARD_PORT: '0',
        REWARD_CONCURRENCY: '4',
        REWARD_ACK_WAIT: '2s',
        LOG_LEVEL: 'error',
      };
      const first = await startServiceProcess(REWARD_BIN, env);
      children.push(first.child);
      await waitFor(() => counts.size >= 20, 60_000);
      first.child.kill('SIGKILL');
      const scoredAtKill = counts.size;
      const second = await startServiceProcess(REWARD_BIN, env);
      children.push(second.child);
      await waitFor(() => counts.size === N, 120_000);
      // Let redeliveries of in-flight messages (ack wait 2 s) play out before counting.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      stop.abort();
      await collector;
      const info = await m.jetstreamManager.consumers.info(ROLLOUTS_STREAM.name, 'reward-service');
      console.log(
        'sigkill:',
        JSON.stringify({ rollouts: N, scoredAtKill, scored: counts.size, ackPending: info.num_ack_pending }),
      );
      assert.ok(scoredAtKill < N, 'the kill happened mid-stream');
      assert.deepEqual(
        [...counts.entries()].filter(([, c]) => c !== 1),
        [],
        'every rollout scored exactly once',
      );
      assert.equal(counts.size, N);
      assert.equal(info.num_pending + info.num_ack_pending, 0);
      second.child.kill('SIGTERM');
    } finally {
      await m.close();
      await nats.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { type commonV1, judgeV1 } from './index.js';

// A real grpc-js server on port 0 implementing the generated JudgeService definition, to prove the
// generated serializers and streaming flags work end to end (not just encode/decode in memory).
const provenance: commonV1.Provenance = {
  judgeModelId: 'judge-x',
  templateName: 'default',
  templateHash: 'ab',
  calibrationHash: '',
};

function judgeItem(item: judgeV1.JudgeItem): judgeV1.JudgeResult {
  return judgeV1.JudgeResult.fromPartial({
    id: item.id,
    status:
      item.solution === '' ? judgeV1.JudgeStatus.JUDGE_STATUS_INVALID : judgeV1.JudgeStatus.JUDGE_STATUS_OK,
    score: item.solution.length / 10,
    provenance,
  });
}

const server = new Server();
let client: judgeV1.JudgeServiceClient;

before(async () => {
  const implementation: judgeV1.JudgeServiceServer = {
    judgeBatch: (call, callback) => {
      callback(null, { results: call.request.items.map(judgeItem) });
    },
    judgeStream: (call) => {
      // Answer in reverse order once the client half-closes: clients must match results by id.
      const received: judgeV1.JudgeItem[] = [];
      call.on('data', (request: judgeV1.JudgeStreamRequest) => {
        if (request.item) received.push(request.item);
      });
      call.on('end', () => {
        for (const item of received.reverse()) call.write({ result: judgeItem(item) });
        call.end();
      });
    },
  };
  server.addService(judgeV1.JudgeServiceService, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });
  client = new judgeV1.JudgeServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
});

after(() => {
  client.close();
  server.forceShutdown();
});

test('JudgeBatch over a real gRPC connection returns one typed result per item in order', async () => {
  const response = await new Promise<judgeV1.JudgeBatchResponse>((resolve, reject) => {
    client.judgeBatch(
      {
        items: [
          judgeV1.JudgeItem.fromPartial({ id: 'a', solution: '12345' }),
          judgeV1.JudgeItem.fromPartial({ id: 'b' }),
        ],
      },
      (error, value) => (error ? reject(error) : resolve(value)),
    );
  });
  assert.deepEqual(
    response.results.map((result) => [result.id, result.status, result.score]),
    [
      ['a', judgeV1.JudgeStatus.JUDGE_STATUS_OK, 0.5],
      ['b', judgeV1.JudgeStatus.JUDGE_STATUS_INVALID, 0],
    ],
  );
  assert.deepEqual(response.results[0]?.provenance, provenance);
});

test('JudgeStream is bidirectional: results stream back and are matched by id', async () => {
  const call = client.judgeStream();
  const results: judgeV1.JudgeResult[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (response: judgeV1.JudgeStreamResponse) => {
      if (response.result) results.push(response.result);
    });
    call.on('end', resolve);
    call.on('error', reject);
  });
  call.write({ item: judgeV1.JudgeItem.fromPartial({ id: 'x', solution: 'ab' }) });
  call.write({ item: judgeV1.JudgeItem.fromPartial({ id: 'y', solution: 'abcd' }) });
  call.end();
  await done;
  assert.deepEqual(
    results.map((result) => [result.id, result.score]),
    [
      ['y', 0.4],
      ['x', 0.2],
    ],
  );
});

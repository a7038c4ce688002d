import { defineCommand } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';
import { readJudgeItems } from '../judge/judge-items.js';
import { formatJudgeOutput, type JudgeOutput } from '../judge/judge-output.js';

const DEFAULT_DEADLINE = '30s';

export default defineCommand({
  name: 'judge',
  summary:
    'single-token judgment: P(Yes) that an answer solves a question (local model or --remote judge-server)',
  flags: {
    model: { type: 'string', description: 'judge model folder (judge in this process)' },
    remote: { type: 'string', description: 'HOST:PORT of a running judge-server (JudgeBatch over gRPC)' },
    question: { type: 'string', description: 'the question' },
    answer: { type: 'string', description: 'the solution to judge' },
    items: {
      type: 'string',
      description:
        'JSONL file of {"id"?, "question", "answer"} to judge as one batch (prints {"results":[...]})',
    },
    template: {
      type: 'string',
      choices: ['auto', 'plain', 'chat'],
      description:
        "judge prompt: chat template when the model has one (auto), or the plain text (default: auto; with --remote the server's JUDGE_DEFAULT_TEMPLATE)",
    },
    tls: { type: 'boolean', description: 'with --remote: server-authenticated TLS' },
    ca: { type: 'string', description: 'with --tls: PEM CA file that signed the server certificate' },
    cert: { type: 'string', description: 'with --tls: PEM client certificate (mutual TLS; needs --key)' },
    key: { type: 'string', description: 'with --tls: PEM client private key (needs --cert)' },
    serverName: {
      type: 'string',
      description: 'with --tls: expected server certificate name (default HOST)',
    },
    deadline: {
      type: 'string',
      description: `with --remote: deadline of the whole call, retries included (default ${DEFAULT_DEADLINE})`,
    },
  },
  async run(flags, ctx) {
    const { items, batch } = readJudgeItems(flags);
    let results: JudgeOutput[];
    if (flags.remote === undefined) {
      if (flags.model === undefined) throw new UsageError('--model DIR or --remote HOST:PORT is required');
      for (const f of ['tls', 'ca', 'cert', 'key', 'serverName', 'deadline'] as const) {
        if (flags[f] !== undefined && flags[f] !== false) {
          throw new UsageError(`--${f === 'serverName' ? 'server-name' : f} needs --remote`);
        }
      }
      const { judgeLocally } = await import('../judge/local-judge.js');
      results = await judgeLocally(
        flags.model,
        items,
        (flags.template ?? 'auto') as 'auto' | 'plain' | 'chat',
        ctx.progress,
      );
    } else {
      if (flags.model !== undefined) throw new UsageError('give either --model or --remote, not both');
      const [{ parseRemoteAddress }, { parseDurationMs }] = await Promise.all([
        import('../judge/remote-address.js'),
        import('@verdict/runtime'),
      ]);
      const address = parseRemoteAddress('remote', flags.remote);
      const deadlineText = flags.deadline ?? DEFAULT_DEADLINE;
      const deadlineMs = parseDurationMs(deadlineText);
      if (deadlineMs === undefined || deadlineMs <= 0) {
        throw new UsageError(
          `--deadline must be a duration like 30s or 500ms (got ${JSON.stringify(deadlineText)})`,
        );
      }
      for (const f of ['ca', 'cert', 'key', 'serverName'] as const) {
        if (flags[f] !== undefined && !flags.tls) {
          throw new UsageError(`--${f === 'serverName' ? 'server-name' : f} needs --tls`);
        }
      }
      if ((flags.cert === undefined) !== (flags.key === undefined)) {
        throw new UsageError('--cert and --key go together (mutual TLS)');
      }
      const { judgeRemotely } = await import('../judge/remote-judge.js');
      results = await judgeRemotely(
        items,
        {
          address,
          deadlineMs,
          template: flags.template ?? '',
          ...(flags.tls
            ? {
                tls: {
                  ...(flags.ca !== undefined ? { caFile: flags.ca } : {}),
                  ...(flags.cert !== undefined ? { certFile: flags.cert } : {}),
                  ...(flags.key !== undefined ? { keyFile: flags.key } : {}),
                  ...(flags.serverName !== undefined ? { serverName: flags.serverName } : {}),
                },
              }
            : {}),
        },
        ctx.progress,
      );
    }
    if (batch) return { results: results.map((r, i) => ({ id: items[i]!.id, ...r })) };
    const [r] = results;
    if (r === undefined) throw new Error('judge returned no result');
    if (r.status === 'INVALID') throw new UsageError(`the judge rejected the item: ${r.message}`);
    if (r.status !== 'OK') {
      const { CommandFailure } = await import('../framework/command-failure.js');
      throw new CommandFailure(`the judge answered ${r.status}: ${r.message}`);
    }
    return r;
  },
  format: formatJudgeOutput,
});

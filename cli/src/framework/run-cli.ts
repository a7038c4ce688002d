import type { Command, CommandContext } from './command.js';
import { CommandFailure } from './command-failure.js';
import { type FlagSpec, type FlagSpecs, GLOBAL_FLAGS, kebab, parseFlags } from './flags.js';
import { UsageError } from './usage-error.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Error codes (ModelError, VerdictError) that mean "the input was bad", not "we failed". */
const BAD_INPUT_CODES = new Set([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'INVALID_CONFIG',
  'UNSUPPORTED_ARCHITECTURE',
  'INVALID_CHECKPOINT',
  'SHAPE_MISMATCH',
  'INVALID_TOKENIZER',
  'FAILED_PRECONDITION',
]);

function isBadInput(e: unknown): boolean {
  if (e instanceof UsageError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && BAD_INPUT_CODES.has(code);
}

function flagLine(name: string, spec: FlagSpec): string {
  const arg =
    spec.type === 'boolean' ? '' : spec.type === 'string' ? ' TEXT' : spec.type === 'int' ? ' N' : ' X';
  const extra: string[] = [];
  if ('required' in spec && spec.required) extra.push('required');
  if ('default' in spec && spec.default !== undefined) extra.push(`default ${spec.default}`);
  if (spec.type === 'string' && spec.choices) extra.push(`one of ${spec.choices.join('|')}`);
  const head = `  --${kebab(name)}${arg}`;
  return `${head.padEnd(28)} ${spec.description}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

export function commandHelp(cmd: Command): string {
  const lines = [`verdict ${cmd.name} — ${cmd.summary}`, '', 'flags:'];
  const all: FlagSpecs = { ...cmd.flags, ...GLOBAL_FLAGS };
  for (const [name, spec] of Object.entries(all)) lines.push(flagLine(name, spec));
  return `${lines.join('\n')}\n`;
}

export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  const lines = [
    'usage: verdict <command> [flags]   (verdict <command> --help for its flags)',
    '',
    'commands:',
  ];
  for (const c of commands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  return `${lines.join('\n')}\n`;
}

/** Finds the command whose (possibly multi-word) name is the longest prefix of argv. */
function match(
  commands: readonly Command[],
  argv: readonly string[],
): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of commands) {
    const words = cmd.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.cmd.name.split(' ').length)) {
      best = { cmd, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/**
 * Runs one invocation and returns the exit code: 0 success, 2 bad input (one line on stderr),
 * 1 anything else. With --json the result is exactly one JSON document on stdout.
 */
export async function runCli(
  commands: readonly Command[],
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    io.stdout(mainHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  const found = match(commands, argv);
  if (!found) {
    io.stderr(`verdict: unknown command ${JSON.stringify(argv[0])} (try verdict --help)\n`);
    return 2;
  }
  const { cmd, rest } = found;
  if (rest.includes('--help')) {
    io.stdout(commandHelp(cmd));
    return 0;
  }
  try {
    const parsed = parseFlags({ ...cmd.flags, ...GLOBAL_FLAGS }, rest);
    const ctx: CommandContext = { json: parsed.json, progress: (m) => io.stderr(`${m}\n`) };
    const result = await cmd.run(parsed, ctx);
    if (parsed.json) io.stdout(`${cmd.formatJson ? cmd.formatJson(result) : JSON.stringify(result)}\n`);
    else io.stdout(`${cmd.format ? cmd.format(result) : JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    if (isBadInput(e)) {
      io.stderr(`verdict ${cmd.name}: ${message}\n`);
      return 2;
    }
    if (e instanceof CommandFailure) {
      io.stderr(`verdict ${cmd.name}: ${message}\n`);
      return 1;
    }
    io.stderr(`verdict ${cmd.name}: failed: ${e instanceof Error ? (e.stack ?? message) : message}\n`);
    return 1;
  }
}

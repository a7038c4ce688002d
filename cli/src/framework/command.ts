import type { FlagSpecs, ParsedFlags } from './flags.js';

/** What a command can use besides its flags. */
export interface CommandContext {
  /** True with --json: the command's result is printed as one JSON document. */
  readonly json: boolean;
  /** Progress and diagnostics: always stderr, so stdout stays one JSON document. */
  progress(message: string): void;
}

/**
 * A `verdict` subcommand. Adding one is one file in src/commands/ whose default export is
 * `defineCommand({...})`; the registry finds it. Import heavy packages inside `run` (dynamic
 * import) so `verdict --help` and other commands stay fast.
 */
export interface Command<S extends FlagSpecs = FlagSpecs> {
  /** One or more words: 'generate', 'toy prepare'. */
  readonly name: string;
  readonly summary: string;
  readonly flags: S;
  /** The result: printed as JSON with --json, else through `format` (default: pretty JSON). */
  run(flags: ParsedFlags<S>, ctx: CommandContext): Promise<unknown>;
  format?(result: unknown): string;
  /**
   * With --json, the text printed instead of `JSON.stringify(result)`. Only for documented
   * exceptions to "one JSON document" (DESIGN.md §6: `generate --batch-file` prints one JSON
   * line per row).
   */
  formatJson?(result: unknown): string;
}

/** Identity helper that keeps the flag types of a command literal. */
export function defineCommand<const S extends FlagSpecs>(command: Command<S>): Command<S> {
  return command;
}

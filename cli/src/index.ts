export { type Command, type CommandContext, defineCommand } from './framework/command.js';
export { CommandFailure } from './framework/command-failure.js';
export { type FlagSpec, type FlagSpecs, type ParsedFlags, parseFlags } from './framework/flags.js';
export { loadCommands } from './framework/registry.js';
export { type CliIo, commandHelp, mainHelp, runCli } from './framework/run-cli.js';
export { UsageError } from './framework/usage-error.js';

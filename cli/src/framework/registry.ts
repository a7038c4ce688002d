import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';

const COMMANDS_DIR = new URL('../commands/', import.meta.url);

function isCommand(x: unknown): x is Command {
  const c = x as Partial<Command> | undefined;
  return typeof c?.name === 'string' && typeof c.run === 'function' && typeof c.flags === 'object';
}

/**
 * Every module in src/commands/ whose default export is a command: adding a command is adding
 * one file. Sorted by name; duplicate names are a programming error.
 */
export async function loadCommands(dir: URL = COMMANDS_DIR): Promise<Command[]> {
  const files = readdirSync(fileURLToPath(dir))
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !/\.(test|d)\.ts$/.test(f))
    .sort();
  const commands: Command[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as { default?: unknown };
    const cmd = mod.default;
    if (!isCommand(cmd)) throw new Error(`src/commands/${file}: default export is not a command`);
    if (commands.some((c) => c.name === cmd.name)) throw new Error(`command "${cmd.name}" defined twice`);
    commands.push(cmd);
  }
  return commands.sort((a, b) => a.name.localeCompare(b.name));
}

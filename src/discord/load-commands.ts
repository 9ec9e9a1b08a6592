import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { isCommand, type Command } from './command.js';

const COMMANDS_DIR = fileURLToPath(new URL('../../commands/', import.meta.url));

/** Imports every commands/*.ts file and checks it exports a command. */
export async function loadCommands(directory = COMMANDS_DIR): Promise<Map<string, Command>> {
  const files = (await readdir(directory)).filter((file) => /\.(ts|js)$/.test(file) && !file.endsWith('.d.ts'));
  const commands = new Map<string, Command>();
  for (const file of files.sort()) {
    const module = (await import(pathToFileURL(path.join(directory, file)).href)) as { default?: unknown };
    if (!isCommand(module.default)) {
      throw new Error(`commands/${file} must export default { data, execute } (a slash command).`);
    }
    const name = module.default.data.name;
    if (commands.has(name)) throw new Error(`Two files define the command /${name}.`);
    commands.set(name, module.default);
  }
  return commands;
}

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { bindCharacter } from '../chat/conversations.js';
import type { SinkFactory } from '../chat/responder.js';
import { resolveActor } from '../core/identity.js';
import { createDeps } from '../deps.js';
import { UserError } from '../errors.js';
import { exitWith, startProcess } from '../process.js';
import { startWorkers } from '../workers.js';
import { waitForMemoryWork } from './memory-work.js';
import { terminalChannelId, terminalConfig, terminalUserId } from './terminal-config.js';
import { characterFromCard, findTerminalCharacter, listText } from './terminal-characters.js';
import { TerminalSink } from './terminal-sink.js';

const USAGE =
  'Usage: npm run chat -- (--character "<name>" | --card path/to/card.png | --list) [--user <your name>] [--wait-memory] [--log <file>]';

/**
 * `npm run chat -- --character "Aria"`: talk with a character from a terminal
 * through the same core as Discord (same database, memories and providers),
 * with the memory workers running in this process. Reads lines from standard
 * input, so scripts can drive it too; replies go to standard output, logs to
 * standard error (or `--log <file>`). At the end of input it waits for the
 * memory work still queued, the notes taken NOTES_DELAY_MS after the last
 * reply included; with `--wait-memory` it also waits after each reply (notes
 * are then taken at once), so the next line is answered with that exchange
 * remembered and noted.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      character: { type: 'string', short: 'c' },
      card: { type: 'string' },
      list: { type: 'boolean', default: false },
      user: { type: 'string', short: 'u' },
      'wait-memory': { type: 'boolean', default: false },
      log: { type: 'string' },
    },
    allowPositionals: false,
  });
  if (!values.character && !values.card && !values.list) throw new UserError(USAGE);
  const logTo = pino.destination({ dest: values.log ?? 2, sync: true, mkdir: Boolean(values.log) });
  const { config, logger } = startProcess('terminal', logTo);
  const deps = await createDeps(terminalConfig(config, { waitMemory: values['wait-memory'] }), logger);
  try {
    await startWorkers(deps);
    const userName = values.user ?? process.env.USER ?? 'you';
    const em = deps.database.orm.em.fork();
    // The terminal is a user of its own, outside any server: it sees its own and public characters.
    const actor = await resolveActor(em, { user: { id: terminalUserId(userName), username: userName } });
    if (values.list) return void process.stdout.write(await listText(em, actor));
    const character = values.card
      ? await cardCharacter(em, deps.queue, actor, values.card)
      : await findTerminalCharacter(em, actor, values.character ?? '');
    const channelId = terminalChannelId(actor.user.id, character.id);
    const conversation = await bindCharacter(em, actor, { id: channelId, kind: 'dm', name: 'terminal' }, character, {
      replyMode: 'all',
    });
    const sinks: SinkFactory = (speaker) => new TerminalSink(speaker, process.stdout);
    const interactive = process.stdin.isTTY;
    if (conversation.messageCount === 0) await deps.responder.greet(conversation.id, userName, sinks);
    const lines = createInterface({ input: process.stdin, terminal: interactive });
    if (interactive) process.stdout.write(`Talking with ${character.name}. Ctrl+D to leave.\n> `);
    for await (const line of lines) {
      const content = line.trim();
      if (content) {
        await deps.responder.onMessage(
          { channelId, author: { id: actor.user.discordId, username: userName }, content, addressed: true },
          sinks,
        );
        if (values['wait-memory']) await waitForMemoryWork(deps.queue);
      }
      if (interactive) process.stdout.write('> ');
    }
    // The in-process queue forgets what it has not run: finish the memory work before leaving.
    if (interactive)
      process.stderr.write(`Saving memories and notes (notes are taken ${deps.config.notesDelayMs / 1000} s after a reply)…\n`);
    await waitForMemoryWork(deps.queue);
  } finally {
    await deps.close();
  }
}

/** The character of `--card`, saying on stderr whether it was imported now and what of the card was not kept. */
async function cardCharacter(...args: Parameters<typeof characterFromCard>) {
  const { character, imported, notes } = await characterFromCard(...args);
  process.stderr.write(
    imported
      ? `Imported ${character.name}.${notes.length ? ` Not kept: ${notes.join('; ')}.` : ''}\n`
      : `Using ${character.name}, imported earlier from this file.\n`,
  );
  return character;
}

main().catch((error: unknown) => {
  if (error instanceof UserError) {
    console.error(error.message);
    process.exit(1);
  }
  exitWith(error);
});

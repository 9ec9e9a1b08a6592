import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { findUsableCharacter } from '../characters/characters.js';
import { bindCharacter } from '../chat/conversations.js';
import type { SinkFactory } from '../chat/responder.js';
import { resolveActor } from '../core/identity.js';
import { createDeps } from '../deps.js';
import { UserError } from '../errors.js';
import { INGEST_QUEUE } from '../knowledge/knowledge.js';
import { MEMORIZE_QUEUE } from '../memory/memorize.js';
import { SUMMARIZE_QUEUE } from '../memory/summary.js';
import { exitWith, startProcess } from '../process.js';
import { waitForQueues } from '../queue/drain.js';
import { startWorkers } from '../workers.js';
import { terminalChannelId, terminalConfig, terminalUserId } from './terminal-config.js';
import { TerminalSink } from './terminal-sink.js';

const USAGE = 'Usage: npm run chat -- --character "<name>" [--user <your name>] [--wait-memory] [--log <file>]';
const MEMORY_QUEUES = [MEMORIZE_QUEUE, SUMMARIZE_QUEUE, INGEST_QUEUE] as const;

/**
 * `npm run chat -- --character "Aria"`: talk with a character from a terminal
 * through the same core as Discord (same database, memories and providers),
 * with the memory workers running in this process. Reads lines from standard
 * input, so scripts can drive it too; replies go to standard output, logs to
 * standard error (or `--log <file>`). At the end of input it waits for the
 * memory work still queued; with `--wait-memory` it also waits after each
 * reply, so the next line is answered with that exchange remembered.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      character: { type: 'string', short: 'c' },
      user: { type: 'string', short: 'u' },
      'wait-memory': { type: 'boolean', default: false },
      log: { type: 'string' },
    },
    allowPositionals: false,
  });
  if (!values.character) throw new UserError(USAGE);
  const logTo = pino.destination({ dest: values.log ?? 2, sync: true, mkdir: Boolean(values.log) });
  const { config, logger } = startProcess('terminal', logTo);
  const deps = await createDeps(terminalConfig(config), logger);
  try {
    await startWorkers(deps);
    const userName = values.user ?? process.env.USER ?? 'you';
    const em = deps.database.orm.em.fork();
    // The terminal is a user of its own, outside any server: it sees its own and public characters.
    const actor = await resolveActor(em, { user: { id: terminalUserId(userName), username: userName } });
    const character = await findUsableCharacter(em, actor, values.character);
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
        if (values['wait-memory']) await waitForQueues(deps.queue, MEMORY_QUEUES);
      }
      if (interactive) process.stdout.write('> ');
    }
    // The in-process queue forgets what it has not run: finish the memory work before leaving.
    if (interactive) process.stderr.write('Saving memories…\n');
    await waitForQueues(deps.queue, MEMORY_QUEUES);
  } finally {
    await deps.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UserError) {
    console.error(error.message);
    process.exit(1);
  }
  exitWith(error);
});

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { findUsableCharacter } from '../characters/characters.js';
import { bindCharacter } from '../chat/conversations.js';
import type { SinkFactory } from '../chat/responder.js';
import { resolveActor } from '../core/identity.js';
import { createDeps } from '../deps.js';
import { UserError } from '../errors.js';
import { exitWith, startProcess } from '../process.js';
import { TerminalSink } from './terminal-sink.js';

const USAGE = 'Usage: npm run chat -- --character "<name>" [--user <your name>]';

/**
 * `npm run chat -- --character "Aria"`: talk with a character from a terminal
 * through the same core as Discord (same database, memories and providers).
 * Reads lines from standard input, so scripts can drive it too.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { character: { type: 'string', short: 'c' }, user: { type: 'string', short: 'u' } },
    allowPositionals: false,
  });
  if (!values.character) throw new UserError(USAGE);
  const { config, logger } = startProcess('terminal');
  const deps = await createDeps(config, logger);
  try {
    const userName = values.user ?? process.env.USER ?? 'you';
    const em = deps.database.orm.em.fork();
    // The terminal is a user of its own, outside any server: it sees its own and public characters.
    const actor = await resolveActor(em, { user: { id: `terminal-${userName}`.slice(0, 20), username: userName } });
    const character = await findUsableCharacter(em, actor, values.character);
    const channelId = `term-${character.id.replaceAll('-', '').slice(0, 15)}`;
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
      }
      if (interactive) process.stdout.write('> ');
    }
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

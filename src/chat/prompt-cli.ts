import { parseArgs } from 'node:util';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Character, Conversation, Guild, User, type ICharacter, type IConversation } from '../db/entities/index.js';
import { resolveActor, type Actor } from '../core/identity.js';
import { isUuid } from '../core/uuid.js';
import { createDeps, type OwnedDeps } from '../deps.js';
import { UserError } from '../errors.js';
import { contextWindowOf } from '../llm/models.js';
import { exitWith, startProcess } from '../process.js';
import { HISTORY_FETCH_LIMIT, recentHistory } from './history.js';
import { buildPrompt, type BuiltPrompt, type HistoryEntry, type PromptMemory } from './prompt.js';
import { answeredLine, assemblePrompt } from './prompt-input.js';
import { recall } from './retrieval.js';
import { withPersonaMacros } from './generate.js';
import { personasIn } from '../personas/describe.js';

const USAGE =
  'Usage: npm run prompt -- --character "<name or id>" [--conversation <id or Discord channel id>] [--message "<text>"] [--user <name>]';

/**
 * `npm run prompt -- --character "Aria"`: prints the exact prompt the character's next reply would get, part by
 * part with its token count — what a card author uses SillyTavern's prompt view for. Reads the same database as
 * the bot (the embedded one when DATABASE_URL is not set) and changes nothing: lore timed effects are not saved.
 * With --conversation, that conversation's history, summary and memories; by default the character's latest
 * conversation. With --message, as if someone (--user) had just written that.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      character: { type: 'string', short: 'c' },
      conversation: { type: 'string' },
      message: { type: 'string', short: 'm' },
      user: { type: 'string', short: 'u' },
    },
    allowPositionals: false,
  });
  if (!values.character) throw new UserError(USAGE);
  const { config, logger } = startProcess('prompt');
  const deps = await createDeps(config, logger);
  try {
    process.stdout.write(
      await inspectPrompt(deps, {
        character: values.character,
        conversation: values.conversation,
        message: values.message,
        user: values.user,
      }),
    );
  } finally {
    await deps.close();
  }
}

export async function inspectPrompt(
  deps: Pick<OwnedDeps, 'database' | 'embedder' | 'providers' | 'config'>,
  options: { character: string; conversation?: string; message?: string; user?: string },
): Promise<string> {
  const em = deps.database.orm.em.fork();
  const character = await findCharacter(em, options.character);
  const conversation = await findConversation(em, character, options.conversation);
  const history: HistoryEntry[] = conversation ? await recentHistory(em, conversation.id, HISTORY_FETCH_LIMIT) : [];
  const userName = options.user ?? history.findLast((entry) => entry.role === 'user')?.speaker ?? 'User';
  if (options.message) history.push({ id: 'next', role: 'user', speaker: userName, content: options.message, at: new Date() });
  const actor = await actorFor(em, conversation, history, userName);
  const warnings: string[] = [];

  let model = character.config.model ?? '(the provider’s default)';
  let contextWindow: number;
  try {
    const resolved = await deps.providers.resolve(em, { actor, character });
    model = resolved.model;
    contextWindow = resolved.contextWindow;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    contextWindow = contextWindowOf(character.config.model ?? '', {
      character: character.config.context_window,
      operator: deps.config.contextWindow,
    });
    warnings.push(`No provider answers here (${error.message}); the context size is assumed.`);
  }

  let recalled: PromptMemory[] = [];
  if (conversation && character.config.memory_enabled !== false && history.length) {
    try {
      recalled = await recall(em, deps.embedder, {
        characterId: character.id,
        conversationId: conversation.id,
        recent: history,
        userId: actor.user.id,
        guildId: actor.guild?.discordId ?? '',
        direct: conversation.kind === 'dm',
        shared: character.config.shared_memory,
      });
    } catch (error) {
      warnings.push(`Memories could not be recalled: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  // The responder's own assembly: lore, recalled memories, the summary, the notes about the person and the pins.
  const personas = withPersonaMacros(await personasIn(em, history, answeredLine(history, actor)), character.name);
  const { promptInput, activated } = await assemblePrompt(em, {
    conversation: conversation ?? ({ id: NO_CONVERSATION, kind: 'dm', settings: {} } as unknown as IConversation),
    character,
    actor,
    history,
    recalled,
    contextWindow,
    dryRun: true,
    personaDescription: personas.user?.description,
  });
  const prompt = buildPrompt({ ...promptInput, personas });
  const lore = activated.map(
    (entry) =>
      `${entry.item.name} (${entry.trigger}, ${entry.position}${entry.position === 'at_depth' ? ` ${entry.depth} as ${entry.role}` : ''})`,
  );
  return render(prompt, {
    character: character.name,
    conversation: conversation?.discordChannelId,
    model,
    contextWindow,
    lore,
    warnings,
  });
}

function render(
  prompt: BuiltPrompt,
  info: { character: string; conversation?: string; model: string; contextWindow: number; lore: string[]; warnings: string[] },
): string {
  const lines = [
    `Prompt for ${info.character}'s next reply${info.conversation ? ` in conversation ${info.conversation}` : ' (no conversation yet)'}`,
    `Model ${info.model} · context ${info.contextWindow} tokens · prompt ${prompt.promptTokens} · kept for the reply ${prompt.maxOutputTokens}`,
    `{{user}} is ${prompt.user} · history ${prompt.includedHistory.length} messages (${prompt.droppedHistory} older left out) · memories ${prompt.memories.length} · notes ${prompt.includedNotes.length} · pinned ${prompt.includedPins.length}`,
    `Lore activated: ${info.lore.length ? info.lore.join('; ') : 'none'}`,
    ...info.warnings.map((warning) => `Note: ${warning}`),
    '',
  ];
  for (const part of prompt.parts) {
    const who = part.message.name ? ` (${part.message.name})` : '';
    lines.push(`── ${part.section} · ${part.message.role}${who} · ${part.tokens} tokens ──`, part.message.content, '');
  }
  return `${lines.join('\n')}\n`;
}

async function findCharacter(em: EntityManager, key: string): Promise<ICharacter> {
  const byId = isUuid(key) ? await em.findOne(Character, key) : null;
  const found =
    byId ?? (await em.findOne(Character, { name: { $ilike: key.replace(/[%_\\]/g, '\\$&') } }, { orderBy: { updatedAt: 'desc' } }));
  if (!found) throw new UserError(`No character is called “${key}”.`);
  return found as ICharacter;
}

async function findConversation(em: EntityManager, character: ICharacter, key?: string): Promise<IConversation | undefined> {
  if (key) {
    const found = await em.findOne(Conversation, isUuid(key) ? { id: key } : { discordChannelId: key });
    if (!found) throw new UserError(`No conversation “${key}”.`);
    return found as IConversation;
  }
  const latest = await em.findOne(Conversation, { character: character.id }, { orderBy: { updatedAt: 'desc' } });
  return (latest ?? undefined) as IConversation | undefined;
}

/**
 * Who the reply would answer, as the responder would: the person of that name who spoke here (their notes are
 * the ones shown), else whoever started the conversation, in the conversation's server; else a stand-in.
 */
async function actorFor(
  em: EntityManager,
  conversation: IConversation | undefined,
  history: HistoryEntry[],
  userName: string,
): Promise<Actor> {
  const spoke = history.findLast((entry) => entry.role === 'user' && entry.speaker === userName && entry.authorId)?.authorId;
  const userId = spoke ?? conversation?.user?.id;
  const user = userId ? await em.findOne(User, userId) : null;
  if (user) {
    const guild = conversation?.guild ? await em.findOne(Guild, conversation.guild.id) : null;
    return { user: user as Actor['user'], ...(guild ? { guild: guild as Actor['guild'] } : {}), isGuildAdmin: false };
  }
  return resolveActor(em, { user: { id: `prompt-${userName}`.slice(0, 20), username: userName } });
}

/** A conversation id that matches nothing (a character that has not talked yet). */
const NO_CONVERSATION = '00000000-0000-0000-0000-000000000000';

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!)) {
  main().catch((error: unknown) => {
    if (error instanceof UserError) {
      console.error(error.message);
      process.exit(1);
    }
    exitWith(error);
  });
}

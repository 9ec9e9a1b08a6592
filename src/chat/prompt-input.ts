import type { EntityManager } from '@mikro-orm/postgresql';
import { cardExtensions, loreBookOf } from '../cards/card-json.js';
import type { Actor } from '../core/identity.js';
import type { ICharacter, IConversation } from '../db/entities/index.js';
import { activateLore, type ActivatedLore, type GlobalScanData, loadLore, loreBudget } from '../knowledge/lore.js';
import { timedLoreOf } from '../knowledge/lore-timed.js';
import type { LoreRole } from '../knowledge/types.js';
import { notesForPrompt } from '../memory/notes.js';
import { pinsForPrompt } from '../memory/pins.js';
import { summaryOf } from '../memory/summary.js';
import { messageCount } from './history.js';
import { fillMacros, type MacroContext } from './macros.js';
import type { HistoryEntry, PromptCharacter, PromptInput, PromptLore, PromptMemory, PromptNote, PromptPin } from './prompt.js';
import { ST_DEFAULTS } from './prompt-sections.js';

/**
 * Gathers what one reply's prompt is made of: the card as written, the person answered ({{user}}), the lore its
 * rules activate (and the timed-effects state to keep), recalled memories minus any lore, and, unless the
 * character's memory is off, the running summary, the notes about the person answered (within the privacy rule)
 * and the conversation's pinned messages. The responder and `npm run prompt` both build from this, so what the
 * one shows is what the other sends. With `dryRun` (npm run prompt), nothing is saved.
 */
export async function assemblePrompt(
  em: EntityManager,
  input: {
    conversation: IConversation;
    character: ICharacter;
    actor?: Actor;
    history: HistoryEntry[];
    recalled: PromptMemory[];
    contextWindow: number;
    continuing?: boolean;
    /** What the character could know starts here (it joined a scene late): no summary and no pins. */
    since?: Date;
    dryRun?: boolean;
    now?: Date;
    /** The persona description of the person answered (macros filled), for lore that scans it. */
    personaDescription?: string;
  },
): Promise<{ promptInput: PromptInput; activated: ActivatedLore[]; saveLoreState: () => Promise<void> }> {
  const { character, history, conversation } = input;
  const macros = macroContext(history, input.actor, input.now);
  const items = await loadLore(em, character.id);
  const book = loreBookOf(character);
  const timedAware = items.some(({ entry }) => entry.delay || entry.sticky || entry.cooldown);
  const chatLength = timedAware ? await messageCount(em, conversation.id) : history.length;
  const previous = timedLoreOf((conversation.settings as { timedWorldInfo?: unknown }).timedWorldInfo);
  const substitute = (text: string) => fillMacros(text, { ...macros, char: character.name });
  const { entries, timed } = items.length
    ? activateLore(items, {
        // world_info_include_names: ST scans "Name: message".
        messages: history.map((entry) => `${entry.speaker}: ${entry.content}`),
        budgetTokens: loreBudget(input.contextWindow, book),
        book,
        chatLength,
        timed: previous,
        substitute,
        globalScanData: globalScanData(character, input.personaDescription, substitute),
        characterName: character.name,
      })
    : { entries: [], timed: { sticky: {}, cooldown: {} } };

  // Lore comes in by its rules only: recall may not bring an entry (or a passage of it) unless the entry asks
  // for vector activation (ST's "vectorized"), and then it goes where the entry says, like any activated entry.
  const loreItems = new Map(items.map((item) => [item.id, item]));
  const lore: PromptLore[] = entries.map(toPromptLore);
  const memories: PromptMemory[] = [];
  for (const memory of input.recalled) {
    const item = memory.knowledgeId ? loreItems.get(memory.knowledgeId) : memory.kind === 'lore' ? loreItems.get(memory.id) : undefined;
    if (!item && memory.kind !== 'lore') memories.push(memory);
    else if (item?.entry.vectorized && item.entry.enabled !== false && !lore.some((entry) => entry.id === item.id)) {
      lore.push({
        id: item.id,
        content: substitute(item.entry.content),
        position: item.entry.position ?? 'before_char',
        depth: item.entry.depth ?? 4,
        role: item.entry.role ?? 'system',
        source: { label: `${item.name} (similar to the conversation)` },
      });
    }
  }

  const kept = await keptInMind(em, input);
  const promptInput: PromptInput = {
    character: promptCharacter(character),
    history,
    memories,
    lore,
    budget: { contextWindow: input.contextWindow, maxOutputTokens: character.config.max_tokens ?? 1024 },
    summary: kept.summary?.text,
    summaryUpTo: kept.summary?.upToAt ? new Date(kept.summary.upToAt) : undefined,
    notes: kept.notes,
    pins: kept.pins,
    cast: conversation.character ? undefined : await castOf(em, conversation.id),
    macros,
    finalInstruction: input.continuing ? ST_DEFAULTS.continueNudge : undefined,
  };
  const changed = JSON.stringify(timed) !== JSON.stringify(previous ?? { sticky: {}, cooldown: {} });
  const saveLoreState = async () => {
    if (input.dryRun || !changed) return;
    await em.execute(
      `update conversations set settings = jsonb_set(coalesce(settings, '{}'::jsonb), '{timedWorldInfo}', ?::jsonb) where id = ?`,
      [JSON.stringify(timed), conversation.id],
    );
  };
  return { promptInput, activated: entries, saveLoreState };
}

/**
 * What the character keeps in mind here besides recall: the running summary, its notes about the person answered
 * (`actor`; the privacy rule is notesForPrompt's) and the pinned messages. A character that joined late (`since`)
 * gets neither the summary nor the pins of what came before it; one whose memory is off gets none of them.
 */
async function keptInMind(
  em: EntityManager,
  input: { conversation: IConversation; character: ICharacter; actor?: Actor; since?: Date },
): Promise<{ summary?: { text: string; upToAt?: string | null }; notes: PromptNote[]; pins: PromptPin[] }> {
  const { conversation, character, actor } = input;
  if (character.config.memory_enabled === false) return { notes: [], pins: [] };
  const notes = actor
    ? await notesForPrompt(em, {
        userId: actor.user.id,
        characterId: character.id,
        conversation,
        guildId: actor.guild?.discordId,
        shared: character.config.shared_memory,
      })
    : [];
  const pins = input.since ? [] : await pinsForPrompt(em, conversation.id);
  return { summary: input.since ? undefined : summaryOf(conversation), notes, pins };
}

/** What lore may scan besides the chat when an entry asks (ST's WIGlobalScanData), macros filled as in the prompt. */
function globalScanData(character: ICharacter, personaDescription: string | undefined, fill: (text: string) => string): GlobalScanData {
  const depthPrompt = (cardExtensions(character).depth_prompt as { prompt?: unknown } | undefined)?.prompt;
  const filled = (text: unknown) => (typeof text === 'string' && text.trim() ? fill(text).trim() : undefined);
  return {
    personaDescription: personaDescription?.trim() || undefined,
    characterDescription: filled(character.personalityPrompt),
    characterPersonality: filled(character.personality),
    characterDepthPrompt: filled(depthPrompt),
    scenario: filled(character.scenario),
    creatorNotes: filled(character.creatorNotes),
  };
}

/** A scene's characters still in it, muted ones too, in the order they joined (ST's group members). */
async function castOf(em: EntityManager, conversationId: string): Promise<string[]> {
  const rows = await em.execute<{ name: string }[]>(
    `select c.name from conversation_participants p join characters c on c.id = p.character_id
     where p.conversation_id = ? and p.is_active order by p.created_at, p.id`,
    [conversationId],
  );
  return rows.map((row) => row.name);
}

/** The card's fields as written, and its depth_prompt (`extensions.depth_prompt`, ST's character's note). */
function promptCharacter(character: ICharacter): PromptCharacter {
  const depth = cardExtensions(character).depth_prompt as { prompt?: unknown; depth?: unknown; role?: unknown } | undefined;
  const role =
    typeof depth?.role === 'string' && ['system', 'user', 'assistant'].includes(depth.role) ? (depth.role as LoreRole) : undefined;
  return {
    name: character.name,
    personalityPrompt: character.personalityPrompt,
    personality: character.personality,
    scenario: character.scenario,
    systemPrompt: character.systemPrompt,
    exampleDialogue: character.exampleDialogue,
    postHistoryInstructions: character.postHistoryInstructions,
    depthPrompt:
      typeof depth?.prompt === 'string' && depth.prompt.trim()
        ? { prompt: depth.prompt, depth: typeof depth.depth === 'number' ? depth.depth : undefined, role }
        : null,
  };
}

/**
 * {{user}} and the time macros for this reply. {{user}} is the person being answered: the author of the newest
 * message by the person who asked for this reply (`actor`), or, without one, of the newest person's message.
 * One-to-one that is simply the person; with several people, a remark from someone else does not turn the card
 * toward them. See the comment in macros.ts and README ("The prompt").
 */
function macroContext(history: HistoryEntry[], actor?: Actor, now?: Date): Omit<MacroContext, 'char'> {
  const people = history.filter((entry) => entry.role === 'user');
  const answered = answeredLine(history, actor);
  const user = answered?.speaker ?? actor?.user.username ?? 'User';
  const theirs = people.filter((entry) => (answered?.authorId ? entry.authorId === answered.authorId : entry.speaker === user));
  const context: Omit<MacroContext, 'char'> = {
    user,
    now,
    lastMessage: history.at(-1)?.content,
    lastUserMessage: people.at(-1)?.content,
    previousUserMessageAt: theirs.at(-2)?.at,
  };
  return context;
}

/**
 * The line of the person being answered ({{user}}): the newest by the person who asked for this reply, or, without
 * one (or when they have no line here), the newest person's line. Their persona is {{user}}'s persona.
 */
export function answeredLine(history: HistoryEntry[], actor?: Actor): HistoryEntry | undefined {
  const people = history.filter((entry) => entry.role === 'user');
  return (actor ? people.findLast((entry) => entry.authorId === actor.user.id) : undefined) ?? people.at(-1);
}

function toPromptLore(entry: ActivatedLore): PromptLore {
  return {
    id: entry.item.id,
    content: entry.content,
    position: entry.position,
    depth: entry.depth,
    role: entry.role,
    source: {
      label: `${entry.item.name} (${entry.trigger === 'constant' ? 'always on' : entry.trigger.startsWith('@@') || entry.trigger === 'sticky' ? entry.trigger : `keyword “${entry.trigger}”`})`,
    },
  };
}

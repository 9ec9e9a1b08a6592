import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { Actor } from '../core/identity.js';
import {
  Conversation,
  ConversationParticipant,
  type ICharacter,
  type IConversation,
  type IConversationParticipant,
} from '../db/entities/index.js';
import { UserError } from '../errors.js';
import { STRATEGIES, type Seat } from './turns.js';

const MAX_SCENE_CHARACTERS = 8;

/** A scene's settings, kept in conversations.settings.scene. */
export const sceneSettingsSchema = z.object({
  strategy: z.enum(STRATEGIES).default('natural'),
  /** May a character answer its own message? */
  allowSelfResponses: z.boolean().default(false),
  /** Character-to-character turns after a human message before the scene waits for a human. */
  maxAutoTurns: z.number().int().min(0).max(10).default(2),
  /** Whether a character added mid-scene heard what was said before it joined. */
  newcomersHeardEarlier: z.boolean().default(false),
  scenario: z.string().max(2000).optional(),
  /** Started as NSFW: runs only in age-restricted channels (so does a scene with any NSFW character). */
  nsfw: z.boolean().default(false),
  /** The thread's parent channel, whose webhook the characters post through. */
  parentChannelId: z.string().optional(),
  /** Who spoke in the last round (the pooled strategy lets others speak next). */
  lastRoundSpoke: z.array(z.string()).default([]),
  summary: z.string().nullish(),
  /** The round in progress: who speaks next, computed once and stored. */
  round: z.object({ queue: z.array(z.string()), autoTurnsLeft: z.number().int().min(0), spoke: z.array(z.string()) }).nullish(),
  endedAt: z.string().nullish(),
});
export type SceneSettings = z.infer<typeof sceneSettingsSchema>;

export interface SceneCast {
  conversation: IConversation;
  settings: SceneSettings;
  participants: IConversationParticipant[];
}

export type SceneHeader = Omit<SceneCast, 'participants'>;

/** A thread's scene without its cast (one query: enough to store a message), or null. */
export async function findSceneHeader(
  em: EntityManager,
  where: { threadId: string } | { conversationId: string },
): Promise<SceneHeader | null> {
  const filter = 'threadId' in where ? { discordChannelId: where.threadId, kind: 'thread' as const } : { id: where.conversationId };
  const conversation = (await em.findOne(Conversation, filter)) as IConversation | null;
  const stored = (conversation?.settings as { scene?: unknown } | undefined)?.scene;
  if (!conversation || !stored) return null;
  return { conversation, settings: sceneSettingsSchema.parse(stored) };
}

/** The scene running in a thread (or of a conversation), with its characters in scene order, or null. */
export async function findScene(em: EntityManager, where: string | { conversationId: string }): Promise<SceneCast | null> {
  const header = await findSceneHeader(em, typeof where === 'string' ? { threadId: where } : where);
  if (!header) return null;
  const participants = (await em.find(
    ConversationParticipant,
    { conversation: header.conversation.id },
    { populate: ['character'], orderBy: { createdAt: 'asc', id: 'asc' } },
  )) as IConversationParticipant[];
  return { ...header, participants };
}

/** The scene of this thread, or a plain error saying there is none. */
export async function requireScene(em: EntityManager, threadId: string): Promise<SceneCast> {
  const scene = await findScene(em, threadId);
  if (!scene) throw new UserError('This is not a scene. Start one with /scene start in a text channel.');
  if (scene.settings.endedAt) throw new UserError('This scene has ended.');
  return scene;
}

/** Makes the conversation of a new scene thread with its characters, in the given order. */
export async function createScene(
  em: EntityManager,
  actor: Actor,
  input: { threadId: string; title: string; scenario?: string; characters: ICharacter[]; settings?: Partial<SceneSettings> },
): Promise<SceneCast> {
  const unique = [...new Map(input.characters.map((character) => [character.id, character])).values()];
  if (unique.length < 2) throw new UserError('A scene needs at least two different characters.');
  if (unique.length > MAX_SCENE_CHARACTERS) throw new UserError(`A scene can have at most ${MAX_SCENE_CHARACTERS} characters.`);
  const settings = sceneSettingsSchema.parse({ ...input.settings, scenario: input.scenario?.trim() || undefined });
  // Founding characters join just before the scene begins, in scene order; later ones join after it.
  const now = Date.now();
  const conversation = em.create(Conversation, {
    createdAt: new Date(now),
    discordChannelId: input.threadId,
    kind: 'thread',
    guild: actor.guild ?? null,
    user: actor.user,
    character: null,
    title: input.title.slice(0, 255),
    settings: { scene: settings },
  });
  const participants = unique.map((character, i) =>
    em.create(ConversationParticipant, { conversation, character, createdAt: new Date(now - unique.length + i) }),
  );
  await em.flush();
  return { conversation: conversation as IConversation, settings, participants: participants as IConversationParticipant[] };
}

/** Only the person who started a scene, or a server admin, may change it. */
export function assertCanDirect(actor: Actor, scene: SceneHeader): void {
  if (scene.conversation.user?.id !== actor.user.id && !actor.isGuildAdmin) {
    throw new UserError('Only the person who started this scene (or a server admin) can change it.');
  }
}

export async function addToScene(em: EntityManager, actor: Actor, scene: SceneCast, character: ICharacter): Promise<void> {
  assertCanDirect(actor, scene);
  if (scene.participants.some((p) => p.character.id === character.id)) throw new UserError(`${character.name} is already in this scene.`);
  if (scene.participants.length >= MAX_SCENE_CHARACTERS)
    throw new UserError(`A scene can have at most ${MAX_SCENE_CHARACTERS} characters.`);
  const participant = em.create(ConversationParticipant, { conversation: scene.conversation, character });
  await em.flush();
  scene.participants.push(participant as IConversationParticipant);
}

export async function removeFromScene(em: EntityManager, actor: Actor, scene: SceneCast, characterName: string): Promise<ICharacter> {
  assertCanDirect(actor, scene);
  const participant = participantNamed(scene, characterName);
  if (scene.participants.length <= 1) throw new UserError('A scene keeps at least one character. End it with /scene end.');
  em.remove(participant);
  await saveSettings(em, scene, { round: undefined });
  scene.participants = scene.participants.filter((p) => p !== participant);
  return participant.character;
}

/** Muted characters only speak when called with /scene next (seed `auto_respond`). */
export async function setMuted(
  em: EntityManager,
  actor: Actor,
  scene: SceneCast,
  characterName: string,
  muted: boolean,
): Promise<ICharacter> {
  assertCanDirect(actor, scene);
  const participant = participantNamed(scene, characterName);
  participant.autoRespond = !muted;
  await em.flush();
  return participant.character;
}

export async function updateSceneSettings(
  em: EntityManager,
  actor: Actor,
  scene: SceneCast,
  patch: Partial<Pick<SceneSettings, 'strategy' | 'allowSelfResponses' | 'maxAutoTurns' | 'newcomersHeardEarlier'>>,
): Promise<SceneSettings> {
  assertCanDirect(actor, scene);
  return saveSettings(em, scene, patch);
}

/**
 * Writes the patched settings of a scene. Only the patched keys are written,
 * merged into the stored JSON by the database, so a command changing the
 * strategy and a round storing its queue at the same moment keep both changes.
 */
export async function saveSettings(em: EntityManager, scene: SceneHeader, patch: Partial<SceneSettings>): Promise<SceneSettings> {
  const settings = sceneSettingsSchema.parse({ ...scene.settings, ...patch });
  const changed = Object.fromEntries(Object.keys(patch).map((key) => [key, settings[key as keyof SceneSettings] ?? null]));
  await em.execute(
    `update conversations
        set settings = jsonb_set(settings, '{scene}', coalesce(settings -> 'scene', '{}'::jsonb) || ?::jsonb), updated_at = now()
      where id = ?`,
    [JSON.stringify(changed), scene.conversation.id],
    'run',
  );
  scene.settings = settings;
  return settings;
}

export function participantNamed(scene: SceneCast, name: string): IConversationParticipant {
  const key = name.trim().toLowerCase();
  const participant = scene.participants.find((p) => p.character.name.toLowerCase() === key || p.character.id === name);
  if (!participant) throw new UserError(`${name} is not in this scene.`);
  return participant;
}

/** Turn-taking's view of the scene's characters. */
export function seatsOf(scene: SceneCast): Seat[] {
  return scene.participants
    .filter((p) => p.isActive)
    .map((p) => {
      const { aliases } = p.character.attributes as { aliases?: unknown };
      return {
        characterId: p.character.id,
        name: p.character.name,
        aliases: Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === 'string') : [],
        talkativeness: p.character.config.talkativeness ?? 0.5,
        muted: !p.autoRespond,
      };
    });
}

/** From when a participant may know what was said: when it joined, unless the scene says newcomers heard it all. */
export function knowsSince(scene: SceneCast, participant: IConversationParticipant): Date | undefined {
  if (scene.settings.newcomersHeardEarlier) return undefined;
  return participant.createdAt < scene.conversation.createdAt ? undefined : participant.createdAt;
}

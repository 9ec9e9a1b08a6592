import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Character,
  CharacterKnowledge,
  Conversation,
  ConversationParticipant,
  Guild,
  ImportDocument,
  LlmProviderInstance,
  Message,
  StoryBranch,
  User,
  VectorMemory,
} from '../../src/db/entities/index.js';
import { insertMemories } from '../../src/memory/vector-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let seq = 0;
const snowflake = () => String(100000000000000000n + BigInt(++seq));
const fork = (): EntityManager => db.orm.em.fork();

async function makeCharacter(em: EntityManager, overrides: Partial<{ name: string }> = {}) {
  const user = em.create(User, { discordId: snowflake(), username: 'ione' });
  const guild = em.create(Guild, { discordId: snowflake(), name: 'The Inn' });
  const character = em.create(Character, {
    user,
    guild,
    name: overrides.name ?? 'Aria',
    personalityPrompt: 'A cheerful bard.',
    visibility: 'guild',
  });
  await em.flush();
  return { user, guild, character };
}

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 3 });
});
afterAll(() => db?.close());

describe('entities', () => {
  it('round-trip users, guilds and characters with JSON defaults', async () => {
    const { user, guild, character } = await makeCharacter(fork());
    const em = fork();
    const loadedUser = await em.findOneOrFail(User, { discordId: user.discordId });
    expect(loadedUser).toMatchObject({ username: 'ione', role: 'USER', isActive: true });
    const loaded = await em.findOneOrFail(Character, character.id, { populate: ['user', 'guild'] });
    expect(loaded.user.id).toBe(user.id);
    expect(loaded.guild?.id).toBe(guild.id);
    expect(loaded.config).toEqual({ temperature: 0.7, max_tokens: 1024, memory_enabled: true });
    expect(loaded.attributes).toEqual({});
    expect(loaded.alternateGreetings).toEqual([]);
    expect(loaded.createdAt).toBeInstanceOf(Date);
  });

  it('round-trip conversations, participants, messages and story branches', async () => {
    const em = fork();
    const { user, character } = await makeCharacter(em);
    const conversation = em.create(Conversation, { discordChannelId: snowflake(), kind: 'thread', user });
    em.create(ConversationParticipant, { conversation, character, autoRespond: false });
    const reply = em.create(Message, {
      conversation,
      role: 'assistant',
      content: 'Well met!',
      character,
      discordMessageId: snowflake(),
      tokensUsed: 12,
      model: 'gpt-4o-mini',
    });
    em.create(Message, { conversation, role: 'user', content: 'Hello', author: user, authorName: 'ione' });
    em.create(StoryBranch, { conversation, message: reply, content: 'Greetings, traveller!', branchOrder: 1 });
    await em.flush();

    const check = fork();
    const loaded = await check.findOneOrFail(Conversation, { discordChannelId: conversation.discordChannelId });
    expect(loaded.kind).toBe('thread');
    const participants = await check.find(ConversationParticipant, { conversation: loaded });
    expect(participants.map((p) => [p.isActive, p.autoRespond])).toEqual([[true, false]]);
    const messages = await check.find(Message, { conversation: loaded }, { orderBy: { role: 'asc' } });
    expect(messages.map((m) => m.role).sort()).toEqual(['assistant', 'user']);
    const branches = await check.find(StoryBranch, { message: reply.id });
    expect(branches.map((b) => b.content)).toEqual(['Greetings, traveller!']);
  });

  it('refuse a second participant row for the same character in one conversation', async () => {
    const em = fork();
    const { character } = await makeCharacter(em);
    const conversation = em.create(Conversation, { discordChannelId: snowflake() });
    em.create(ConversationParticipant, { conversation, character });
    await em.flush();
    const again = fork();
    again.create(ConversationParticipant, { conversation: conversation.id, character: character.id });
    await expect(again.flush()).rejects.toThrow(/unique/i);
  });

  it('round-trip knowledge, import documents and provider instances', async () => {
    const em = fork();
    const { user, guild, character } = await makeCharacter(em);
    const knowledge = em.create(CharacterKnowledge, {
      character,
      uploadedBy: user,
      name: 'Lore',
      sourceType: 'file',
      sourceName: 'lore.md',
      fileSize: 1234,
      contentHash: 'a'.repeat(64),
      processingInfo: { chunks: 2 },
    });
    em.create(ImportDocument, { user, sourceType: 'url', sourceName: 'https://example.org' });
    em.create(LlmProviderInstance, {
      providerType: 'openai',
      displayName: 'Server key',
      scope: 'guild',
      guild,
      config: { model: 'gpt-4o-mini' },
      isDefault: true,
    });
    await em.flush();
    const check = fork();
    const loaded = await check.findOneOrFail(CharacterKnowledge, knowledge.id);
    expect(loaded).toMatchObject({ status: 'pending', fileSize: 1234, processingInfo: { chunks: 2 } });
    const documents = await check.find(ImportDocument, { user: user.id });
    expect(documents).toHaveLength(1);
    expect(documents[0]?.status).toBe('pending');
    const provider = await check.findOneOrFail(LlmProviderInstance, { guild: guild.id });
    expect(provider).toMatchObject({ scope: 'guild', isEnabled: true, config: { model: 'gpt-4o-mini' } });
  });

  it('enforce one default provider per owner and an owner that matches the scope', async () => {
    const em = fork();
    const user = em.create(User, { discordId: snowflake() });
    em.create(LlmProviderInstance, { providerType: 'ollama', displayName: 'A', scope: 'user', user, isDefault: true });
    await em.flush();
    const second = fork();
    second.create(LlmProviderInstance, {
      providerType: 'ollama',
      displayName: 'B',
      scope: 'user',
      user: user.id,
      isDefault: true,
    });
    await expect(second.flush()).rejects.toThrow(/llm_provider_instances_user_default|unique/i);
    const wrongOwner = fork();
    wrongOwner.create(LlmProviderInstance, { providerType: 'openai', displayName: 'C', scope: 'system', user: user.id });
    await expect(wrongOwner.flush()).rejects.toThrow(/llm_provider_instances_scope_check|check/i);
  });

  it('delete a character together with its knowledge and memories', async () => {
    const em = fork();
    const { character } = await makeCharacter(em);
    const knowledge = em.create(CharacterKnowledge, {
      character,
      name: 'Notes',
      sourceType: 'manual',
      sourceName: 'notes',
    });
    await em.flush();
    await insertMemories(em, [
      { content: 'chunk', embedding: [1, 0, 0], memoryType: 'character', characterId: character.id, knowledgeId: knowledge.id },
      { content: 'fact', embedding: [0, 1, 0], memoryType: 'character', characterId: character.id },
    ]);
    expect(await fork().count(VectorMemory, { character: character.id })).toBe(2);

    await fork().nativeDelete(Character, { id: character.id });
    const check = fork();
    expect(await check.count(CharacterKnowledge, { id: knowledge.id })).toBe(0);
    expect(await check.count(VectorMemory, { character: character.id })).toBe(0);
  });

  it('delete a user together with their user-level provider instances, keeping shared conversations', async () => {
    const em = fork();
    const user = em.create(User, { discordId: snowflake() });
    const guild = em.create(Guild, { discordId: snowflake() });
    em.create(LlmProviderInstance, { providerType: 'anthropic', displayName: 'Mine', scope: 'user', user });
    const guildProvider = em.create(LlmProviderInstance, {
      providerType: 'openai',
      displayName: 'Server',
      scope: 'guild',
      guild,
    });
    const conversation = em.create(Conversation, { discordChannelId: snowflake(), guild, user });
    await em.flush();

    await fork().nativeDelete(User, { id: user.id });
    const check = fork();
    expect(await check.count(LlmProviderInstance, { user: user.id })).toBe(0);
    expect(await check.count(LlmProviderInstance, { id: guildProvider.id })).toBe(1);
    const kept = await check.findOneOrFail(Conversation, conversation.id);
    expect(kept.user).toBeNull();
  });

  it('refuse a memory that belongs to nothing', async () => {
    await expect(insertMemories(fork(), [{ content: 'orphan', embedding: [1, 1, 1], memoryType: 'conversation' }])).rejects.toThrow(
      /vector_memories_owner_check|check/i,
    );
  });
});

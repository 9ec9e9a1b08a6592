import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canEdit,
  createCharacter,
  deleteCharacter,
  findUsableCharacter,
  searchCharacters,
  updateCharacter,
} from '../../src/characters/characters.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Character } from '../../src/db/entities/index.js';
import { UserError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let alice: Actor;
let bob: Actor;
let bobAdmin: Actor;
let aliceElsewhere: Actor;

const guild = { id: '900000000000000001', name: 'The Inn' };
const otherGuild = { id: '900000000000000002', name: 'Elsewhere' };
const em = () => db.orm.em.fork();

beforeAll(async () => {
  db = await createTestDatabase();
  alice = await resolveActor(em(), { user: { id: '100000000000000001', username: 'alice' }, guild });
  bob = await resolveActor(em(), { user: { id: '100000000000000002', username: 'bob' }, guild });
  bobAdmin = { ...bob, isGuildAdmin: true };
  aliceElsewhere = await resolveActor(em(), { user: { id: '100000000000000001', username: 'alice' }, guild: otherGuild });
});
afterAll(() => db?.close());

describe('identity', () => {
  it('maps one Discord account to one user and keeps the name current', async () => {
    const again = await resolveActor(em(), { user: { id: '100000000000000001', username: 'alice_renamed' } });
    expect(again.user.id).toBe(alice.user.id);
    expect(again.user.username).toBe('alice_renamed');
    expect(again.guild).toBeUndefined();
    expect(aliceElsewhere.guild?.id).not.toBe(alice.guild?.id);
  });
});

describe('characters', () => {
  it('creates a character with defaults and refuses a second one with the same name', async () => {
    const aria = await createCharacter(em(), alice, { name: 'Aria', personalityPrompt: 'A cheerful bard.' });
    expect(aria).toMatchObject({ name: 'Aria', visibility: 'private', isNsfw: false });
    expect(aria.config).toEqual({});
    await expect(createCharacter(em(), alice, { name: 'aria', personalityPrompt: 'x' })).rejects.toThrow(
      /already have a character called “aria”/,
    );
  });

  it('explains invalid input in plain words', async () => {
    const attempt = createCharacter(em(), alice, {
      name: 'x'.repeat(101),
      personalityPrompt: '',
      avatarUrl: 'javascript:alert(1)',
    });
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrow(
      /Name must be at most 100 characters\..*Personality prompt cannot be empty\..*Avatar url must be an http\(s\) link/s,
    );
  });

  it('shows private characters to their creator only, server characters in their server, public ones everywhere', async () => {
    await createCharacter(em(), alice, { name: 'Secret', personalityPrompt: 'p' });
    await createCharacter(em(), alice, { name: 'Innkeeper', personalityPrompt: 'p', visibility: 'guild' });
    await createCharacter(em(), alice, { name: 'Wanderer', personalityPrompt: 'p', visibility: 'public' });
    const names = async (actor: Actor) => (await searchCharacters(em(), actor, '', { limit: 25 })).items.map((c) => c.name);
    expect(await names(bob)).toEqual(['Innkeeper', 'Wanderer']);
    expect(await names(aliceElsewhere)).toEqual(expect.arrayContaining(['Aria', 'Secret', 'Innkeeper', 'Wanderer']));
    const bobElsewhere = await resolveActor(em(), { user: { id: bob.user.discordId, username: 'bob' }, guild: otherGuild });
    expect(await names(bobElsewhere)).toEqual(['Wanderer']);
    await expect(findUsableCharacter(em(), bob, 'Secret')).rejects.toThrow(/No character called “Secret”/);
    expect((await findUsableCharacter(em(), bob, 'innkeeper')).name).toBe('Innkeeper');
    const { items } = await searchCharacters(em(), bob, 'wand', { limit: 5 });
    expect(items.map((c) => c.name)).toEqual(['Wanderer']);
    expect((await findUsableCharacter(em(), bob, items[0]!.id)).name).toBe('Wanderer');
  });

  it('lets the creator or a server admin (for server characters) edit, and nobody else', async () => {
    const innkeeper = await findUsableCharacter(em(), bob, 'Innkeeper');
    const wanderer = await findUsableCharacter(em(), bob, 'Wanderer');
    expect(canEdit(bob, innkeeper)).toBe(false);
    expect(canEdit(bobAdmin, innkeeper)).toBe(true);
    expect(canEdit(bobAdmin, wanderer)).toBe(false);
    await expect(updateCharacter(em(), bob, innkeeper, { greeting: 'Hi' })).rejects.toThrow(/Only the creator of Innkeeper/);

    const work = em();
    const mine = await findUsableCharacter(work, bobAdmin, 'Innkeeper');
    await updateCharacter(work, bobAdmin, mine, { greeting: 'Welcome!', config: { temperature: 1.1 } });
    const reloaded = await em().findOneOrFail(Character, mine.id);
    expect(reloaded.greeting).toBe('Welcome!');
    expect(reloaded.config).toEqual({ temperature: 1.1 });
    await updateCharacter(work, bobAdmin, mine, { config: { ...mine.config, shared_memory: 'everywhere' } });
    expect((await em().findOneOrFail(Character, mine.id)).config).toEqual({ temperature: 1.1, shared_memory: 'everywhere' });
    await expect(updateCharacter(work, bobAdmin, mine, { config: { shared_memory: 'galaxy' } as never })).rejects.toThrow(/Config/);
  });

  it('answers a name with a NUL character in plain words instead of failing in the database', async () => {
    await expect(findUsableCharacter(em(), bob, 'Inn\u0000keeper')).resolves.toMatchObject({ name: 'Innkeeper' });
    await expect(findUsableCharacter(em(), bob, 'a\u0000b')).rejects.toThrow(/No character called/);
  });

  it('deletes only with permission', async () => {
    const wanderer = await findUsableCharacter(em(), bob, 'Wanderer');
    await expect(deleteCharacter(em(), bobAdmin, wanderer)).rejects.toThrow(/Only the creator of Wanderer/);
    await deleteCharacter(em(), alice, wanderer);
    expect(await em().count(Character, { id: wanderer.id })).toBe(0);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrateDown, migrateUp } from '../../src/db/database.js';
import { createMigrationsList } from '../../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const TABLES = [
  'character_knowledge',
  'characters',
  'conversation_participants',
  'conversations',
  'guilds',
  'import_documents',
  'llm_provider_instances',
  'memory_pieces',
  'message_images',
  'messages',
  'person_notes',
  'persona_choices',
  'personas',
  'story_branches',
  'users',
  'vector_memories',
];
const ENUMS = [
  'character_visibility',
  'conversation_kind',
  'import_source_type',
  'import_status',
  'memory_type',
  'message_role',
  'provider_scope',
  'provider_type',
  'user_role',
];

/** Every migration's name, oldest first (a new migration needs no change here). */
const NAMES = createMigrationsList({ embeddingDimension: 24 }).map((migration) => migration.name);

describe('migrations', () => {
  let db: TestDatabase;
  /**
   * Reverts `name` and every migration after it, newest first. Each test that
   * reverts puts the schema back in afterEach, so the tests do not depend on
   * one another or on how many migrations come later.
   */
  const revertThrough = async (name: string) => {
    const index = NAMES.indexOf(name);
    expect(index).toBeGreaterThan(0);
    const reverted = await migrateDown(db.orm, { to: NAMES[index - 1] });
    expect(reverted).toEqual(NAMES.slice(index).reverse());
    return reverted;
  };
  const query = <T>(sql: string, params: unknown[] = []) => db.orm.em.execute<T[]>(sql, params);
  const tables = async () =>
    (await query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public' order by tablename collate "C"`))
      .map((row) => row.name)
      .filter((name) => name !== 'mikro_orm_migrations');
  const enums = async () =>
    (
      await query<{ name: string }>(
        `select t.typname as name from pg_type t join pg_namespace n on n.oid = t.typnamespace
          where n.nspname = 'public' and t.typtype = 'e' order by 1`,
      )
    ).map((row) => row.name);

  beforeAll(async () => {
    db = await createTestDatabase({ embeddingDimension: 24, migrate: false });
  });
  afterAll(() => db?.close());
  afterEach(async () => {
    await migrateUp(db.orm);
  });

  it('apply to an empty database and create every table and enum', async () => {
    expect(await tables()).toEqual([]);
    expect(await migrateUp(db.orm)).toEqual(NAMES);
    expect(NAMES[0]).toBe('Migration20261122230000_initial');
    expect(await tables()).toEqual(TABLES);
    expect(await enums()).toEqual(ENUMS);
    expect(await migrateUp(db.orm)).toEqual([]);
  });

  it('create the vector column with EMBEDDING_DIMENSION and an HNSW cosine index', async () => {
    const [column] = await query<{ type: string }>(
      `select format_type(atttypid, atttypmod) as type from pg_attribute
        where attrelid = 'vector_memories'::regclass and attname = 'embedding'`,
    );
    expect(column?.type).toBe('vector(24)');
    const indexes = await query<{ name: string; definition: string }>(
      `select indexname as name, indexdef as definition from pg_indexes where tablename = 'vector_memories'`,
    );
    const byName = new Map(indexes.map((index) => [index.name, index.definition]));
    expect(byName.get('idx_vector_memories_embedding')).toMatch(/USING hnsw \(embedding vector_cosine_ops\)/);
    for (const column of ['conversation_id', 'character_id', 'knowledge_id']) {
      const name = `idx_vector_memories_${column.replace('_id', '')}`;
      expect(byName.get(name)).toContain(`WHERE (${column} IS NOT NULL)`);
    }
  });

  it('keep the seed indexes, unique constraints and ON DELETE rules', async () => {
    const indexes = (await query<{ name: string }>(`select indexname as name from pg_indexes where schemaname = 'public'`)).map(
      (row) => row.name,
    );
    expect(indexes).toEqual(
      expect.arrayContaining([
        'idx_characters_user_id',
        'idx_characters_name',
        'idx_characters_attributes',
        'idx_conversations_user_id',
        'idx_conversations_character_id',
        'idx_conversations_created_at',
        'idx_messages_conversation_id',
        'idx_messages_created_at',
        'idx_messages_conversation_created',
        'idx_character_knowledge_character',
        'idx_character_knowledge_status',
        'idx_import_documents_user_id',
        'idx_import_documents_status',
        'idx_story_branches_conversation',
        'idx_story_branches_parent',
        'idx_participants_conversation',
        'users_discord_id_unique',
        'conversations_discord_channel_id_unique',
        'conversation_participants_conversation_id_character_id_unique',
        'llm_provider_instances_user_default',
      ]),
    );
    const rules = await query<{ name: string; rule: string }>(
      `select conname as name, confdeltype as rule from pg_constraint where contype = 'f'`,
    );
    const rule = (name: string) => rules.find((row) => row.name === name)?.rule;
    expect(rule('characters_user_id_foreign')).toBe('c');
    expect(rule('vector_memories_character_id_foreign')).toBe('c');
    expect(rule('vector_memories_knowledge_id_foreign')).toBe('c');
    expect(rule('llm_provider_instances_user_id_foreign')).toBe('c');
    expect(rule('messages_author_id_foreign')).toBe('n');
  });

  it('match the entity definitions (no schema drift)', async () => {
    const diff = await db.orm.schema.getUpdateSchemaSQL({ wrap: false });
    const statements = diff
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('set names'))
      // The dimension is a migration setting, not entity metadata.
      .filter((line) => !/"embedding" type vector/.test(line));
    expect(statements).toEqual([]);
  });

  it('have the usage-by-person index, which the migration before removes again', async () => {
    const indexes = () =>
      query<{ name: string }>(`select indexname as name from pg_indexes where indexname = 'idx_messages_spent_by_created'`);
    expect(await indexes()).toHaveLength(1);
    await revertThrough('Migration20261201180000_usage_by_person_index');
    expect(await indexes()).toEqual([]);
  });

  it('have the (user_id, character_id, memory_type) index, which migrating down puts back to (user_id, character_id)', async () => {
    const indexes = () =>
      query<{ name: string }>(
        `select indexname as name from pg_indexes where tablename = 'vector_memories' and indexname like 'idx\\_vector\\_memories\\_user%' order by 1`,
      );
    expect((await indexes()).map((row) => row.name)).toEqual(['idx_vector_memories_user_character_type']);
    await revertThrough('Migration20261201170000_user_character_type_index');
    expect((await indexes()).map((row) => row.name)).toEqual(['idx_vector_memories_user_character']);
  });

  it('have conversation memories’ owner columns, which the migration before removes again', async () => {
    const columns = () =>
      query<{ name: string }>(
        `select column_name as name from information_schema.columns where table_name = 'vector_memories' and column_name in ('user_id', 'message_id') order by 1`,
      );
    expect((await columns()).map((row) => row.name)).toEqual(['message_id', 'user_id']);
    const rules = await query<{ name: string; rule: string }>(
      `select conname as name, confdeltype as rule from pg_constraint where conname in ('vector_memories_user_id_foreign', 'vector_memories_message_id_foreign') order by 1`,
    );
    expect(rules).toEqual([
      { name: 'vector_memories_message_id_foreign', rule: 'c' },
      { name: 'vector_memories_user_id_foreign', rule: 'c' },
    ]);
    await revertThrough('Migration20261201150000_conversation_memories');
    expect(await columns()).toEqual([]);
  });

  it('have recall’s (scope, memory_type) indexes, which the migration before removes again', async () => {
    const indexes = () =>
      query<{ name: string }>(
        `select indexname as name from pg_indexes where tablename = 'vector_memories' and indexname like '%\\_type' order by 1`,
      );
    expect((await indexes()).map((row) => row.name)).toEqual([
      'idx_vector_memories_character_type',
      'idx_vector_memories_conversation_type',
      'idx_vector_memories_type',
      'idx_vector_memories_user_character_type',
    ]);
    await revertThrough('Migration20261201130000_scoped_memory_indexes');
    expect((await indexes()).map((row) => row.name)).toEqual(['idx_vector_memories_type']);
  });

  it('keep a card’s personality and original JSON in their own columns, which the migration before removes again', async () => {
    const columns = () =>
      query<{ name: string }>(
        `select column_name as name from information_schema.columns where table_name = 'characters' and column_name in ('personality', 'card') order by 1`,
      );
    expect((await columns()).map((row) => row.name)).toEqual(['card', 'personality']);
    await revertThrough('Migration20261203170000_card_model');
    expect(await columns()).toEqual([]);
  });

  it('know whether a conversation is readable by its whole server, which the migration before removes again', async () => {
    const columns = () =>
      query<{ name: string }>(
        `select column_name as name from information_schema.columns where table_name = 'conversations' and column_name = 'is_public'`,
      );
    expect((await columns()).map((row) => row.name)).toEqual(['is_public']);
    await revertThrough('Migration20261203171505_conversation_visibility');
    expect(await columns()).toEqual([]);
  });

  it('keep a full-text column of memories with its GIN index, which the migration before removes again', async () => {
    const search = () =>
      query<{ name: string }>(
        `select indexname as name from pg_indexes where tablename = 'vector_memories' and indexname = 'idx_vector_memories_search'
         union all select column_name from information_schema.columns where table_name = 'vector_memories' and column_name = 'search'`,
      );
    expect((await search()).map((row) => row.name).sort()).toEqual(['idx_vector_memories_search', 'search']);
    await revertThrough('Migration20261203171506_memory_full_text');
    expect(await search()).toEqual([]);
  });

  it('keep people’s personas and where they wear them, gone with the person; the migration before removes both tables', async () => {
    const [user] = await query<{ id: string }>(`insert into users (discord_id, username) values ('19000000000000001', 'p') returning id`);
    const [persona] = await query<{ id: string }>(`insert into personas (user_id, name) values (?, 'Kestrel') returning id`, [user!.id]);
    await expect(query(`insert into personas (user_id, name) values (?, 'KESTREL')`, [user!.id])).rejects.toThrow(/idx_personas_user_name/);
    await query(`insert into persona_choices (user_id, scope, persona_id) values (?, 'everywhere', ?)`, [user!.id, persona!.id]);
    await query(`delete from users where id = ?`, [user!.id]);
    expect(await query(`select id from personas union all select id from persona_choices`)).toEqual([]);
    await revertThrough('Migration20261203171900_personas');
    expect((await tables()).filter((name) => name.startsWith('persona'))).toEqual([]);
  });

  it('keep images beside their messages in message_images, which the migration before removes again', async () => {
    const exists = async () => (await tables()).includes('message_images');
    expect(await exists()).toBe(true);
    await revertThrough('Migration20261203171700_message_images');
    expect(await exists()).toBe(false);
  });

  it('keep notes about each person (gone with the person) and pinned messages, which the migration before removes again', async () => {
    const [user] = await query<{ id: string }>(`insert into users (discord_id, username) values ('19000000000000002', 'n') returning id`);
    const [character] = await query<{ id: string }>(
      `insert into characters (name, personality_prompt, user_id) values ('Noted', 'x', ?) returning id`,
      [user!.id],
    );
    await query(`insert into person_notes (user_id, character_id, content) values (?, ?, 'Has a sister, Ione.')`, [
      user!.id,
      character!.id,
    ]);
    await query(`delete from users where id = ?`, [user!.id]);
    expect(await query(`select id from person_notes`)).toEqual([]);
    const pinned = () =>
      query<{ name: string }>(
        `select column_name as name from information_schema.columns where table_name = 'messages' and column_name = 'pinned_at'
         union all select indexname from pg_indexes where indexname = 'idx_messages_pinned'`,
      );
    expect((await pinned()).map((row) => row.name).sort()).toEqual(['idx_messages_pinned', 'pinned_at']);
    await revertThrough('Migration20261203211500_person_notes');
    expect((await tables()).includes('person_notes')).toBe(false);
    expect(await pinned()).toEqual([]);
  });

  it('keep pieces of memories with their own vectors and HNSW index, gone with their memory; the migration before removes them', async () => {
    const [user] = await query<{ id: string }>(`insert into users (discord_id, username) values ('19000000000000003', 'm') returning id`);
    const [character] = await query<{ id: string }>(
      `insert into characters (name, personality_prompt, user_id) values ('Pieced', 'x', ?) returning id`,
      [user!.id],
    );
    const [memory] = await query<{ id: string }>(`insert into vector_memories (content, character_id) values ('a. b.', ?) returning id`, [
      character!.id,
    ]);
    await query(`insert into memory_pieces (memory_id, content) values (?, 'a.'), (?, 'b.')`, [memory!.id, memory!.id]);
    const [column] = await query<{ type: string }>(
      `select format_type(atttypid, atttypmod) as type from pg_attribute where attrelid = 'memory_pieces'::regclass and attname = 'embedding'`,
    );
    expect(column?.type).toBe('vector(24)');
    const indexes = await query<{ name: string; definition: string }>(
      `select indexname as name, indexdef as definition from pg_indexes where tablename = 'memory_pieces' order by 1`,
    );
    expect(indexes.find((index) => index.name === 'idx_memory_pieces_embedding')?.definition).toMatch(
      /USING hnsw \(embedding vector_cosine_ops\)/,
    );
    expect(indexes.map((index) => index.name)).toContain('idx_memory_pieces_memory');
    await query(`delete from vector_memories where id = ?`, [memory!.id]);
    expect(await query(`select id from memory_pieces`)).toEqual([]);
    await query(`delete from users where id = ?`, [user!.id]);
    await revertThrough('Migration20261204140000_memory_pieces');
    expect((await tables()).includes('memory_pieces')).toBe(false);
  });

  it('roll back cleanly and apply again', async () => {
    expect(await migrateDown(db.orm, { to: 0 })).toEqual([...NAMES].reverse());
    expect(await tables()).toEqual([]);
    expect(await enums()).toEqual([]);
    await migrateUp(db.orm);
    expect(await tables()).toEqual(TABLES);
  });
});

import { Migration } from '@mikro-orm/migrations';

export interface SchemaSettings {
  /** Must match the embedder's output (EMBEDDING_DIMENSION). */
  embeddingDimension: number;
}

export const INITIAL_MIGRATION = 'Migration20261122230000_initial';

/** The whole seed schema adapted to Discord (see ../shared/DESIGN.md). */
export function initialSchema({ embeddingDimension }: SchemaSettings) {
  const dimension = Math.trunc(embeddingDimension);
  return class Migration20261122230000Initial extends Migration {
    override name = INITIAL_MIGRATION;

    override up(): void {
      this.addSql(`create extension if not exists vector`);
      this.addSql(`create type "user_role" as enum ('USER', 'ADMIN')`);
      this.addSql(`create type "provider_type" as enum ('openai', 'openai-compatible', 'anthropic', 'ollama')`);
      this.addSql(`create type "provider_scope" as enum ('system', 'guild', 'user')`);
      this.addSql(`create type "import_source_type" as enum ('file', 'url', 'manual')`);
      this.addSql(`create type "import_status" as enum ('pending', 'processing', 'completed', 'failed')`);
      this.addSql(`create type "character_visibility" as enum ('private', 'guild', 'public')`);
      this.addSql(`create type "conversation_kind" as enum ('channel', 'thread', 'dm')`);
      this.addSql(`create type "message_role" as enum ('user', 'assistant', 'system')`);
      this.addSql(`create type "memory_type" as enum ('conversation', 'character')`);
      this.addSql(
        `create table "guilds" ("id" uuid not null default gen_random_uuid(), "discord_id" varchar(20) not null, "name" varchar(100) null, "settings" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`alter table "guilds" add constraint "guilds_discord_id_unique" unique ("discord_id")`);
      this.addSql(
        `create table "users" ("id" uuid not null default gen_random_uuid(), "discord_id" varchar(20) not null, "username" varchar(100) null, "role" "user_role" not null default 'USER', "is_active" boolean not null default true, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`alter table "users" add constraint "users_discord_id_unique" unique ("discord_id")`);
      this.addSql(
        `create table "llm_provider_instances" ("id" uuid not null default gen_random_uuid(), "provider_type" "provider_type" not null, "display_name" varchar(100) not null, "scope" "provider_scope" not null, "user_id" uuid null, "guild_id" uuid null, "config" jsonb not null default '{}', "is_default" boolean not null default false, "is_enabled" boolean not null default true, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`create index "llm_provider_instances_provider_type_index" on "llm_provider_instances" ("provider_type")`);
      this.addSql(`create index "llm_provider_instances_user_id_index" on "llm_provider_instances" ("user_id")`);
      this.addSql(`create index "llm_provider_instances_guild_id_index" on "llm_provider_instances" ("guild_id")`);
      this.addSql(`create index "llm_provider_instances_is_default_index" on "llm_provider_instances" ("is_default")`);
      this.addSql(`create index "llm_provider_instances_is_enabled_index" on "llm_provider_instances" ("is_enabled")`);
      this.addSql(
        `create table "import_documents" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "source_type" "import_source_type" not null, "source_name" varchar(255) not null, "mime_type" varchar(100) null, "file_size" bigint null, "content" text null, "status" "import_status" not null default 'pending', "error_message" text null, "metadata" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`create index "idx_import_documents_user_id" on "import_documents" ("user_id")`);
      this.addSql(`create index "idx_import_documents_status" on "import_documents" ("status")`);
      this.addSql(
        `create table "characters" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "guild_id" uuid null, "name" varchar(255) not null, "avatar_url" text null, "personality_prompt" text not null, "greeting" text null, "example_dialogue" text null, "scenario" text null, "system_prompt" text null, "post_history_instructions" text null, "alternate_greetings" jsonb not null default '[]', "tags" jsonb not null default '[]', "creator_notes" text null, "attributes" jsonb not null default '{}', "config" jsonb not null default '{"temperature":0.7,"max_tokens":1024,"memory_enabled":true}', "visibility" "character_visibility" not null default 'private', "is_nsfw" boolean not null default false, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`create index "idx_characters_user_id" on "characters" ("user_id")`);
      this.addSql(`create index "idx_characters_guild_id" on "characters" ("guild_id")`);
      this.addSql(`create index "idx_characters_name" on "characters" ("name")`);
      this.addSql(`create index "idx_characters_attributes" on "characters" using gin ("attributes")`);
      this.addSql(
        `create table "conversations" ("id" uuid not null default gen_random_uuid(), "discord_channel_id" varchar(20) not null, "kind" "conversation_kind" not null default 'channel', "guild_id" uuid null, "user_id" uuid null, "character_id" uuid null, "title" varchar(255) null, "message_count" int not null default 0, "total_tokens" int not null default 0, "settings" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`alter table "conversations" add constraint "conversations_discord_channel_id_unique" unique ("discord_channel_id")`);
      this.addSql(`create index "idx_conversations_guild_id" on "conversations" ("guild_id")`);
      this.addSql(`create index "idx_conversations_user_id" on "conversations" ("user_id")`);
      this.addSql(`create index "idx_conversations_character_id" on "conversations" ("character_id")`);
      this.addSql(`create index "idx_conversations_created_at" on "conversations" ("created_at")`);
      this.addSql(
        `create table "messages" ("id" uuid not null default gen_random_uuid(), "conversation_id" uuid not null, "role" "message_role" not null, "content" text not null, "discord_message_id" varchar(20) null, "author_id" uuid null, "author_name" varchar(100) null, "character_id" uuid null, "tokens_used" int null, "model" varchar(100) null, "metadata" jsonb not null default '{}', "created_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`create index "idx_messages_conversation_id" on "messages" ("conversation_id")`);
      this.addSql(`alter table "messages" add constraint "messages_discord_message_id_unique" unique ("discord_message_id")`);
      this.addSql(`create index "idx_messages_created_at" on "messages" ("created_at")`);
      this.addSql(`create index "idx_messages_conversation_created" on "messages" ("conversation_id", "created_at")`);
      this.addSql(
        `create table "story_branches" ("id" uuid not null default gen_random_uuid(), "conversation_id" uuid not null, "parent_id" uuid null, "message_id" uuid null, "title" varchar(255) null, "content" text not null, "user_direction" text null, "generation_params" jsonb not null default '{}', "depth" int not null default 0, "branch_order" int not null default 0, "is_selected" boolean not null default false, "created_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`create index "idx_story_branches_conversation" on "story_branches" ("conversation_id")`);
      this.addSql(`create index "idx_story_branches_parent" on "story_branches" ("parent_id")`);
      this.addSql(`create index "idx_story_branches_message" on "story_branches" ("message_id")`);
      this.addSql(
        `create table "conversation_participants" ("id" uuid not null default gen_random_uuid(), "conversation_id" uuid not null, "character_id" uuid not null, "is_active" boolean not null default true, "auto_respond" boolean not null default true, "created_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`create index "idx_participants_conversation" on "conversation_participants" ("conversation_id")`);
      this.addSql(
        `alter table "conversation_participants" add constraint "conversation_participants_conversation_id_character_id_unique" unique ("conversation_id", "character_id")`,
      );
      this.addSql(
        `create table "character_knowledge" ("id" uuid not null default gen_random_uuid(), "character_id" uuid not null, "uploaded_by_id" uuid null, "name" varchar(255) not null, "source_type" "import_source_type" not null, "source_name" varchar(255) not null, "mime_type" varchar(100) null, "file_size" bigint null, "content_hash" varchar(64) null, "raw_content" text null, "status" "import_status" not null default 'pending', "processing_info" jsonb null, "metadata" jsonb not null default '{}', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
      );
      this.addSql(`create index "idx_character_knowledge_character" on "character_knowledge" ("character_id")`);
      this.addSql(`create index "idx_character_knowledge_status" on "character_knowledge" ("status")`);
      this.addSql(
        `alter table "character_knowledge" add constraint "character_knowledge_character_id_content_hash_unique" unique ("character_id", "content_hash")`,
      );
      this.addSql(
        `create table "vector_memories" ("id" uuid not null default gen_random_uuid(), "content" text not null, "embedding" vector(${dimension}) null, "memory_type" "memory_type" not null default 'conversation', "metadata" jsonb null, "created_at" timestamptz not null default now(), "conversation_id" uuid null, "character_id" uuid null, "knowledge_id" uuid null, primary key ("id"))`,
      );
      this.addSql(
        `create index "idx_vector_memories_conversation" on "vector_memories" ("conversation_id") where "conversation_id" is not null`,
      );
      this.addSql(`create index "idx_vector_memories_character" on "vector_memories" ("character_id") where "character_id" is not null`);
      this.addSql(`create index "idx_vector_memories_knowledge" on "vector_memories" ("knowledge_id") where "knowledge_id" is not null`);
      this.addSql(`create index "idx_vector_memories_type" on "vector_memories" ("memory_type")`);
      this.addSql(
        `alter table "llm_provider_instances" add constraint "llm_provider_instances_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "llm_provider_instances" add constraint "llm_provider_instances_guild_id_foreign" foreign key ("guild_id") references "guilds" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "import_documents" add constraint "import_documents_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "characters" add constraint "characters_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "characters" add constraint "characters_guild_id_foreign" foreign key ("guild_id") references "guilds" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "conversations" add constraint "conversations_guild_id_foreign" foreign key ("guild_id") references "guilds" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "conversations" add constraint "conversations_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete set null`,
      );
      this.addSql(
        `alter table "conversations" add constraint "conversations_character_id_foreign" foreign key ("character_id") references "characters" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "messages" add constraint "messages_conversation_id_foreign" foreign key ("conversation_id") references "conversations" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "messages" add constraint "messages_author_id_foreign" foreign key ("author_id") references "users" ("id") on delete set null`,
      );
      this.addSql(
        `alter table "messages" add constraint "messages_character_id_foreign" foreign key ("character_id") references "characters" ("id") on delete set null`,
      );
      this.addSql(
        `alter table "story_branches" add constraint "story_branches_conversation_id_foreign" foreign key ("conversation_id") references "conversations" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "story_branches" add constraint "story_branches_parent_id_foreign" foreign key ("parent_id") references "story_branches" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "story_branches" add constraint "story_branches_message_id_foreign" foreign key ("message_id") references "messages" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "conversation_participants" add constraint "conversation_participants_conversation_id_foreign" foreign key ("conversation_id") references "conversations" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "conversation_participants" add constraint "conversation_participants_character_id_foreign" foreign key ("character_id") references "characters" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "character_knowledge" add constraint "character_knowledge_character_id_foreign" foreign key ("character_id") references "characters" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "character_knowledge" add constraint "character_knowledge_uploaded_by_id_foreign" foreign key ("uploaded_by_id") references "users" ("id") on delete set null`,
      );
      this.addSql(
        `alter table "vector_memories" add constraint "vector_memories_conversation_id_foreign" foreign key ("conversation_id") references "conversations" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "vector_memories" add constraint "vector_memories_character_id_foreign" foreign key ("character_id") references "characters" ("id") on delete cascade`,
      );
      this.addSql(
        `alter table "vector_memories" add constraint "vector_memories_knowledge_id_foreign" foreign key ("knowledge_id") references "character_knowledge" ("id") on delete cascade`,
      );

      // pgvector: approximate nearest neighbours by cosine distance.
      this.addSql(`create index "idx_vector_memories_embedding" on "vector_memories" using hnsw ("embedding" vector_cosine_ops)`);
      this.addSql(
        `alter table "vector_memories" add constraint "vector_memories_owner_check" check ("conversation_id" is not null or "character_id" is not null or "knowledge_id" is not null)`,
      );
      // A provider instance belongs to exactly the owner its scope names, and each owner has at most one default.
      this.addSql(
        `alter table "llm_provider_instances" add constraint "llm_provider_instances_scope_check" check (("scope" = 'system' and "user_id" is null and "guild_id" is null) or ("scope" = 'guild' and "guild_id" is not null and "user_id" is null) or ("scope" = 'user' and "user_id" is not null and "guild_id" is null))`,
      );
      this.addSql(
        `create unique index "llm_provider_instances_system_default" on "llm_provider_instances" ("scope") where "is_default" and "scope" = 'system'`,
      );
      this.addSql(
        `create unique index "llm_provider_instances_guild_default" on "llm_provider_instances" ("guild_id") where "is_default" and "scope" = 'guild'`,
      );
      this.addSql(
        `create unique index "llm_provider_instances_user_default" on "llm_provider_instances" ("user_id") where "is_default" and "scope" = 'user'`,
      );
    }

    override down(): void {
      this.addSql(`drop table if exists "vector_memories" cascade`);
      this.addSql(`drop table if exists "character_knowledge" cascade`);
      this.addSql(`drop table if exists "conversation_participants" cascade`);
      this.addSql(`drop table if exists "story_branches" cascade`);
      this.addSql(`drop table if exists "messages" cascade`);
      this.addSql(`drop table if exists "conversations" cascade`);
      this.addSql(`drop table if exists "characters" cascade`);
      this.addSql(`drop table if exists "import_documents" cascade`);
      this.addSql(`drop table if exists "llm_provider_instances" cascade`);
      this.addSql(`drop table if exists "users" cascade`);
      this.addSql(`drop table if exists "guilds" cascade`);
      this.addSql(`drop type if exists "memory_type"`);
      this.addSql(`drop type if exists "message_role"`);
      this.addSql(`drop type if exists "conversation_kind"`);
      this.addSql(`drop type if exists "character_visibility"`);
      this.addSql(`drop type if exists "import_status"`);
      this.addSql(`drop type if exists "import_source_type"`);
      this.addSql(`drop type if exists "provider_scope"`);
      this.addSql(`drop type if exists "provider_type"`);
      this.addSql(`drop type if exists "user_role"`);
    }
  };
}

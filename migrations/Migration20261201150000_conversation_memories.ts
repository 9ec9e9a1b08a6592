import { Migration } from '@mikro-orm/migrations';

export const CONVERSATION_MEMORIES_MIGRATION = 'Migration20261201150000_conversation_memories';

/**
 * Conversation memories know whose they are and which reply they remember:
 * `user_id` (the person the exchange was with; deleting the user deletes
 * them) and `message_id` (the character's reply; forgetting or deleting the
 * reply deletes its memory). Recall across conversations asks for one
 * person's memories with one character.
 */
export class ConversationMemories extends Migration {
  override name = CONVERSATION_MEMORIES_MIGRATION;

  override up(): void {
    this.addSql(`alter table "vector_memories" add column "user_id" uuid null, add column "message_id" uuid null`);
    this.addSql(
      `alter table "vector_memories" add constraint "vector_memories_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "vector_memories" add constraint "vector_memories_message_id_foreign" foreign key ("message_id") references "messages" ("id") on delete cascade`,
    );
    this.addSql(
      `create index "idx_vector_memories_user_character" on "vector_memories" ("user_id", "character_id") where "user_id" is not null`,
    );
    this.addSql(`create index "idx_vector_memories_message" on "vector_memories" ("message_id") where "message_id" is not null`);
  }

  override down(): void {
    this.addSql(`drop index if exists "idx_vector_memories_message"`);
    this.addSql(`drop index if exists "idx_vector_memories_user_character"`);
    this.addSql(`alter table "vector_memories" drop column if exists "message_id", drop column if exists "user_id"`);
  }
}

import { Migration } from '@mikro-orm/migrations';

export const CONVERSATION_VISIBILITY_MIGRATION = 'Migration20261203171505_conversation_visibility';

/**
 * Whether every member of a conversation's server can read it (`is_public`):
 * the Discord adapter fills it from the channel's permissions as messages
 * arrive; null where it is not known (DMs, conversations from before). Recall
 * brings memories of other conversations into a server channel only from
 * public channels of that server.
 */
export class ConversationVisibility extends Migration {
  override name = CONVERSATION_VISIBILITY_MIGRATION;

  override up(): void {
    this.addSql(`alter table "conversations" add column "is_public" boolean null`);
  }

  override down(): void {
    this.addSql(`alter table "conversations" drop column if exists "is_public"`);
  }
}

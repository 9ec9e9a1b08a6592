import { Migration } from '@mikro-orm/migrations';

export const USAGE_BY_PERSON_INDEX_MIGRATION = 'Migration20261201180000_usage_by_person_index';

/**
 * `/usage show` for one person reads the month's replies they caused
 * (metadata.spent.by). Without this index it read every reply of the month
 * on the bot through the created_at index and filtered them; with it, only
 * that person's.
 */
export class UsageByPersonIndex extends Migration {
  override name = USAGE_BY_PERSON_INDEX_MIGRATION;

  override up(): void {
    this.addSql(
      `create index "idx_messages_spent_by_created" on "messages" ((metadata #>> '{spent,by}'), "created_at") where "role" = 'assistant'`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "idx_messages_spent_by_created"`);
  }
}

import { Migration } from '@mikro-orm/migrations';

export const CARD_MODEL_MIGRATION = 'Migration20261203170000_card_model';

/**
 * Cards without loss: the card's `personality` is its own column again (it was
 * merged into the description), and `card` keeps the imported card's JSON as it
 * came, every key of every extension included, so export can give it back.
 */
export class CardModel extends Migration {
  override name = CARD_MODEL_MIGRATION;

  override up(): void {
    this.addSql(`alter table "characters" add column "personality" text null, add column "card" jsonb null`);
  }

  override down(): void {
    this.addSql(`alter table "characters" drop column if exists "card", drop column if exists "personality"`);
  }
}

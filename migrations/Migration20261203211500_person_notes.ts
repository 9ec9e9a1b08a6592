import { Migration } from '@mikro-orm/migrations';

export const PERSON_NOTES_MIGRATION = 'Migration20261203211500_person_notes';

/**
 * Notes a character keeps about each person (issue 15): short durable facts
 * (names, relations, preferences, promises), one row each, keyed to the real
 * person (users.id) and the character. `conversation_id` is where the fact was
 * said (the privacy rule reads its visibility); `message_ids` the stored
 * messages it came from, so forgetting one forgets the note; `shared` says it
 * came from an exchange the person had alone with the character. All of it
 * goes with the person, the character or the conversation (ON DELETE CASCADE).
 *
 * Pins: `messages.pinned_at` marks a message kept always in its conversation's
 * prompt (`/memory pin`); forgetting the message removes the pin with it.
 */
export class PersonNotes extends Migration {
  override name = PERSON_NOTES_MIGRATION;

  override up(): void {
    this.addSql(
      `create table "person_notes" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "character_id" uuid not null, ` +
        `"conversation_id" uuid null, "content" varchar(300) not null, "persona" varchar(80) null, "message_ids" jsonb not null default '[]', ` +
        `"shared" boolean not null default false, "edited" boolean not null default false, ` +
        `"created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(
      `alter table "person_notes" add constraint "person_notes_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "person_notes" add constraint "person_notes_character_id_foreign" foreign key ("character_id") references "characters" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "person_notes" add constraint "person_notes_conversation_id_foreign" foreign key ("conversation_id") references "conversations" ("id") on delete cascade`,
    );
    this.addSql(`create index "idx_person_notes_user_character" on "person_notes" ("user_id", "character_id")`);
    this.addSql(`create index "idx_person_notes_conversation" on "person_notes" ("conversation_id")`);
    this.addSql(`alter table "messages" add column "pinned_at" timestamptz null`);
    this.addSql(`create index "idx_messages_pinned" on "messages" ("conversation_id") where "pinned_at" is not null`);
  }

  override down(): void {
    this.addSql(`drop index if exists "idx_messages_pinned"`);
    this.addSql(`alter table "messages" drop column if exists "pinned_at"`);
    this.addSql(`drop table if exists "person_notes"`);
  }
}

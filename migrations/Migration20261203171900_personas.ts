import { Migration } from '@mikro-orm/migrations';

export const PERSONAS_MIGRATION = 'Migration20261203171900_personas';

/**
 * Personas: the characters people play themselves. `personas` holds each
 * person's (name, description, avatar, proxy tags); `persona_choices` which
 * one they wear everywhere, in a server or in a channel (a null persona is
 * "plain me" there), and whether everything they write in a channel is
 * reposted as it (autoproxy). Both go with the person (ON DELETE CASCADE).
 */
export class Personas extends Migration {
  override name = PERSONAS_MIGRATION;

  override up(): void {
    this.addSql(
      `create table "personas" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "name" varchar(80) not null, ` +
        `"description" text not null default '', "avatar_url" text null, "proxy_tags" jsonb not null default '[]', ` +
        `"is_nsfw" boolean not null default false, "created_at" timestamptz not null default now(), ` +
        `"updated_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(
      `alter table "personas" add constraint "personas_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(`create unique index "idx_personas_user_name" on "personas" ("user_id", lower("name"))`);
    this.addSql(
      `create table "persona_choices" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "scope" varchar(10) not null, ` +
        `"place_id" varchar(20) not null default '', "persona_id" uuid null, "autoproxy" boolean not null default false, ` +
        `"updated_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(
      `alter table "persona_choices" add constraint "persona_choices_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "persona_choices" add constraint "persona_choices_persona_id_foreign" foreign key ("persona_id") references "personas" ("id") on delete cascade`,
    );
    this.addSql(
      `alter table "persona_choices" add constraint "persona_choices_user_id_scope_place_id_unique" unique ("user_id", "scope", "place_id")`,
    );
    this.addSql(`create index "idx_persona_choices_persona" on "persona_choices" ("persona_id")`);
  }

  override down(): void {
    this.addSql(`drop table if exists "persona_choices"`);
    this.addSql(`drop table if exists "personas"`);
  }
}

import { Migration } from '@mikro-orm/migrations';

export const MESSAGE_IMAGES_MIGRATION = 'Migration20261203171700_message_images';

/**
 * The images people post to characters: fetched once (Discord's CDN links
 * expire), kept resized and recompressed beside their message, with the
 * caption made for models without vision and for memory. They go with their
 * message (forget, delete-my-data, a deleted Discord message).
 */
export class MessageImages extends Migration {
  override name = MESSAGE_IMAGES_MIGRATION;

  override up(): void {
    this.addSql(
      `create table "message_images" ("id" uuid not null default gen_random_uuid(), "message_id" uuid not null, "position" int not null default 0, ` +
        `"mime_type" varchar(50) not null, "width" int not null, "height" int not null, "data" bytea not null, "caption" text null, ` +
        `"captioned_by" varchar(150) null, "created_at" timestamptz not null default now(), primary key ("id"))`,
    );
    this.addSql(`create index "idx_message_images_message" on "message_images" ("message_id")`);
    this.addSql(
      `alter table "message_images" add constraint "message_images_message_id_foreign" foreign key ("message_id") references "messages" ("id") on delete cascade`,
    );
  }

  override down(): void {
    this.addSql(`drop table if exists "message_images" cascade`);
  }
}

import { randomUUID } from 'node:crypto';
import { p } from '@mikro-orm/postgresql';

/** Columns every table shares: a UUID key and creation/update times. */
export const id = () =>
  p
    .uuid()
    .primary()
    .defaultRaw('gen_random_uuid()')
    .onCreate(() => randomUUID());
export const createdAt = () =>
  p
    .datetime()
    .defaultRaw('now()')
    .onCreate(() => new Date());
export const updatedAt = () =>
  p
    .datetime()
    .defaultRaw('now()')
    .onCreate(() => new Date())
    .onUpdate(() => new Date());

/** Discord snowflakes are 64-bit integers; they are kept as text to stay exact. */
export const snowflake = () => p.string().length(20);

/** A JSON object column: `{}` in the database and in memory when not given. */
export const jsonObject = <T extends object = Record<string, unknown>>() =>
  p
    .json<T>()
    .default('{}')
    .onCreate(() => ({}) as T);

/** A JSON array column: `[]` in the database and in memory when not given. */
export const jsonArray = <T>() =>
  p
    .json<T[]>()
    .default('[]')
    .onCreate(() => [] as T[]);

import type { EntityManager } from '@mikro-orm/postgresql';
import { UserError } from '../errors.js';
import { LIMIT_NAMES, serverLimits, type UsageLimits } from './budget.js';

/** A server's guilds.settings as stored (read from the table: an upserted guild row may not carry them). */
export async function loadGuildSettings(em: EntityManager, discordGuildId: string): Promise<Record<string, unknown> | undefined> {
  const rows = await em.execute<{ settings: Record<string, unknown> | null }[]>('select settings from guilds where discord_id = ?', [
    discordGuildId,
  ]);
  return rows[0]?.settings ?? undefined;
}

/**
 * Sets a server's own limits (guilds.settings.usage), merged by the database
 * so other settings written meanwhile are kept. A value of 0 removes the
 * server's own limit (the operator's applies). Returns what is stored now.
 */
export async function saveServerLimits(
  em: EntityManager,
  guild: { id: string; discordId: string },
  changes: Partial<UsageLimits>,
): Promise<Partial<UsageLimits>> {
  for (const [name, value] of Object.entries(changes)) {
    if (!LIMIT_NAMES.includes(name as (typeof LIMIT_NAMES)[number])) throw new Error(`unknown limit ${name}`);
    if (!Number.isInteger(value) || value! < 0)
      throw new UserError('Limits are whole numbers, 0 or more (0 removes the server’s own limit).');
  }
  const current = serverLimits(await loadGuildSettings(em, guild.discordId));
  const next = Object.fromEntries(
    Object.entries({ ...current, ...changes }).filter(([, value]) => (value ?? 0) > 0),
  ) as Partial<UsageLimits>;
  await em.execute(
    `update guilds set settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('usage', ?::jsonb), updated_at = now() where id = ?`,
    [JSON.stringify(next), guild.id],
    'run',
  );
  return next;
}

import type { EntityManager } from '@mikro-orm/postgresql';
import type { HistoryEntry, PromptPersonas } from '../chat/prompt.js';
import { uuidArray } from '../core/uuid.js';

/**
 * The personas people speak as in `history`, each described once: the one
 * worn in `answered` (the line of the person being answered, as {{user}} is
 * chosen; by default the newest person's line) is {{user}}'s, the others
 * follow by when they last spoke. Names are as the lines give them; descriptions are read as
 * they are now. An NSFW persona is described only from messages written where
 * NSFW may run (the message says so).
 */
export async function personasIn(em: EntityManager, history: HistoryEntry[], answered?: HistoryEntry): Promise<PromptPersonas> {
  const latest = new Map<string, { name: string; nsfw: boolean }>();
  const userLines = history.filter((entry) => entry.role === 'user');
  for (let i = userLines.length - 1; i >= 0; i--) {
    const { persona, speaker } = userLines[i]!;
    if (!persona) continue;
    const seen = latest.get(persona.id);
    if (!seen) latest.set(persona.id, { name: speaker, nsfw: persona.nsfw });
    else if (persona.nsfw) seen.nsfw = true;
  }
  if (!latest.size) return { others: [] };
  const rows = await em.execute<{ id: string; description: string; is_nsfw: boolean }[]>(
    `select id, description, is_nsfw from personas where id = any(?::uuid[])`,
    [uuidArray([...latest.keys()])],
  );
  const described = new Map(
    rows
      .filter((row) => !row.is_nsfw || latest.get(row.id)!.nsfw)
      .map((row) => [row.id, { name: latest.get(row.id)!.name, description: row.description }]),
  );
  const userPersonaId = (answered ?? userLines.at(-1))?.persona?.id;
  const user = userPersonaId ? described.get(userPersonaId) : undefined;
  const others = [...latest.keys()]
    .filter((id) => id !== userPersonaId)
    .map((id) => described.get(id))
    .filter((p) => p !== undefined);
  return { ...(user ? { user } : {}), others };
}

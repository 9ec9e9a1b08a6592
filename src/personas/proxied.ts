import type { EntityManager } from '@mikro-orm/postgresql';

/** A person's message reposted as their persona, as stored: its row, its author's Discord id and the conversation's channel. */
export interface ProxiedMessage {
  id: string;
  authorDiscordId: string | null;
  channelId: string;
  content: string;
}

/** The stored repost behind a Discord message, or undefined when that message is no persona's repost. */
export async function findProxiedMessage(em: EntityManager, discordMessageId: string): Promise<ProxiedMessage | undefined> {
  const [row] = await em.execute<{ id: string; discord_id: string | null; channel_id: string; content: string }[]>(
    `select m.id, u.discord_id, c.discord_channel_id as channel_id, m.content
       from messages m join conversations c on c.id = m.conversation_id left join users u on u.id = m.author_id
      where m.discord_message_id = ? and m.role = 'user' and jsonb_exists(m.metadata, 'proxiedFrom')`,
    [discordMessageId],
  );
  return row ? { id: row.id, authorDiscordId: row.discord_id, channelId: row.channel_id, content: row.content } : undefined;
}

export async function isProxiedMessage(em: EntityManager, discordMessageId: string): Promise<boolean> {
  return (await findProxiedMessage(em, discordMessageId)) !== undefined;
}

/** Whether a channel or thread has a conversation (a character bound there, a scene), where reposts are kept. */
export async function hasConversation(em: EntityManager, channelId: string): Promise<boolean> {
  const rows = await em.execute<{ id: string }[]>(`select id from conversations where discord_channel_id = ? limit 1`, [channelId]);
  return rows.length > 0;
}

import { EmbedBuilder } from 'discord.js';
import type { ICharacterKnowledge } from '../../db/entities/index.js';
import type { IngestProgress } from '../../knowledge/ingest-job.js';
import type { MemoryHit } from '../../memory/vector-store.js';

const STATUS_ICON: Record<string, string> = { pending: '⏳', processing: '⚙️', completed: '✅', failed: '❌' };

function progressBar(done: number, total: number, width = 16): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${total}`;
}

/** The reply to /knowledge add, edited as the ingest job advances. */
export function ingestStatusText(
  name: string,
  characterName: string,
  progress: IngestProgress | undefined,
  item?: ICharacterKnowledge,
): string {
  if (item?.status === 'completed') {
    const info = item.processingInfo as { chunks?: number; durationMs?: number } | null;
    return `✅ **${characterName}** now knows **${name}**: ${info?.chunks ?? 0} passages, learned in ${((info?.durationMs ?? 0) / 1000).toFixed(1)} s.`;
  }
  if (item?.status === 'failed') {
    const info = item.processingInfo as { error?: string } | null;
    return `❌ **${name}** could not be learned: ${info?.error ?? 'unknown error'}`;
  }
  if (!progress || progress.stage === 'downloading') return `⏳ Fetching **${name}**…`;
  if (progress.stage === 'reading') return `⚙️ Reading **${name}**…`;
  return `⚙️ Learning **${name}**: ${progressBar(progress.embedded, progress.total)}`;
}

export function knowledgeListEmbed(characterName: string, items: ICharacterKnowledge[]): EmbedBuilder {
  const lines = items.slice(0, 25).map((item) => {
    const info = item.processingInfo as { chunks?: number; error?: string } | null;
    const size = item.fileSize ? ` · ${(Number(item.fileSize) / 1024).toFixed(0)} KB` : '';
    const detail = item.status === 'failed' ? ` · ${info?.error ?? ''}` : info?.chunks ? ` · ${info.chunks} passages` : '';
    return `${STATUS_ICON[item.status] ?? ''} **${item.name}**${size}${detail} · <t:${Math.floor(item.createdAt.getTime() / 1000)}:R>`;
  });
  return new EmbedBuilder()
    .setTitle(`What ${characterName} knows`)
    .setDescription(lines.join('\n') || 'Nothing yet. Add files with /knowledge add.')
    .setFooter({ text: items.length > 25 ? `Showing 25 of ${items.length}` : `${items.length} sources` });
}

export function knowledgeSearchEmbed(characterName: string, query: string, hits: MemoryHit[]): EmbedBuilder {
  return new EmbedBuilder()
    .setTitle(`What ${characterName} would recall`)
    .setDescription(
      hits
        .map((hit, i) => {
          const meta = hit.metadata as { source?: string; page?: number } | null;
          const where = meta?.source ? ` — ${meta.source}${meta.page ? `, page ${meta.page}` : ''}` : '';
          return `**${i + 1}.** (${hit.similarity.toFixed(2)}${where})\n${hit.content.slice(0, 350)}${hit.content.length > 350 ? '…' : ''}`;
        })
        .join('\n\n')
        .slice(0, 4000) || 'Nothing close to that.',
    )
    .setFooter({ text: `Query: ${query.slice(0, 100)}` });
}

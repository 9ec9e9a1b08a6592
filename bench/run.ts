/**
 * `npm run bench -- <name>`: runs one benchmark, prints its figures and
 * records them in bench/results/<name>.json (with the date and machine).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCHES: Record<string, () => Promise<{ default: (args: string[]) => Promise<Record<string, unknown>> }>> = {
  responder: () => import('./responder.js'),
  ingest: () => import('./ingest.js'),
  retrieval: () => import('./retrieval.js'),
  memory: () => import('./memory.js'),
  'memory-replay': () => import('./memory-replay.js'),
  load: () => import('./load/index.js'),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name ? BENCHES[name] : undefined;
  if (!load) {
    console.error(`Usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`);
    process.exit(1);
  }
  const figures = await (await load()).default(args);
  const record = {
    bench: name,
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    figures,
  };
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(JSON.stringify(record, null, 2));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

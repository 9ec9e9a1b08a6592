/**
 * Writes the memory bench's script to JSON for inspection (the generator is
 * the source; the output is not committed):
 *
 *   npx tsx bench/memory/generate.ts [seed] [out.json]   (default: memory-script-<seed>.json in the temp directory)
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SEED, generateScript } from './script.js';

const seed = Number(process.argv[2] ?? DEFAULT_SEED);
const out = process.argv[3] ?? path.join(os.tmpdir(), `memory-script-${seed}.json`);
const script = generateScript(seed);
await writeFile(out, `${JSON.stringify(script, null, 2)}\n`);
console.log(
  `${out}: ${script.turns.length} turns, ${script.facts.length} facts, ${script.probes.length} probes, ` +
    `documents ${script.documents.map((document) => `${document.name} (${document.words} words)`).join(', ')}`,
);

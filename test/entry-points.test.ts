import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROCESS_START_MS } from './support/process-start.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs an entry point as `npm start` would, from an empty directory (no .env), with a chosen environment. */
async function run(script: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const cwd = await mkdtemp(path.join(tmpdir(), 'dreamchat-entry-'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), path.join(ROOT, script)],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: PROCESS_START_MS },
      (error, _stdout, stderr) => resolve({ code: error ? (error.code as number | null) : 0, stderr }),
    );
  });
}

// Each test starts a process through tsx: bounded by PROCESS_START_MS, not the 30 s default.
describe('entry points', { timeout: PROCESS_START_MS + 10_000 }, () => {
  it('npm start without DISCORD_TOKEN exits 1 and says how to get one', async () => {
    const { code, stderr } = await run('src/main.ts', { DISCORD_TOKEN: '' });
    expect(code).toBe(1);
    expect(stderr).toContain('DISCORD_TOKEN is not set');
    expect(stderr).toContain('discord.com/developers/applications');
    expect(stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('npm start with a malformed DATABASE_URL names the variable', async () => {
    const { code, stderr } = await run('src/main.ts', { DISCORD_TOKEN: 'x'.repeat(60), DATABASE_URL: 'localhost:5432' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/DATABASE_URL: must/);
  });

  it('npm run worker refuses to run without a shared database and Redis', async () => {
    const { code, stderr } = await run('src/worker.ts', {});
    expect(code).toBe(1);
    expect(stderr).toContain('npm run worker needs DATABASE_URL and REDIS_URL');
  });
});

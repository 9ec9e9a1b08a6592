/**
 * `npm run bench -- load [--minutes 3 --users 200 --channels 50 --scenes 10 …]`:
 * the load run (see run-load.ts). Needs DATABASE_URL and REDIS_URL; uses its
 * own database (dreamchat_load) and Redis DB 7. Exits non-zero when the
 * end-state check finds anything, after the figures are recorded.
 */
import { parseLoadArgs } from './params.js';
import { runLoad } from './run-load.js';

export default async function run(args: string[]): Promise<Record<string, unknown>> {
  const params = parseLoadArgs(args);
  const report = await runLoad(params, { database: 'dreamchat_load', redisDb: 7, log: (line) => console.error(`[load] ${line}`) });
  if (!report.ok) {
    console.error(
      `[load] FAILED: ${report.violationCount} violations, ${report.discordRest.loops429} 429 loops, ${report.processErrors.errors} process errors`,
    );
    for (const example of report.examples) console.error(`  ${example}`);
    // bench/run.ts records the figures and exits 0; the exit code says the check failed.
    process.once('exit', () => {
      process.exitCode = 1;
    });
  }
  return report as unknown as Record<string, unknown>;
}

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { retryOnLostConnection } from '../../src/db/database.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Work that is never retried by a queue (a Discord message as it arrives)
 * runs again when the server cut its connection. The cut is real: the
 * query's backend is terminated from a second connection, as a restart does.
 * The embedded server has one connection, so this needs a real one.
 */
describe.runIf(!inject('embedded'))('work on a connection the server cut', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Runs a slow query and terminates its backend while it runs; resolves with the query's error. */
  async function cutQuery(): Promise<unknown> {
    const tag = `cut-${Math.random().toString(36).slice(2)}`;
    const running = db.orm.em
      .fork()
      .execute(`select pg_sleep(10) /* ${tag} */`)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const admin = db.orm.em.fork();
    const pidOf = async () =>
      (
        await admin.execute<{ pid: number }[]>(`select pid from pg_stat_activity where query like ? and pid <> pg_backend_pid()`, [
          `%${tag}%`,
        ])
      )[0]?.pid;
    const pid = await waitFor(pidOf, 'the slow query to start', 5_000);
    await admin.execute('select pg_terminate_backend(?)', [pid]);
    return running;
  }

  it('runs it again on a new connection and returns its result', async () => {
    let tries = 0;
    const result = await retryOnLostConnection(async () => {
      tries += 1;
      if (tries === 1) throw await cutQuery();
      const [row] = await db.orm.em.fork().execute<{ answer: number }[]>('select 42 as answer');
      return row!.answer;
    });
    expect(tries).toBe(2);
    expect(result).toBe(42);
  });

  it('does not run again work that failed for another reason', async () => {
    let tries = 0;
    const failing = retryOnLostConnection(async () => {
      tries += 1;
      await db.orm.em.fork().execute('select * from no_such_table');
    });
    await expect(failing).rejects.toThrow(/no_such_table/);
    expect(tries).toBe(1);
  });

  it('gives up after three cuts and throws the last', async () => {
    let tries = 0;
    const failing = retryOnLostConnection(async () => {
      tries += 1;
      throw await cutQuery();
    });
    await expect(failing).rejects.toThrow(/terminat/i);
    expect(tries).toBe(3);
  });
});

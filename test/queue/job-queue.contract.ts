import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue } from '../../src/queue/job-queue.js';

/** Polls `check` until it passes; after `timeoutMs` fails with its last error. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error;
      await sleep(25);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise the test resolves by hand, to hold a job in the middle of its run. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

async function waitForStatus(queue: JobQueue, name: string, id: string, status: string): Promise<void> {
  await eventually(async () => expect((await queue.getJob(name, id))?.status).toBe(status));
}

/** The behaviour every JobQueue must have; each implementation's test file runs it. */
export function jobQueueContract(name: string, create: () => JobQueue): void {
  describe(`JobQueue contract: ${name}`, () => {
    let queue: JobQueue;
    beforeEach(() => {
      queue = create();
    });
    afterEach(() => queue.close());

    it('runs a job once with its data intact, as JSON carries it', async () => {
      const seen: unknown[] = [];
      queue.process('q', async (data, context) => {
        seen.push({ data, id: context.id, queue: context.queue, attempt: context.attempt });
        return { chunks: 2 };
      });
      const data = { text: 'héllo 🌙', n: [1, 2.5, -3], nested: { ok: true, none: null }, at: new Date(0) };
      const { id } = await queue.add('q', data, { jobId: 'job-1' });
      expect(id).toBe('job-1');
      await waitForStatus(queue, 'q', id, 'completed');
      expect(seen).toEqual([{ data: { ...data, at: '1970-01-01T00:00:00.000Z' }, id: 'job-1', queue: 'q', attempt: 1 }]);
      const job = await queue.getJob('q', id);
      expect(job).toMatchObject({ id: 'job-1', status: 'completed', attemptsMade: 1, returnValue: { chunks: 2 } });
      expect(job?.failedReason).toBeUndefined();
      expect(await queue.getJob('q', 'no-such-job')).toBeUndefined();
    });

    it('gives a job without jobId an id of its own', async () => {
      const first = await queue.add('q', { n: 1 });
      const second = await queue.add('q', { n: 1 });
      expect(first.id).not.toBe(second.id);
      expect((await queue.getJob('q', first.id))?.status).toBe('waiting');
    });

    it('retries a failing job with growing backoff, then keeps why it failed', async () => {
      const times: number[] = [];
      const attempts: number[] = [];
      queue.process('failing', async (_data, context) => {
        times.push(Date.now());
        attempts.push(context.attempt);
        throw new Error(`boom ${attempts.length}`);
      });
      const { id } = await queue.add('failing', {}, { jobId: 'failing', attempts: 3, backoffMs: 50 });
      await waitForStatus(queue, 'failing', id, 'failed');
      expect(await queue.getJob('failing', id)).toMatchObject({ attemptsMade: 3, failedReason: 'boom 3' });
      expect(attempts).toEqual([1, 2, 3]);
      const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
      // Backoff doubles: at least ~50 ms, then at least ~100 ms. Only lower bounds: a busy machine may run a retry
      // late, never early (CI saw 124 ms then 126 ms, a later first retry, not a shorter backoff).
      expect(gaps[0]).toBeGreaterThanOrEqual(45);
      expect(gaps[1]).toBeGreaterThanOrEqual(90);
    });

    it('completes a job that succeeds on a retry, and keeps a thrown string as the reason', async () => {
      let tries = 0;
      queue.process('flaky', async () => {
        tries += 1;
        if (tries === 1) throw new Error('first try fails');
        return 'second try works';
      });
      queue.process('strings', async () => {
        throw 'not an Error';
      });
      await queue.add('flaky', {}, { jobId: 'flaky', backoffMs: 10 });
      await queue.add('strings', {}, { jobId: 'strings', attempts: 1 });
      await waitForStatus(queue, 'flaky', 'flaky', 'completed');
      expect(await queue.getJob('flaky', 'flaky')).toMatchObject({ attemptsMade: 2, returnValue: 'second try works' });
      await waitForStatus(queue, 'strings', 'strings', 'failed');
      expect(await queue.getJob('strings', 'strings')).toMatchObject({ attemptsMade: 1, failedReason: 'not an Error' });
    });

    it('does not run a job twice for a repeated id: waiting, running, completed or failed', async () => {
      const runs: unknown[] = [];
      const hold = gate();
      queue.process('q', async (data) => {
        runs.push(data);
        await hold.wait;
      });
      const adds = await Promise.all([queue.add('q', { n: 1 }, { jobId: 'same' }), queue.add('q', { n: 2 }, { jobId: 'same' })]);
      expect(adds).toEqual([{ id: 'same' }, { id: 'same' }]);
      await eventually(() => expect(runs).toHaveLength(1));
      await queue.add('q', { n: 3 }, { jobId: 'same' });
      hold.open();
      await waitForStatus(queue, 'q', 'same', 'completed');
      expect(await queue.add('q', { n: 4 }, { jobId: 'same' })).toEqual({ id: 'same' });

      let failures = 0;
      queue.process('f', async () => {
        failures += 1;
        throw new Error('always');
      });
      await queue.add('f', {}, { jobId: 'bad', attempts: 1 });
      await waitForStatus(queue, 'f', 'bad', 'failed');
      await queue.add('f', {}, { jobId: 'bad', attempts: 1 });

      await sleep(250);
      expect(runs).toEqual([{ n: 1 }]);
      expect(failures).toBe(1);
      expect((await queue.getJob('f', 'bad'))?.status).toBe('failed');
    });

    it('accepts any non-empty job id and gives it back unchanged', async () => {
      const ids = ['ingest:42:chunk', ':', '%3A', '1234567890123456789', '0', '-5', '%N7', 'a b/ç'];
      const seen: string[] = [];
      queue.process('ids', async (_data, context) => {
        seen.push(context.id);
      });
      for (const id of ids) expect(await queue.add('ids', { id }, { jobId: id })).toEqual({ id });
      for (const id of ids) await waitForStatus(queue, 'ids', id, 'completed');
      expect(seen.sort()).toEqual([...ids].sort());
      await expect(queue.add('ids', {}, { jobId: '' })).rejects.toThrow(/non-empty/);
    });

    it('close() waits for the running job and starts no new one', async () => {
      const events: string[] = [];
      queue.process('slow', async (data: { n: number }) => {
        events.push(`start ${data.n}`);
        await sleep(300);
        events.push(`end ${data.n}`);
      });
      await queue.add('slow', { n: 1 }, { jobId: 'slow-1' });
      await eventually(() => expect(events).toEqual(['start 1']));
      await queue.add('slow', { n: 2 }, { jobId: 'slow-2' });
      await queue.add('slow', { n: 3 }, { jobId: 'slow-3', delayMs: 50 });
      await queue.close();
      expect(events).toEqual(['start 1', 'end 1']);
      await sleep(150);
      expect(events).toEqual(['start 1', 'end 1']);
      await queue.close();
      await expect(queue.add('slow', { n: 4 })).rejects.toThrow(/closed/);
    });

    it('runs no more jobs at once than the concurrency, and picks up jobs added before process()', async () => {
      let running = 0;
      let peak = 0;
      await Promise.all(Array.from({ length: 9 }, (_, i) => queue.add('busy', { i }, { jobId: `busy-${i}` })));
      queue.process(
        'busy',
        async () => {
          running += 1;
          peak = Math.max(peak, running);
          await sleep(100);
          running -= 1;
        },
        { concurrency: 3 },
      );
      await eventually(async () => expect((await queue.counts('busy')).completed).toBe(9));
      expect(peak).toBe(3);
    });

    it('runs jobs by priority: none first, then lower numbers, equal ones in the order added', async () => {
      const order: string[] = [];
      const jobs: [string, number | undefined][] = [
        ['p3', 3],
        ['p1-first', 1],
        ['none', undefined],
        ['p2', 2],
        ['p1-second', 1],
        ['huge', 10 ** 9],
      ];
      for (const [id, priority] of jobs) await queue.add('ranked', { id }, { jobId: id, priority });
      expect((await queue.counts('ranked')).waiting).toBe(6);
      expect((await queue.getJob('ranked', 'p2'))?.status).toBe('waiting');
      queue.process('ranked', async (data: { id: string }) => {
        order.push(data.id);
      });
      await eventually(async () => expect((await queue.counts('ranked')).completed).toBe(6));
      expect(order).toEqual(['none', 'p1-first', 'p1-second', 'p2', 'p3', 'huge']);
    });

    it('lets a job of higher priority added later pass the waiting ones while one runs', async () => {
      const order: string[] = [];
      const hold = gate();
      queue.process('backlog', async (data: { id: string }) => {
        order.push(data.id);
        if (data.id === 'a1') await hold.wait;
      });
      for (let n = 1; n <= 4; n++) await queue.add('backlog', { id: `a${n}` }, { jobId: `a${n}`, priority: n });
      await eventually(() => expect(order).toEqual(['a1']));
      await queue.add('backlog', { id: 'b1' }, { jobId: 'b1', priority: 1 });
      hold.open();
      await eventually(async () => expect((await queue.counts('backlog')).completed).toBe(5));
      expect(order).toEqual(['a1', 'b1', 'a2', 'a3', 'a4']);
    });

    it('shows progress and the active status while a job runs', async () => {
      const hold = gate();
      queue.process('progress', async (_data, context) => {
        await context.updateProgress(40);
        await context.updateProgress({ chunks: 3, of: 10 });
        await hold.wait;
      });
      await queue.add('progress', {}, { jobId: 'p' });
      await eventually(async () =>
        expect(await queue.getJob('progress', 'p')).toMatchObject({ status: 'active', progress: { chunks: 3, of: 10 } }),
      );
      hold.open();
      await waitForStatus(queue, 'progress', 'p', 'completed');
      expect((await queue.getJob('progress', 'p'))?.progress).toEqual({ chunks: 3, of: 10 });
    });

    it('counts jobs by status', async () => {
      await queue.add('counted', { n: 1 }, { jobId: 'now-1' });
      await queue.add('counted', { n: 2 }, { jobId: 'now-2' });
      await queue.add('counted', { n: 3 }, { jobId: 'later', delayMs: 60_000 });
      expect(await queue.counts('counted')).toEqual({ waiting: 2, delayed: 1, active: 0, completed: 0, failed: 0, unknown: 0 });
      expect((await queue.getJob('counted', 'later'))?.status).toBe('delayed');
      queue.process('counted', async () => {});
      await eventually(async () =>
        expect(await queue.counts('counted')).toEqual({ waiting: 0, delayed: 1, active: 0, completed: 2, failed: 0, unknown: 0 }),
      );
      expect(await queue.counts('empty')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0, unknown: 0 });
    });

    it('refuses queue names with ":" and a second worker for one queue', async () => {
      await expect(queue.add('a:b', {})).rejects.toThrow(/contain no ':'/);
      expect(() => queue.process('a:b', async () => {})).toThrow(/contain no ':'/);
      queue.process('once', async () => {});
      expect(() => queue.process('once', async () => {})).toThrow(/already has a worker/);
    });
  });
}

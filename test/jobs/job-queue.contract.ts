import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobQueue } from '../../src/jobs/job-queue.js';

/** Waits until `check` passes, polling; fails with the last error after `timeoutMs`. */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** The behaviour every JobQueue must have, run against each implementation. */
export function jobQueueContract(name: string, create: () => JobQueue): void {
  describe(`JobQueue contract: ${name}`, () => {
    let queue: JobQueue;
    beforeEach(() => {
      queue = create();
    });
    afterEach(() => queue.close());

    it('runs a job once with its data intact', async () => {
      const seen: unknown[] = [];
      queue.process<{ text: string; n: number[] }>('q', async (data, context) => {
        seen.push({ data, attempt: context.attempt });
        return 'done';
      });
      const { id } = await queue.add('q', { text: 'héllo', n: [1, 2] }, { jobId: 'job-1' });
      expect(id).toBe('job-1');
      await eventually(async () => expect((await queue.getJob('q', id))?.status).toBe('completed'));
      expect(seen).toEqual([{ data: { text: 'héllo', n: [1, 2] }, attempt: 1 }]);
      expect(await queue.getJob('q', id)).toMatchObject({ attemptsMade: 1, returnValue: 'done' });
    });

    it('retries a failing job with growing backoff, then marks it failed with its error', async () => {
      const times: number[] = [];
      queue.process('q', async () => {
        times.push(Date.now());
        throw new Error(`boom ${times.length}`);
      });
      const { id } = await queue.add('q', {}, { jobId: 'failing', attempts: 3, backoffMs: 100 });
      await eventually(async () => expect((await queue.getJob('q', id))?.status).toBe('failed'));
      const job = await queue.getJob('q', id);
      expect(job).toMatchObject({ attemptsMade: 3, failedReason: 'boom 3' });
      expect(times).toHaveLength(3);
      const [first, second] = [times[1]! - times[0]!, times[2]! - times[1]!];
      expect(first).toBeGreaterThanOrEqual(90);
      expect(second).toBeGreaterThanOrEqual(190);
    });

    it('does not run a job twice for a repeated job id, before or after it finished', async () => {
      let runs = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      queue.process('q', async () => {
        runs += 1;
        await gate;
      });
      await queue.add('q', { n: 1 }, { jobId: 'same' });
      await queue.add('q', { n: 2 }, { jobId: 'same' });
      release();
      await eventually(async () => expect((await queue.getJob('q', 'same'))?.status).toBe('completed'));
      await queue.add('q', { n: 3 }, { jobId: 'same' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(runs).toBe(1);
    });

    it('close() waits for the running job and starts no new one', async () => {
      const events: string[] = [];
      queue.process('q', async (data: { n: number }) => {
        events.push(`start ${data.n}`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        events.push(`end ${data.n}`);
      });
      await queue.add('q', { n: 1 }, { jobId: 'slow-1' });
      await eventually(() => expect(events).toContain('start 1'));
      await queue.add('q', { n: 2 }, { jobId: 'slow-2', delayMs: 100 });
      await queue.close();
      expect(events).toEqual(['start 1', 'end 1']);
    });

    it('honours concurrency', async () => {
      let running = 0;
      let peak = 0;
      queue.process(
        'q',
        async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 50));
          running -= 1;
        },
        { concurrency: 2 },
      );
      await Promise.all(Array.from({ length: 8 }, (_, i) => queue.add('q', { i }, { jobId: `c-${i}` })));
      await eventually(async () => expect((await queue.counts('q')).completed).toBe(8));
      expect(peak).toBe(2);
    });

    it('reports progress through getJob', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      queue.process('q', async (_data, context) => {
        await context.updateProgress({ chunks: 3, of: 10 });
        await gate;
      });
      await queue.add('q', {}, { jobId: 'progress' });
      await eventually(async () => expect((await queue.getJob('q', 'progress'))?.progress).toEqual({ chunks: 3, of: 10 }));
      release();
    });

    it('refuses job ids that the Redis backend cannot store', async () => {
      await expect(queue.add('q', {}, { jobId: 'a:b' })).rejects.toThrow(/contain no ':'/);
    });
  });
}

import type { JobQueue } from './job-queue.js';

/**
 * Resolves once none of `names` has a job waiting, delayed (a retry) or
 * running: the work queued so far is done, or has failed for good. Polls
 * counts(), so it works on both backends; on Redis it counts every
 * process's jobs of those queues.
 */
export async function waitForQueues(queue: JobQueue, names: readonly string[], pollMs = 10): Promise<void> {
  for (;;) {
    const counts = await Promise.all(names.map((name) => queue.counts(name)));
    if (counts.every((c) => c.waiting + c.delayed + c.active === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

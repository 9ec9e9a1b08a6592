import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { MemoryJobQueue } from '../../src/queue/memory-queue.js';
import { eventually, jobQueueContract } from './job-queue.contract.js';

const logger = createLogger('silent');

jobQueueContract('in-process', () => new MemoryJobQueue({ logger }));

describe('MemoryJobQueue', () => {
  it('remembers a bounded number of finished jobs; a forgotten id may run again', async () => {
    const queue = new MemoryJobQueue({ logger, keepFinished: 2 });
    const runs: string[] = [];
    queue.process('q', async (_data, context) => {
      runs.push(context.id);
    });
    for (const id of ['a', 'b', 'c']) await queue.add('q', {}, { jobId: id });
    await eventually(async () => expect((await queue.counts('q')).completed).toBe(2));
    expect(await queue.getJob('q', 'a')).toBeUndefined();
    expect((await queue.getJob('q', 'c'))?.status).toBe('completed');
    await queue.add('q', {}, { jobId: 'a' });
    await eventually(() => expect(runs).toEqual(['a', 'b', 'c', 'a']));
    await queue.close();
  });

  it('close() cancels pending retries instead of waiting for them', async () => {
    const queue = new MemoryJobQueue({ logger });
    let tries = 0;
    queue.process('q', async () => {
      tries += 1;
      throw new Error('fails');
    });
    await queue.add('q', {}, { jobId: 'retry', backoffMs: 60_000 });
    await eventually(async () => expect((await queue.getJob('q', 'retry'))?.status).toBe('delayed'));
    await queue.close();
    expect(tries).toBe(1);
  });
});

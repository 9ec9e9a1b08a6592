import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { BullmqJobQueue, decodeJobId, encodeJobId } from '../../src/queue/bullmq-queue.js';
import { hasRedisServer, LogLines, RedisServer } from '../faults/services.js';
import { eventually, gate, jobQueueContract, sleep } from './job-queue.contract.js';

const url = process.env.REDIS_URL;
const logger = createLogger('silent');

describe('job id encoding', () => {
  it('turns ids BullMQ refuses into ones it takes, and back', () => {
    for (const id of ['plain', 'a:b:c', ':', '%', '%3A', '%N7', '12', '0', '-5', '007', '1e3']) {
      const stored = encodeJobId(id);
      expect(stored).not.toContain(':');
      expect(`${Number.parseInt(stored, 10)}`).not.toBe(stored);
      expect(decodeJobId(stored)).toBe(id);
    }
    expect(encodeJobId('plain')).toBe('plain');
  });
});

/** Runs with REDIS_URL set (CI does); without Redis the in-process queue is what the bot uses. */
describe.runIf(url)('BullMQ on Redis', () => {
  const prefixes: string[] = [];
  const newPrefix = () => {
    const prefix = `dreamchat-test-${randomBytes(4).toString('hex')}`;
    prefixes.push(prefix);
    return prefix;
  };
  afterAll(async () => {
    const redis = new Redis(url!);
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    await redis.quit();
  });

  jobQueueContract('BullMQ', () => new BullmqJobQueue({ url: url!, logger, prefix: newPrefix() }));

  it('keeps jobs in Redis: a job added before a restart runs in the next process', async () => {
    const prefix = newPrefix();
    const before = new BullmqJobQueue({ url: url!, logger, prefix });
    await before.add('q', { n: 1 }, { jobId: 'kept' });
    await before.close();

    const after = new BullmqJobQueue({ url: url!, logger, prefix });
    const seen: unknown[] = [];
    after.process('q', async (data) => {
      seen.push(data);
    });
    await eventually(async () => expect((await after.getJob('q', 'kept'))?.status).toBe('completed'));
    expect(seen).toEqual([{ n: 1 }]);
    await after.close();
  });

  describe.runIf(hasRedisServer)('with a Redis server that restarts', () => {
    let redis: RedisServer;
    let logs: LogLines;
    let queue: BullmqJobQueue | undefined;
    /** A queue on this test's Redis whose job locks last `lockDurationMs` without renewal. */
    const openQueue = (lockDurationMs: number) => {
      queue = new BullmqJobQueue({
        url: redis.url,
        logger: createLogger('info', logs),
        prefix: 'restart',
        lockDurationMs,
        stalledIntervalMs: 500,
      });
      return queue;
    };
    beforeEach(async () => {
      queue = undefined;
      logs = new LogLines();
      redis = await RedisServer.start();
    });
    afterEach(async () => {
      await queue?.close();
      await redis?.stop();
    });

    it('finishes a running job once when Redis is back before the lock expires', async () => {
      // A lock that outlasts the outage even when restarting redis-server takes seconds on a loaded machine.
      const queue = openQueue(20_000);
      const hold = gate();
      let runs = 0;
      queue.process('q', async () => {
        runs += 1;
        await hold.wait;
        return 'done';
      });
      await queue.add('q', {}, { jobId: 'blip' });
      await eventually(() => expect(runs).toBe(1));
      await redis.crash();
      await sleep(200);
      await redis.restart();
      hold.open();
      await eventually(async () => expect((await queue.getJob('q', 'blip'))?.status).toBe('completed'));
      await sleep(1_200); // a stalled check or two
      expect(runs).toBe(1);
    });

    it('runs a job again whose lock expired while Redis was down, and logs instead of crashing', async () => {
      const queue = openQueue(1000);
      const runs: unknown[] = [];
      let firstRunAborted = false;
      queue.process('q', async (data, context) => {
        runs.push(data);
        if (runs.length > 1) return 'done';
        // The first run outlives its lock; it is told to stop, and the job runs again.
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
        firstRunAborted = true;
        throw new Error('stopped: the job will run again');
      });
      await queue.add('q', { n: 1 }, { jobId: 'survivor' });
      await eventually(() => expect(runs).toHaveLength(1));

      await redis.crash();
      // Adding fails fast while Redis is down instead of hanging the caller.
      const adding = queue.add('q', { n: 2 }, { jobId: 'while-down' }).then(
        () => 'added',
        () => 'refused',
      );
      expect(await Promise.race([adding, sleep(5_000).then(() => 'hung')])).toBe('refused');
      await sleep(1_500); // longer than the job's lock
      await redis.restart();

      await eventually(async () => expect((await queue.getJob('q', 'survivor'))?.status).toBe('completed'), 20_000);
      expect(firstRunAborted).toBe(true);
      expect(runs).toEqual([{ n: 1 }, { n: 1 }]);
      expect(await queue.getJob('q', 'survivor')).toMatchObject({ returnValue: 'done' });
      await eventually(() => queue.add('q', { n: 3 }, { jobId: 'after' }));
      await eventually(async () => expect((await queue.getJob('q', 'after'))?.status).toBe('completed'));
      expect(logs.messages()).toContain('Redis connection lost; reconnecting');
      expect(logs.messages()).toContain('Redis connection back');
    });
  });
});

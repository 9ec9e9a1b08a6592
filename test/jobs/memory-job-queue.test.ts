import { MemoryJobQueue } from '../../src/jobs/memory-job-queue.js';
import { createLogger } from '../../src/logger.js';
import { jobQueueContract } from './job-queue.contract.js';

jobQueueContract('in-process', () => new MemoryJobQueue({ logger: createLogger('silent') }));

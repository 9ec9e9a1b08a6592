import { INGEST_QUEUE } from '../knowledge/knowledge.js';
import { MEMORIZE_QUEUE } from '../memory/memorize.js';
import { NOTES_QUEUE } from '../memory/notes-job.js';
import { SUMMARIZE_QUEUE } from '../memory/summary.js';
import { waitForQueues } from '../queue/drain.js';
import type { JobQueue } from '../queue/job-queue.js';

/** The queues of the memory work a conversation starts: exchanges, the summary, notes about the person, knowledge. */
export const MEMORY_QUEUES = [MEMORIZE_QUEUE, SUMMARIZE_QUEUE, NOTES_QUEUE, INGEST_QUEUE] as const;

/**
 * Resolves once the memory work queued so far is done (or has failed for good), a note-taking job still waiting
 * out its delay (NOTES_DELAY_MS after a reply) included: the terminal's in-process queue forgets what it has not
 * run when it closes, and `--wait-memory` promises the next line is answered with the last exchange noted.
 */
export function waitForMemoryWork(queue: JobQueue): Promise<void> {
  return waitForQueues(queue, MEMORY_QUEUES);
}

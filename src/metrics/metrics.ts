import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReplyEvent } from '../chat/responder.js';
import type { JobQueue, JobStatus } from '../queue/job-queue.js';

/** Why a reply failed that is not the provider's doing (see Responder's failure kinds). */
const NOT_PROVIDER_FAILURES = new Set(['user', 'internal']);
/** Model names come from users' character settings: keep label values short. */
const MAX_LABEL = 100;
const QUEUE_STATES: JobStatus[] = ['waiting', 'delayed', 'active', 'completed', 'failed'];

/**
 * The process's Prometheus metrics, in a registry of its own (never the global
 * one), built once by createDeps and passed to whatever reports into it.
 * GET /metrics serves `registry`.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly messagesReceived = new Counter({
    name: 'dreamchat_messages_received_total',
    help: 'Messages people wrote where a character listens, stored for the conversation, by kind of conversation.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly replies = new Counter({
    name: 'dreamchat_replies_total',
    help: 'Reply attempts by outcome: ok, or the failure kind (a provider error kind, user or internal).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly replyDuration = new Histogram({
    name: 'dreamchat_reply_duration_seconds',
    help: 'From the start of recall to the end of the streamed reply, by result (ok or failed).',
    labelNames: ['result'] as const,
    buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120],
    registers: [this.registry],
  });

  readonly providerErrors = new Counter({
    name: 'dreamchat_provider_errors_total',
    help: 'Replies that failed because of the AI provider, by error kind (auth, rate_limit, timeout, server...).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'dreamchat_tokens_total',
    help: 'Tokens used by replies as the provider reported them, by model and direction (input or output).',
    labelNames: ['model', 'direction'] as const,
    registers: [this.registry],
  });

  readonly jobs = new Counter({
    name: 'dreamchat_jobs_total',
    help: 'Job runs finished in this process, by queue and outcome (completed or failed; a failed run may be retried).',
    labelNames: ['queue', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'dreamchat_job_duration_seconds',
    help: 'How long one job run took, by queue.',
    labelNames: ['queue'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly ingestItems = new Counter({
    name: 'dreamchat_ingest_items_total',
    help: 'Knowledge items (files, pages, lore entries) by outcome: completed, refused (a bad file), failed (for good), retried, skipped.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly ingestChunks = new Counter({
    name: 'dreamchat_ingest_chunks_embedded_total',
    help: 'Knowledge passages embedded by ingest jobs.',
    registers: [this.registry],
  });

  readonly ingestBytes = new Counter({
    name: 'dreamchat_ingest_bytes_embedded_total',
    help: 'UTF-8 bytes of knowledge passages embedded by ingest jobs.',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Process CPU, memory, event loop lag, GC, handles: the usual process_* and nodejs_* names.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** ResponderDeps.observe: one reply attempt. Never throws. */
  observeReply(event: ReplyEvent): void {
    const outcome = event.ok ? 'ok' : (event.failure ?? 'internal');
    this.replies.inc({ outcome });
    this.replyDuration.observe({ result: event.ok ? 'ok' : 'failed' }, event.ms / 1000);
    if (!event.ok && event.failure && !NOT_PROVIDER_FAILURES.has(event.failure)) this.providerErrors.inc({ kind: event.failure });
    const model = (event.model ?? 'unknown').slice(0, MAX_LABEL);
    if (event.inputTokens) this.tokens.inc({ model, direction: 'input' }, event.inputTokens);
    if (event.outputTokens) this.tokens.inc({ model, direction: 'output' }, event.outputTokens);
  }

  /**
   * Queue depth, read from the queue backend at every scrape:
   * dreamchat_queue_jobs{queue,state}, and dreamchat_queue_up 0 when the
   * backend did not answer (Redis away), the depth then left out.
   */
  watchQueues(queue: JobQueue, names: readonly string[]): void {
    // Both gauges are collected at once on a scrape: they share one read of the backend.
    let reading: Promise<Record<JobStatus, number>[] | undefined> | undefined;
    const read = () =>
      (reading ??= Promise.all(names.map((name) => withTimeout(queue.counts(name), 2000)))
        .catch(() => undefined)
        .finally(() => setImmediate(() => (reading = undefined))));
    new Gauge({
      name: 'dreamchat_queue_up',
      help: '1 when the queue backend answered the last scrape, 0 when not.',
      registers: [this.registry],
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'dreamchat_queue_jobs',
      help: 'Jobs per queue and state (waiting, delayed, active, completed and failed still remembered), read at scrape time.',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await read();
        this.reset();
        names.forEach((name, i) => {
          for (const state of QUEUE_STATES) if (counts) this.set({ queue: name, state }, counts[i]![state]);
        });
      },
    });
  }

  /** The text exposition format, and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

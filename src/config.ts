import { z } from 'zod';
import { SecretBox } from './llm/secrets.js';

/** Thrown when the environment cannot be turned into a valid configuration. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A URL whose scheme is one of `schemes`; `example` shows the expected shape. */
const urlWithScheme = (schemes: string[], example: string) =>
  z.string().superRefine((value, ctx) => {
    let protocol: string;
    try {
      protocol = new URL(value).protocol.replace(/:$/, '');
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a URL such as ${example}` });
      return;
    }
    if (!schemes.includes(protocol)) {
      ctx.addIssue({ code: 'custom', message: `must start with ${schemes.map((s) => `${s}://`).join(' or ')}` });
    }
  });

const postgresUrl = urlWithScheme(['postgres', 'postgresql'], 'postgres://user:password@host:5432/dreamchat');
const redisUrl = urlWithScheme(['redis', 'rediss'], 'redis://localhost:6379');

const optional = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

const schema = z.object({
  DISCORD_TOKEN: optional(z.string().min(10, 'looks too short to be a bot token')),
  DISCORD_CLIENT_ID: optional(z.string().regex(/^\d{17,20}$/, 'must be the numeric application id')),
  DISCORD_DEV_GUILD_ID: optional(z.string().regex(/^\d{17,20}$/, 'must be a numeric server id')),
  DISCORD_API_URL: optional(z.string().url()),
  DISCORD_WEB_URL: z.string().url().default('https://discord.com'),
  DATABASE_URL: optional(postgresUrl),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATA_DIR: z.string().default('./data'),
  PUBLIC_URL: optional(
    z
      .string()
      .url()
      .refine((url) => /^https?:\/\//.test(url), 'must start with http:// or https://'),
  ),
  REDIS_URL: optional(redisUrl),
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, _ . - only')
    .default('dreamchat'),
  EMBEDDING_DIMENSION: z.coerce.number().int().min(2).max(16000).default(384),
  EMBEDDER: z.enum(['transformers', 'use', 'hashing', 'openai', 'ollama']).default('transformers'),
  EMBEDDING_MODEL: optional(z.string()),
  TRANSFORMERS_CACHE_DIR: z.string().default('./models'),
  EMBEDDING_THREADS: z.coerce.number().int().min(0).max(64).default(1),
  TRANSFORMERS_ALLOW_REMOTE: z
    .enum(['true', 'false', ''])
    .default('true')
    .transform((value) => value !== 'false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  REPLIES_IN_QUEUE: optional(z.enum(['true', 'false'])),
  REPLY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  SHARD_COUNT: optional(z.coerce.number().int().min(1).max(10_000)),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(25_000),
  JOB_LOCK_MS: z.coerce.number().int().min(5_000).max(600_000).default(30_000),
  SCENE_DEBOUNCE_MS: z.coerce.number().int().min(0).max(60_000).default(1500),
  NOTES_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  USAGE_USER_MESSAGES_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  USAGE_USER_TOKENS_PER_DAY: z.coerce.number().int().min(0).default(500_000),
  USAGE_SERVER_MESSAGES_PER_MINUTE: z.coerce.number().int().min(0).default(0),
  USAGE_SERVER_TOKENS_PER_DAY: z.coerce.number().int().min(0).default(5_000_000),
  REPLY_FOOTER: z
    .enum(['true', 'false', ''])
    .default('false')
    .transform((value) => value === 'true'),
  SECRET_KEYS: optional(
    z
      .string()
      .min(8)
      .superRefine((value, context) => {
        try {
          SecretBox.fromConfig(value);
        } catch (error) {
          context.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }),
  ),
  ALLOW_PRIVATE_ENDPOINTS: z
    .enum(['true', 'false', ''])
    .default('false')
    .transform((value) => value === 'true'),
  ALLOW_DMS: z
    .enum(['true', 'false', ''])
    .default('true')
    .transform((value) => value !== 'false'),
  ALLOW_NSFW_DMS: z
    .enum(['true', 'false', ''])
    .default('false')
    .transform((value) => value === 'true'),
  CONTEXT_WINDOW: optional(z.coerce.number().int().min(512, 'must be at least 512 tokens').max(10_000_000)),
  OPENAI_API_KEY: optional(z.string()),
  OPENAI_BASE_URL: optional(z.string().url()),
  OPENAI_MODEL: optional(z.string()),
  ANTHROPIC_API_KEY: optional(z.string()),
  ANTHROPIC_MODEL: optional(z.string()),
  OLLAMA_HOST: optional(z.string().url()),
  OLLAMA_MODEL: optional(z.string()),
  CAPTION_PROVIDER: optional(z.enum(['openai', 'anthropic', 'ollama'])),
  CAPTION_MODEL: optional(z.string().min(1).max(200)),
});

export interface Config {
  readonly discord: {
    readonly token?: string;
    readonly clientId?: string;
    readonly devGuildId?: string;
    readonly apiUrl?: string;
    /** Where links to messages point (Sources): Discord's web app, or a compatible server's. */
    readonly webUrl: string;
  };
  readonly database: { readonly url?: string; readonly dataDir: string; readonly poolSize: number };
  /**
   * `prefix`: the start of every key, so that several bots (or test runs) can share one Redis. `lockMs`: how long a
   * queue job and a conversation's reply stay locked to a worker that stopped renewing them (it died or lost Redis);
   * another worker takes their work over after about twice this.
   */
  readonly redis: { readonly url?: string; readonly prefix: string; readonly lockMs: number };
  readonly embedding: {
    readonly dimension: number;
    readonly embedder: 'transformers' | 'use' | 'hashing' | 'openai' | 'ollama';
    /** Model name for the chosen embedder (defaults: all-MiniLM-L6-v2, text-embedding-3-small, nomic-embed-text). */
    readonly model?: string;
    readonly cacheDir: string;
    readonly allowRemote: boolean;
    /** ONNX Runtime threads for the local model (0: one per core). */
    readonly threads: number;
  };
  readonly logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  readonly workerConcurrency: number;
  /** Replies are written by reply-queue consumers (any process) rather than inline in the gateway. */
  readonly repliesInQueue: boolean;
  /** Replies one process writes at once. */
  readonly replyConcurrency: number;
  /** Gateway shards for npm run start:shards; undefined asks Discord for its recommendation. */
  readonly shardCount?: number;
  /**
   * PUBLIC_URL: where the internet reaches this bot's HTTP endpoint (the health port, behind a reverse proxy). When
   * set, stored character pictures are served there under /avatars/ and webhook posts link to them.
   */
  readonly publicUrl?: string;
  /** 0 turns the health endpoint off. */
  readonly healthPort: number;
  /** The address the health endpoint listens on: loopback unless told otherwise (containers set 0.0.0.0). */
  readonly healthHost: string;
  /** On SIGTERM, how long running replies and jobs may take to finish before the process exits anyway. */
  readonly shutdownGraceMs: number;
  readonly sceneDebounceMs: number;
  /** How long after a reply the character takes notes about the person (one model call reads the burst of exchanges). */
  readonly notesDelayMs: number;
  /** Reply limits (0 = unlimited) and the model/tokens footer under replies. */
  readonly usage: {
    readonly limits: {
      readonly userMessagesPerMinute: number;
      readonly userTokensPerDay: number;
      readonly serverMessagesPerMinute: number;
      readonly serverTokensPerDay: number;
    };
    readonly replyFooter: boolean;
  };
  readonly secrets: {
    /** SECRET_KEYS: `id:base64key[,id:key…]`; the first encrypts API keys, the rest still decrypt. */
    readonly keys?: string;
    /** Lets guild and user endpoints reach private addresses (off: only the operator's may). */
    readonly allowPrivateEndpoints: boolean;
  };
  /** Direct messages: whether the bot talks in them at all, and whether NSFW characters may. */
  readonly dms: { readonly allow: boolean; readonly allowNsfw: boolean };
  /** CONTEXT_WINDOW: the context size every model gets unless its provider or character sets one. */
  readonly contextWindow?: number;
  /** The operator's providers, from the environment; they become system-scope instances. */
  readonly systemProviders: {
    readonly openai?: { apiKey: string; baseUrl?: string; model?: string };
    readonly anthropic?: { apiKey: string; model?: string };
    readonly ollama?: { host: string; model?: string };
  };
  /**
   * The operator's captioner for images (CAPTION_PROVIDER: which of the
   * providers above, CAPTION_MODEL: a vision model of it). A server's own
   * captioner (/provider captioner) comes first.
   */
  readonly images: { readonly captionProvider?: 'openai' | 'anthropic' | 'ollama'; readonly captionModel?: string };
}

const DISCORD_TOKEN_HELP =
  'DISCORD_TOKEN is not set. Create an application at https://discord.com/developers/applications, ' +
  'open "Bot", press "Reset Token", and put the token in .env as DISCORD_TOKEN=... (see .env.example).';

/** Parses the environment once. Throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return deepFreeze({
    discord: {
      token: e.DISCORD_TOKEN,
      clientId: e.DISCORD_CLIENT_ID,
      devGuildId: e.DISCORD_DEV_GUILD_ID,
      apiUrl: e.DISCORD_API_URL,
      webUrl: e.DISCORD_WEB_URL,
    },
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR, poolSize: e.DATABASE_POOL_SIZE },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, lockMs: e.JOB_LOCK_MS },
    embedding: {
      dimension: e.EMBEDDING_DIMENSION,
      embedder: e.EMBEDDER,
      model: e.EMBEDDING_MODEL,
      cacheDir: e.TRANSFORMERS_CACHE_DIR,
      allowRemote: e.TRANSFORMERS_ALLOW_REMOTE,
      threads: e.EMBEDDING_THREADS,
    },
    logLevel: e.LOG_LEVEL,
    workerConcurrency: e.WORKER_CONCURRENCY,
    // With Redis, by default: then `npm run worker` processes share the replying.
    repliesInQueue: e.REPLIES_IN_QUEUE ? e.REPLIES_IN_QUEUE === 'true' : Boolean(e.REDIS_URL),
    replyConcurrency: e.REPLY_CONCURRENCY,
    shardCount: e.SHARD_COUNT,
    healthPort: e.HEALTH_PORT,
    healthHost: e.HEALTH_HOST,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    sceneDebounceMs: e.SCENE_DEBOUNCE_MS,
    notesDelayMs: e.NOTES_DELAY_MS,
    usage: {
      limits: {
        userMessagesPerMinute: e.USAGE_USER_MESSAGES_PER_MINUTE,
        userTokensPerDay: e.USAGE_USER_TOKENS_PER_DAY,
        serverMessagesPerMinute: e.USAGE_SERVER_MESSAGES_PER_MINUTE,
        serverTokensPerDay: e.USAGE_SERVER_TOKENS_PER_DAY,
      },
      replyFooter: e.REPLY_FOOTER,
    },
    secrets: { keys: e.SECRET_KEYS, allowPrivateEndpoints: e.ALLOW_PRIVATE_ENDPOINTS },
    dms: { allow: e.ALLOW_DMS, allowNsfw: e.ALLOW_NSFW_DMS },
    contextWindow: e.CONTEXT_WINDOW,
    systemProviders: {
      openai: e.OPENAI_API_KEY ? { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL, model: e.OPENAI_MODEL } : undefined,
      anthropic: e.ANTHROPIC_API_KEY ? { apiKey: e.ANTHROPIC_API_KEY, model: e.ANTHROPIC_MODEL } : undefined,
      ollama: e.OLLAMA_HOST ? { host: e.OLLAMA_HOST, model: e.OLLAMA_MODEL } : undefined,
    },
    images: { captionProvider: e.CAPTION_PROVIDER, captionModel: e.CAPTION_MODEL },
  });
}

/** The bot cannot log in without a token: say how to get one. */
export function requireDiscordToken(config: Config): string {
  if (!config.discord.token) throw new ConfigError(DISCORD_TOKEN_HELP);
  return config.discord.token;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireDiscordToken } from '../src/config.js';

describe('config', () => {
  it('fills defaults and freezes the result', () => {
    const config = loadConfig({});
    expect(config.embedding.dimension).toBe(384);
    expect(config.database).toEqual({ url: undefined, dataDir: './data', poolSize: 10 });
    expect(config.redis).toEqual({ url: undefined, prefix: 'dreamchat', lockMs: 30_000 });
    expect(() => loadConfig({ REDIS_PREFIX: 'a b' })).toThrow(/REDIS_PREFIX/);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
  });

  it('runs the local embedding model on one thread unless EMBEDDING_THREADS says otherwise', () => {
    expect(loadConfig({}).embedding.threads).toBe(1);
    expect(loadConfig({ EMBEDDING_THREADS: '0' }).embedding.threads).toBe(0);
    expect(() => loadConfig({ EMBEDDING_THREADS: '-1' })).toThrow(/EMBEDDING_THREADS/);
    expect(() => loadConfig({ EMBEDDING_THREADS: 'two' })).toThrow(/EMBEDDING_THREADS/);
  });

  it('locks jobs for JOB_LOCK_MS, at least 5 s', () => {
    expect(loadConfig({ JOB_LOCK_MS: '5000' }).redis.lockMs).toBe(5000);
    expect(() => loadConfig({ JOB_LOCK_MS: '1000' })).toThrow(/JOB_LOCK_MS/);
  });

  it('routes replies through the queue by default only with Redis, unless told', () => {
    expect(loadConfig({}).repliesInQueue).toBe(false);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).repliesInQueue).toBe(true);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REPLIES_IN_QUEUE: 'false' }).repliesInQueue).toBe(false);
    expect(() => loadConfig({ REPLIES_IN_QUEUE: 'yes' })).toThrow(/REPLIES_IN_QUEUE/);
  });

  it('says how to get a token when DISCORD_TOKEN is missing', () => {
    const config = loadConfig({ DISCORD_TOKEN: '' });
    expect(() => requireDiscordToken(config)).toThrow(ConfigError);
    expect(() => requireDiscordToken(config)).toThrow(/DISCORD_TOKEN is not set.*discord\.com\/developers\/applications/s);
  });

  it('names DATABASE_URL when it is malformed', () => {
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL: must be a URL/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://localhost/db' })).toThrow(/DATABASE_URL: must start with postgres:\/\//);
  });

  it('takes PUBLIC_URL without its trailing slash, and refuses one that is no web address', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://bot.example.org/dreamchat/' }).publicUrl).toBe('https://bot.example.org/dreamchat');
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(() => loadConfig({ PUBLIC_URL: 'bot.example.org' })).toThrow(/PUBLIC_URL/);
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({ REDIS_URL: 'http://x', EMBEDDING_DIMENSION: 'abc', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(/REDIS_URL/);
      expect(message).toMatch(/EMBEDDING_DIMENSION/);
      expect(message).toMatch(/LOG_LEVEL/);
    }
  });

  it('accepts a full configuration', () => {
    const config = loadConfig({
      DISCORD_TOKEN: 'x'.repeat(60),
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      REDIS_URL: 'redis://127.0.0.1:6379',
      EMBEDDING_DIMENSION: '768',
    });
    expect(requireDiscordToken(config)).toHaveLength(60);
    expect(config.embedding.dimension).toBe(768);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
  });
});

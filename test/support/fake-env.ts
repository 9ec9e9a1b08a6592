/**
 * The environment of a bot wired to the fakes on loopback: the fake Discord,
 * the fake OpenAI-compatible provider, and the hashing embedder (no model
 * download). Tests add their database, Redis and whatever they vary.
 */
export function fakeServicesEnv(discord: { token: string; restUrl: string }, llm: { url: string }): Record<string, string> {
  return {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.restUrl,
    EMBEDDER: 'hashing',
    EMBEDDING_DIMENSION: '64',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: llm.url,
    OPENAI_MODEL: 'fake-model',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    HEALTH_PORT: '0',
  };
}

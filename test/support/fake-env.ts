/**
 * The environment of a bot process that talks to the fake OpenAI-compatible
 * provider on loopback and embeds with the hashing embedder (no model download),
 * its health port picked by the system. Tests add their database, Redis and
 * whatever they vary.
 */
export function fakeProviderEnv(llm: { url: string }): Record<string, string> {
  return {
    EMBEDDER: 'hashing',
    EMBEDDING_DIMENSION: '64',
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: llm.url,
    OPENAI_MODEL: 'fake-model',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    HEALTH_PORT: '0',
  };
}

/** The same, wired to the fake Discord too. */
export function fakeServicesEnv(discord: { token: string; restUrl: string }, llm: { url: string }): Record<string, string> {
  return { DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.restUrl, ...fakeProviderEnv(llm) };
}

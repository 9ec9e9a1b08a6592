import type { FakeServer, RecordedRequest } from '../../test/fakes-llm/fake-server.js';
import { startFakeOpenAI } from '../../test/fakes-llm/openai.js';
import type { LoadParams } from './params.js';

/** Words of the characters' lines: no character names, so only people's messages steer who speaks. */
const WORDS = (
  'the road was long and the rain kept falling on the old stones while we waited by the fire for news ' +
  'of the harbour a ship had come in with silver and spice and a letter nobody could read yet'
).split(' ');

/** A provider request as the load run sees it. */
export interface ProviderCall {
  request: RecordedRequest;
  /** The reply's own tag (`r17`), the first word of its text, so a stored reply leads back to its request. */
  tag: string;
  /** When its stream should end (arrival + chunks × delay), Date.now() clock. */
  endsAt: number;
  /** Tags of people's messages (`m123`) anywhere in the prompt. */
  messageTags: Set<string>;
  /** The speaking character (`You are Name.` opens its system prompt), when it is a reply. */
  speaker?: string;
}

/** A fake OpenAI streaming at a realistic pace: `replyTokens` words, a few at a time, `tokensPerSecond`. */
export async function startPacedProvider(params: LoadParams, random: () => number): Promise<{ server: FakeServer; calls: ProviderCall[] }> {
  const server = await startFakeOpenAI();
  const calls: ProviderCall[] = [];
  const chunkTokens = 3;
  const chunkDelayMs = Math.round((1000 * chunkTokens) / params.tokensPerSecond);
  server.replyWith((request) => {
    if (request.path !== '/v1/chat/completions') return undefined;
    const [min, max] = params.replyTokens;
    const count = min + Math.floor(random() * (max - min + 1));
    const tag = `r${calls.length + 1}`;
    const words = [tag, ...Array.from({ length: count - 1 }, () => WORDS[Math.floor(random() * WORDS.length)]!)];
    const chunks: string[] = [];
    for (let i = 0; i < words.length; i += chunkTokens)
      chunks.push(`${words.slice(i, i + chunkTokens).join(' ')}${i + chunkTokens < words.length ? ' ' : '.'}`);
    const prompt = (request.body?.messages ?? []).map((m: { content: unknown }) => String(m.content)).join('\n');
    calls.push({
      request,
      tag,
      endsAt: request.at + chunks.length * chunkDelayMs,
      messageTags: new Set(prompt.match(/\bm\d+\b/g) ?? []),
      speaker: speakerOf(String(request.body?.messages?.[0]?.content ?? '')),
    });
    return { chunks, chunkDelayMs };
  });
  return { server, calls };
}

/**
 * Whom a prompt was written for, from its first message: SillyTavern's default main prompt ("Write Aria's next reply
 * in a fictional chat …", src/chat/prompt-sections.ts) or a card's own "You are Aria." system prompt.
 */
function speakerOf(first: string): string | undefined {
  const match = /^Write (.+?)'s next reply\b/.exec(first) ?? /^You are ([^.\n]+)\./.exec(first);
  return match?.[1];
}

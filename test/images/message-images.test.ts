import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCharacter } from '../../src/characters/characters.js';
import { bindCharacter } from '../../src/chat/conversations.js';
import { recentHistory } from '../../src/chat/history.js';
import { loadConfig } from '../../src/config.js';
import { resolveActor, type Actor } from '../../src/core/identity.js';
import { Message, type ICharacter, type IMessage } from '../../src/db/entities/index.js';
import { UserError } from '../../src/errors.js';
import { MessageImages } from '../../src/images/message-images.js';
import { prepareImage, sniffImage } from '../../src/images/prepare.js';
import { acceptsImages, imageTokens } from '../../src/images/vision.js';
import type { ChatProvider } from '../../src/llm/types.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let actor: Actor;
let aria: ICharacter;
const em = () => db.orm.em.fork();

beforeAll(async () => {
  db = await createTestDatabase({ embeddingDimension: 16 });
  actor = await resolveActor(em(), {
    user: { id: '127000000000000001', username: 'alice' },
    guild: { id: '937000000000000001', name: 'Tavern' },
  });
  aria = await createCharacter(em(), actor, { name: 'Aria', personalityPrompt: 'A bard.', visibility: 'guild' });
});
afterAll(() => db?.close());

describe('pictures without any captioner', () => {
  it('are never silent: a model without vision reads “[Alice shared an image]”', async () => {
    const work = em();
    const conversation = await bindCharacter(work, actor, { id: '927000000000000001', kind: 'channel' }, aria);
    const said = work.create(Message, {
      conversation,
      role: 'user',
      content: '',
      author: actor.user,
      authorName: 'Alice',
      discordMessageId: '947000000000000001',
    }) as IMessage;
    await work.flush();
    const images = new MessageImages({
      fetch,
      config: loadConfig({}),
      providers: {
        providerFor: () => {
          throw new Error('no captioner is set up');
        },
      },
      logger: createLogger('silent'),
    });
    const picture = await prepareImage(
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
        .png()
        .toBuffer(),
      'a.png',
    );
    await images.save(em(), said.id, [picture]);
    const answering = { provider: { type: 'openai' } as ChatProvider, model: 'fake-text-model' };
    expect(images.seesImages(aria, answering)).toBe(false);
    const history = await recentHistory(em(), conversation.id, 10);
    const shown = await images.forPrompt(em(), history, { actor, character: aria, answering, pixels: false });
    expect(shown.history.at(-1)!.content).toBe('[Alice shared an image]');
    expect(shown.history.at(-1)!.images).toBeUndefined();
    expect(shown.imageIds).toHaveLength(1);
    // A vision model gets the pixels, with the note but no caption.
    const vision = { provider: { type: 'anthropic' } as ChatProvider, model: 'claude-sonnet-4-5' };
    const seen = await images.forPrompt(em(), history, {
      actor,
      character: aria,
      answering: vision,
      pixels: images.seesImages(aria, vision),
    });
    expect(seen.pixels).toBe(1);
    expect(seen.history.at(-1)!.images![0]).toMatchObject({ mimeType: 'image/jpeg', tokens: Math.ceil((64 * 64) / 750) });
  });
});

describe('image preparation', () => {
  it('tells the type by content, takes a GIF’s first frame and refuses what is no picture', async () => {
    const gif = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ff0000' } })
      .gif()
      .toBuffer();
    expect(sniffImage(gif)).toBe('gif');
    expect(sniffImage(Buffer.from('%PDF-1.7'))).toBeUndefined();
    const prepared = await prepareImage(gif, 'red.gif');
    expect(prepared).toMatchObject({ mimeType: 'image/jpeg', width: 40, height: 20 });
    await expect(prepareImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'x.svg')).rejects.toThrow(UserError);
  });
});

describe('vision models and image tokens', () => {
  it('know vision models by name, unless a setting says otherwise', () => {
    expect(acceptsImages('gpt-4o-mini')).toBe(true);
    expect(acceptsImages('openai/gpt-4.1')).toBe(true);
    expect(acceptsImages('claude-3-5-haiku-latest')).toBe(true);
    expect(acceptsImages('llava:13b')).toBe(true);
    expect(acceptsImages('qwen2.5vl:7b')).toBe(true);
    expect(acceptsImages('gpt-3.5-turbo')).toBe(false);
    expect(acceptsImages('o3-mini')).toBe(false);
    expect(acceptsImages('llama3.2')).toBe(false);
    expect(acceptsImages('llama3.2', { provider: true })).toBe(true);
    expect(acceptsImages('gpt-4o', { character: false, provider: true })).toBe(false);
  });

  it('count tokens by each vendor’s rule', () => {
    // OpenAI's worked examples (platform.openai.com/docs/guides/images-vision, "Calculating costs"):
    // 1024 × 1024 high detail → 768 × 768 → 4 tiles → 765 tokens; 2048 × 4096 → 768 × 1536 → 6 tiles → 1105 tokens.
    expect(imageTokens('openai', 1024, 1024)).toBe(765);
    expect(imageTokens('openai', 2048, 4096)).toBe(1105);
    // Anthropic: width × height / 750 (1092 × 1092 ≈ 1590 tokens in its docs' table).
    expect(imageTokens('anthropic', 1092, 1092)).toBe(1590);
    expect(imageTokens('ollama', 1000, 1000)).toBe(768);
  });
});

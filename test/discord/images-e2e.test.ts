import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Message, MessageImage, VectorMemory } from '../../src/db/entities/index.js';
import { startWorkers } from '../../src/workers.js';
import type { FakeDiscord, StoredChannel, StoredMessage } from '../discord-fake/index.js';
import { startFakeAnthropic } from '../fakes-llm/anthropic.js';
import type { FakeServer, RecordedRequest } from '../fakes-llm/fake-server.js';
import { startFakeOllama } from '../fakes-llm/ollama.js';
import { startBotHarness, type BotHarness } from '../support/bot-harness.js';

/**
 * Pictures in the conversation, end to end: the real discord.js client on the
 * fake Discord, the real OpenAI, Anthropic and Ollama SDKs against loopback
 * fakes of each vendor's protocol, real PostgreSQL and the in-process queues.
 * The operator's captioner is the OpenAI-compatible fake's "gpt-4o".
 */
let harness: BotHarness;
let discord: FakeDiscord;
let openai: FakeServer;
let anthropic: FakeServer;
let ollama: FakeServer;
let channel: StoredChannel;
let alice: string;
let bob: string;
let caption = 'a tabby cat asleep on a keyboard';

const em = () => harness.deps.database.orm.em.fork();
const CAPTION_SYSTEM = /You describe pictures/;

const isCaptionRequest = (request: RecordedRequest) => CAPTION_SYSTEM.test(JSON.stringify(request.body?.messages?.[0] ?? ''));
/** The OpenAI-shaped image parts of a request. */
const openAIImages = (request: RecordedRequest): { url: string }[] =>
  (request.body.messages as { content: unknown }[]).flatMap((message) =>
    Array.isArray(message.content)
      ? message.content
          .filter((part: { type: string }) => part.type === 'image_url')
          .map((part: { image_url: { url: string } }) => part.image_url)
      : [],
  );
const replyRequests = (server: FakeServer) => server.requests.filter((request) => request.method === 'POST' && !isCaptionRequest(request));

async function picture(width: number, height: number, format: 'png' | 'gif' | 'webp' = 'png'): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } });
  return image.toFormat(format).toBuffer();
}

/** Alice posts; resolves with the character's finished reply (its buttons are on it). */
async function postAndWaitForReply(
  content: string,
  files: { name: string; data: Buffer; contentType?: string }[],
  author = alice,
): Promise<{ said: StoredMessage; reply: StoredMessage }> {
  const before = new Set(discord.webhookMessages(channel.id).map((m) => m.id));
  const said = discord.userSays(channel.id, author, content, { attachments: files });
  const reply = await discord.waitForMessage(
    channel.id,
    (m) => Boolean(m.webhook_id) && !before.has(m.id) && JSON.stringify(m.components).includes('chat:regenerate'),
    20_000,
  );
  return { said, reply };
}

async function storedUserMessage(discordMessageId: string) {
  await expect.poll(() => em().count(Message, { discordMessageId }), { timeout: 15_000 }).toBe(1);
  return em().findOneOrFail(Message, { discordMessageId });
}

async function editAria(options: Record<string, string | boolean>) {
  const edit = discord.slashCommand({
    name: 'character',
    subcommand: 'edit',
    options: { character: 'Aria', ...options },
    userId: alice,
    channelId: channel.id,
  });
  await edit.waitForReply();
}

beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  ollama = await startFakeOllama();
  harness = await startBotHarness({ OPENAI_MODEL: 'gpt-4o', CAPTION_PROVIDER: 'openai', CAPTION_MODEL: 'gpt-4o' });
  ({ discord, channel, alice, bob } = harness);
  openai = harness.llm;
  const describe = (request: RecordedRequest) => (isCaptionRequest(request) ? { text: caption } : undefined);
  openai.replyWith((request) => {
    if (isCaptionRequest(request)) return { text: caption };
    // A vendor that refuses image parts for this model, in OpenAI's words.
    if (request.body.model === 'gpt-4o-refuser' && openAIImages(request).length) {
      return { status: 400, message: 'Invalid content type. image_url is only supported by certain models.' };
    }
    return { text: 'What a picture!' };
  });
  anthropic.replyWith(describe);
  ollama.replyWith(describe);
  await startWorkers(harness.deps);
  const create = discord.slashCommand({
    name: 'character',
    subcommand: 'create',
    options: { visibility: 'guild' },
    userId: alice,
    channelId: channel.id,
  });
  await create.waitForModal();
  await discord
    .submitModal({ from: create, values: { name: 'Aria', personality: 'A bard.', greeting: '', examples: '', avatar: '' } })
    .waitForReply();
  await discord
    .slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', answers: 'all' },
      userId: alice,
      channelId: channel.id,
    })
    .waitForResponse();
}, 120_000);

afterAll(async () => {
  await harness?.close();
  await anthropic?.close();
  await ollama?.close();
});

describe('pictures in the conversation', () => {
  it('answers an image-only message, sending a vision model the picture as an image_url part (resized), then captions it for memory and Sources', async () => {
    caption = 'a tabby cat asleep on a keyboard';
    const { said, reply } = await postAndWaitForReply('', [{ name: 'cat.png', data: await picture(3000, 1500), contentType: 'image/png' }]);
    expect(reply.content).toBe('What a picture!');
    const request = replyRequests(openai).at(-1)!;
    expect(request.body.model).toBe('gpt-4o');
    const [part] = openAIImages(request);
    expect(part?.url).toMatch(/^data:image\/jpeg;base64,/);
    // Within Anthropic's limits for every vendor: long side ≤ 1568 px and ≤ 1.15 megapixels.
    const sent = await sharp(Buffer.from(part!.url.split(',')[1]!, 'base64')).metadata();
    expect(sent.format).toBe('jpeg');
    expect(Math.max(sent.width!, sent.height!)).toBeLessThanOrEqual(1568);
    expect(sent.width! * sent.height!).toBeLessThanOrEqual(1_150_000);
    expect(sent.width! / sent.height!).toBeCloseTo(2, 1);
    const text = JSON.stringify(request.body.messages.at(-1));
    expect(text).toContain('[Alice shared an image]');

    // Captioned once, after the reply, by the operator's captioner; stored with the message.
    const stored = await storedUserMessage(said.id);
    await expect.poll(async () => (await em().findOne(MessageImage, { message: stored.id }))?.caption, { timeout: 15_000 }).toBe(caption);
    const captionRequests = openai.requests.filter(isCaptionRequest);
    expect(openAIImages(captionRequests.at(-1)!)).toHaveLength(1);
    expect(captionRequests.at(-1)!.body.model).toBe('gpt-4o');

    // Memorized like text.
    const replyRow = await em().findOneOrFail(Message, { discordMessageId: reply.id });
    await expect
      .poll(async () => (await em().findOne(VectorMemory, { message: replyRow.id }))?.content, { timeout: 15_000 })
      .toContain(`[Alice shared an image: ${caption}]`);

    // Shown in Sources.
    const button = JSON.stringify(reply.components).match(/"custom_id":"(memory:sources:[^"]+)"/)?.[1];
    expect(button).toBeDefined();
    const shown = await discord.pressButton(reply.id, button!, alice).waitForReply();
    expect(String(shown.embeds[0]!.description)).toContain(`> ${caption}`);
  });

  it('gives a model without vision the caption instead of the picture, made before the reply', async () => {
    await editAria({ model: 'fake-text-model' });
    caption = 'a golden retriever catching a frisbee on a beach';
    const { reply } = await postAndWaitForReply('What do you think of my dog?', [
      { name: 'dog.gif', data: await picture(400, 300, 'gif'), contentType: 'image/gif' },
    ]);
    expect(reply.content).toBe('What a picture!');
    const request = replyRequests(openai).at(-1)!;
    expect(request.body.model).toBe('fake-text-model');
    expect(openAIImages(request)).toEqual([]);
    const last = String(request.body.messages.at(-1).content);
    expect(last).toContain('What do you think of my dog?');
    expect(last).toContain(`[Alice shared an image: ${caption}]`);
    // The older picture (the cat) is in the history by its caption too.
    expect(JSON.stringify(request.body.messages)).toContain('[Alice shared an image: a tabby cat asleep on a keyboard]');
  });

  it('falls back to the caption when the vendor refuses the image part', async () => {
    await editAria({ model: 'gpt-4o-refuser' });
    caption = 'a hand-drawn map of an island';
    const failedBefore = openai.requests.length;
    const { reply } = await postAndWaitForReply('Here is my map.', [
      { name: 'map.webp', data: await picture(800, 600, 'webp'), contentType: 'image/webp' },
    ]);
    expect(reply.content).toBe('What a picture!');
    const tries = replyRequests(openai).filter(
      (request) => openai.requests.indexOf(request) >= failedBefore && request.body.model === 'gpt-4o-refuser',
    );
    expect(tries).toHaveLength(2);
    expect(openAIImages(tries[0]!).length).toBeGreaterThan(0);
    expect(openAIImages(tries[1]!)).toEqual([]);
    expect(String(tries[1]!.body.messages.at(-1).content)).toContain(`[Alice shared an image: ${caption}]`);
  });

  it('refuses, in plain words, a file that is too large or is no picture, and answers nothing for it', async () => {
    const huge = discord.userSays(channel.id, alice, '', {
      attachments: [{ name: 'huge.png', data: Buffer.alloc(30 * 1024 * 1024, 1), contentType: 'image/png' }],
    });
    const tooLarge = await discord.waitForMessage(
      channel.id,
      (m) => m.author.id === discord.botUser.id && m.message_reference?.message_id === huge.id,
      15_000,
    );
    expect(tooLarge.content).toBe('“huge.png” is larger than the 20 MB limit for pictures.');
    const pdf = discord.userSays(channel.id, alice, '', {
      attachments: [{ name: 'notes.png', data: Buffer.from('%PDF-1.4 not a picture'), contentType: 'image/png' }],
    });
    const notPicture = await discord.waitForMessage(
      channel.id,
      (m) => m.author.id === discord.botUser.id && m.message_reference?.message_id === pdf.id,
      15_000,
    );
    expect(notPicture.content).toBe('“notes.png” is not a picture I can look at (PNG, JPEG, WebP or GIF).');
    expect(await em().count(Message, { discordMessageId: { $in: [huge.id, pdf.id] } })).toBe(0);
  });

  it('sends Anthropic image blocks (base64) and counts the image tokens in the prompt', async () => {
    await editAria({ model: '' });
    const add = discord.slashCommand({
      name: 'provider',
      subcommand: 'add',
      options: { type: 'anthropic', scope: 'user' },
      userId: alice,
      channelId: channel.id,
    });
    await add.waitForModal();
    await discord
      .submitModal({
        from: add,
        values: { name: 'My Claude', endpoint: anthropic.url, key: 'sk-ant-test-key-123456', model: 'claude-sonnet-4-5' },
      })
      .waitForReply();
    caption = 'a lighthouse at dusk';
    const { reply } = await postAndWaitForReply('Look!', [
      { name: 'lighthouse.png', data: await picture(2000, 2000), contentType: 'image/png' },
    ]);
    expect(reply.content).toBe('Hello there!');
    const request = replyRequests(anthropic).at(-1)!;
    const last = request.body.messages.at(-1);
    expect(last.role).toBe('user');
    const image = last.content.find((block: { type: string }) => block.type === 'image');
    expect(image.source.type).toBe('base64');
    expect(image.source.media_type).toBe('image/jpeg');
    const size = await sharp(Buffer.from(image.source.data, 'base64')).metadata();
    expect(size.width! * size.height!).toBeLessThanOrEqual(1_150_000);
    expect(last.content.at(-1)).toMatchObject({ type: 'text' });
    // Anthropic's rule: width × height / 750 tokens for the newest picture alone.
    // The reply's Discord id is stored once the post is done, which the fake Discord may show first: wait for it.
    await expect.poll(() => em().findOne(Message, { discordMessageId: reply.id }), { timeout: 30_000 }).toBeTruthy();
    const stored = await em().findOneOrFail(Message, { discordMessageId: reply.id });
    expect((stored.metadata as { promptTokens: number }).promptTokens).toBeGreaterThan((size.width! * size.height!) / 750);
  });

  it('sends Ollama the pictures as `images` on the message', async () => {
    const add = discord.slashCommand({
      name: 'provider',
      subcommand: 'add',
      options: { type: 'ollama', scope: 'user' },
      userId: alice,
      channelId: channel.id,
    });
    await add.waitForModal();
    await discord
      .submitModal({ from: add, values: { name: 'My Ollama', endpoint: ollama.url, key: '', model: 'llava:7b' } })
      .waitForReply();
    const mine = await harness.deps.database.orm.em
      .fork()
      .execute<{ id: string }[]>(`select id from llm_provider_instances where display_name = 'My Ollama'`);
    await discord
      .slashCommand({ name: 'provider', subcommand: 'default', options: { provider: mine[0]!.id }, userId: alice, channelId: channel.id })
      .waitForReply();
    const { reply } = await postAndWaitForReply('And this one?', [
      {
        name: 'boat.jpg',
        data: await sharp(await picture(640, 480))
          .jpeg()
          .toBuffer(),
        contentType: 'image/jpeg',
      },
    ]);
    expect(reply.content).toBe('Hello there!');
    const request = replyRequests(ollama).at(-1)!;
    const last = request.body.messages.at(-1);
    expect(last.images).toHaveLength(1);
    expect((await sharp(Buffer.from(last.images[0], 'base64')).metadata()).format).toBe('jpeg');
    // Only the newest few pictures go as pixels: the older ones are in words.
    const withPixels = request.body.messages.filter((message: { images?: unknown[] }) => message.images?.length);
    expect(withPixels.length).toBeLessThanOrEqual(3);
    expect(JSON.stringify(request.body.messages)).toContain('[Alice shared an image: a tabby cat asleep on a keyboard]');
  });

  it('removes a picture and its caption with /memory forget, and everything of a person with delete-my-data', async () => {
    const cat = await em().findOneOrFail(MessageImage, { caption: 'a tabby cat asleep on a keyboard' }, { populate: ['message'] });
    const forgotten = discord.slashCommand({
      name: 'memory',
      group: 'forget',
      subcommand: 'message',
      options: { message: cat.message.discordMessageId! },
      userId: alice,
      channelId: channel.id,
    });
    await forgotten.waitForReply();
    expect(await em().count(MessageImage, { id: cat.id })).toBe(0);

    caption = 'a selfie of Bob';
    const { said } = await postAndWaitForReply('Me!', [{ name: 'bob.png', data: await picture(300, 300), contentType: 'image/png' }], bob);
    const bobs = await storedUserMessage(said.id);
    expect(await em().count(MessageImage, { message: bobs.id })).toBe(1);
    const ask = discord.slashCommand({ name: 'memory', subcommand: 'delete-my-data', userId: bob, channelId: channel.id });
    const prompt = await ask.waitForReply();
    const confirm = JSON.stringify(prompt.components).match(/"custom_id":"(memory:delete-me[^"]*)"/)?.[1];
    await discord.pressButton(prompt.id, confirm!, bob).waitForResponse();
    await expect.poll(() => em().count(MessageImage, { message: bobs.id }), { timeout: 10_000 }).toBe(0);
  });
});

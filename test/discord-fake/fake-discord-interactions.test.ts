import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  MessageFlags,
  ModalBuilder,
  PermissionFlagsBits,
  SlashCommandBuilder,
  TextInputBuilder,
  TextInputStyle,
  type Client,
  type Interaction,
} from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, type FakeDiscord, type StoredChannel, type StoredGuild } from './index.js';
import { startTestWorld, type TestWorld } from './test-world.js';

let world: TestWorld;
let discord: FakeDiscord;
let client: Client;
let guild: StoredGuild;
let channel: StoredChannel;
let aliceId: string;
const textChannel = () => world.textChannel();
const nextInteraction = <T>(handler: (interaction: Interaction) => Promise<T>) => world.nextInteraction(handler);

beforeAll(async () => {
  world = await startTestWorld();
  ({ discord, client, guild, channel, aliceId } = world);
});

afterAll(async () => {
  await world?.close();
});

describe('interactions', () => {
  beforeAll(async () => {
    const chat = new SlashCommandBuilder()
      .setName('chat')
      .setDescription('Chat with a character')
      .addSubcommand((sub) =>
        sub
          .setName('start')
          .setDescription('Bind a character here')
          .addStringOption((option) => option.setName('character').setDescription('Who').setRequired(true).setAutocomplete(true))
          .addIntegerOption((option) => option.setName('temperature').setDescription('How wild')),
      );
    await client.application!.commands.set([chat.toJSON()]);
    expect(discord.commands().map((command) => command.name)).toEqual(['chat']);
  });

  it('delivers a slash command with subcommand and options; reply() lands as callback type 4', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
      const seen = {
        sub: interaction.options.getSubcommand(),
        character: interaction.options.getString('character'),
        temperature: interaction.options.getInteger('temperature'),
        admin: interaction.memberPermissions?.has(PermissionFlagsBits.Administrator),
      };
      await interaction.reply({ content: 'Aria is here.', flags: MessageFlags.Ephemeral });
      return seen;
    });
    const interaction = discord.slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria', temperature: 1 },
      userId: aliceId,
      channelId: channel.id,
      guildId: guild.id,
    });
    expect(await handled).toEqual({ sub: 'start', character: 'Aria', temperature: 1, admin: false });
    const reply = await interaction.waitForReply();
    expect(reply.content).toBe('Aria is here.');
    expect(interaction.callback?.type).toBe(4);
    expect(interaction.ephemeral).toBe(true);
    expect(discord.messages(channel.id).some((message) => message.id === reply.id)).toBe(false);
  });

  it('records deferReply, editReply and followUp', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      await interaction.editReply('thought about it');
      await interaction.followUp('one more thing');
    });
    const interaction = discord.slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria' },
      userId: aliceId,
      channelId: channel.id,
    });
    await handled;
    expect(interaction.responses.map((response) => response.kind)).toEqual(['callback', 'edit-original', 'followup']);
    expect(interaction.callback?.type).toBe(5);
    expect(interaction.original?.content).toBe('thought about it');
    expect(interaction.followUps.map((message) => message.content)).toEqual(['one more thing']);
    expect(discord.messages(channel.id).at(-1)?.content).toBe('one more thing');
  });

  it('answers autocomplete with respond()', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isAutocomplete()) return;
      const typed = interaction.options.getFocused();
      await interaction.respond([{ name: `Aria (${typed})`, value: 'aria' }]);
    });
    const interaction = discord.autocomplete({
      name: 'chat',
      subcommand: 'start',
      focused: 'character',
      options: { character: 'Ar' },
      userId: aliceId,
      channelId: channel.id,
    });
    await handled;
    expect(await interaction.waitForChoices()).toEqual([{ name: 'Aria (Ar)', value: 'aria' }]);
  });

  it('shows a modal and delivers its submission', async () => {
    const shown = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const modal = new ModalBuilder()
        .setCustomId('character:create')
        .setTitle('New character')
        .addComponents(
          new ActionRowBuilder<TextInputBuilder>().addComponents(
            new TextInputBuilder().setCustomId('name').setLabel('Name').setStyle(TextInputStyle.Short),
          ),
        );
      await interaction.showModal(modal);
    });
    const command = discord.slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'x' },
      userId: aliceId,
      channelId: channel.id,
    });
    await shown;
    expect((await command.waitForModal()).custom_id).toBe('character:create');

    const submitted = nextInteraction(async (interaction) => {
      if (!interaction.isModalSubmit()) return undefined;
      const name = interaction.fields.getTextInputValue('name');
      await interaction.reply(`Created ${name}`);
      return name;
    });
    const submit = discord.submitModal({ from: command, values: { name: 'Aria' } });
    expect(await submitted).toBe('Aria');
    expect((await submit.waitForReply()).content).toBe('Created Aria');
  });

  it('resolves attachment options and answers with_response', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return undefined;
      const file = interaction.options.getAttachment('file', true);
      const text = await (await fetch(file.url)).text();
      const response = await interaction.reply({ content: `read ${file.name}`, withResponse: true });
      return { text, replyId: response.resource?.message?.id };
    });
    const interaction = discord.slashCommand({
      name: 'import',
      options: { file: { name: 'card.json', data: '{"spec":"chara_card_v2"}', contentType: 'application/json' } },
      userId: aliceId,
      channelId: channel.id,
    });
    const { text, replyId } = (await handled)!;
    expect(text).toBe('{"spec":"chara_card_v2"}');
    expect(replyId).toBe((await interaction.waitForReply()).id);
  });

  it('fills the deferred reply with the first follow-up, as Discord does', async () => {
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.followUp('done');
    });
    const interaction = discord.slashCommand({
      name: 'chat',
      subcommand: 'start',
      options: { character: 'Aria' },
      userId: aliceId,
      channelId: channel.id,
    });
    await handled;
    expect((await interaction.waitForReply()).content).toBe('done');
    expect(interaction.followUps).toEqual([]);
    expect(interaction.ephemeral).toBe(true);
  });

  it('forgets interactions that are not answered in time, and refuses a second callback', async () => {
    // Two fakes: one whose answer window no loaded machine misses, one whose window is over before anyone answers.
    const roomy = await startFakeDiscord({ interactionTimeoutMs: 60_000 });
    const short = await startFakeDiscord({ interactionTimeoutMs: 30 });
    try {
      const ping = (fake: FakeDiscord) => {
        const user = fake.addUser({ username: 'bob' });
        return fake.slashCommand({ name: 'ping', userId: user.id, channelId: fake.addTextChannel(fake.addGuild().id).id });
      };
      const callback = (fake: FakeDiscord, interaction: { id: string; token: string }) =>
        fetch(`${fake.restUrl}/v10/interactions/${interaction.id}/${interaction.token}/callback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 4, data: { content: 'hi' } }),
        });
      const answered = ping(roomy);
      expect((await callback(roomy, answered)).status).toBe(204);
      expect(await (await callback(roomy, answered)).json()).toMatchObject({ code: 40060 });
      const late = ping(short);
      await sleep(50); // past the 30 ms window (a slower machine only makes it later)
      expect(await (await callback(short, late)).json()).toMatchObject({ code: 10062, message: 'Unknown interaction' });
    } finally {
      await roomy.close();
      await short.close();
    }
  });

  it('delivers select menu choices', async () => {
    const sent = await textChannel().send({
      content: 'Pick one',
      components: [
        {
          type: 1,
          components: [
            {
              type: 3,
              custom_id: 'pick',
              options: [
                { label: 'Aria', value: 'aria' },
                { label: 'Bram', value: 'bram' },
              ],
            },
          ],
        },
      ],
    });
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isStringSelectMenu()) return undefined;
      await interaction.deferUpdate();
      return interaction.values;
    });
    const pick = discord.selectMenu(sent.id, 'pick', ['bram'], aliceId);
    expect(await handled).toEqual(['bram']);
    expect((await pick.waitForResponse()).type).toBe(6);
  });

  it('presses a button and records update()', async () => {
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('chat:regenerate').setLabel('Regenerate').setStyle(ButtonStyle.Secondary),
    );
    const sent = await textChannel().send({ content: 'A reply', components: [row] });
    const handled = nextInteraction(async (interaction) => {
      if (!interaction.isButton()) return undefined;
      await interaction.update({ content: 'Another reply' });
      return interaction.customId;
    });
    const press = discord.pressButton(sent.id, 'chat:regenerate', aliceId);
    expect(await handled).toBe('chat:regenerate');
    expect((await press.waitForReply()).content).toBe('Another reply');
    expect(discord.message(sent.id)?.content).toBe('Another reply');
    expect(() => discord.pressButton(sent.id, 'nope', aliceId)).toThrow(/has no component "nope"/);
  });
});

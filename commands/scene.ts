import {
  ChannelType,
  EmbedBuilder,
  InteractionContextType,
  MessageFlags,
  SlashCommandBuilder,
  ThreadAutoArchiveDuration,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type SlashCommandStringOption,
} from 'discord.js';
import { findUsableCharacter, searchCharacters } from '../src/characters/characters.js';
import { actorOf, channelRefOf, placeOf } from '../src/discord/actor.js';
import { nameWornIn } from '../src/discord/persona-options.js';
import type { Command, CommandContext } from '../src/discord/command.js';
import { replySinks } from '../src/discord/reply-sinks.js';
import { UserError } from '../src/errors.js';
import { assertCan } from '../src/permissions/access.js';
import { assertCharacterAllowed, sceneBlock } from '../src/permissions/content.js';
import { accessFor } from '../src/permissions/guild-settings.js';
import { assertMaySpeakHere } from '../src/permissions/place-check.js';
import {
  addToScene,
  createScene,
  findScene,
  removeFromScene,
  requireScene,
  setMuted,
  updateSceneSettings,
  type SceneCast,
  type SceneSettings,
} from '../src/scenes/scenes.js';
import { STRATEGIES, type Strategy } from '../src/scenes/turns.js';

const STRATEGY_NAMES: Record<Strategy, string> = {
  natural: 'natural: named characters first, then by talkativeness',
  list: 'list: every character, in order',
  pooled: 'pooled: one who has not spoken lately',
  manual: 'manual: only when called with /scene next',
};

const castCharacter =
  (description: string, required = true) =>
  (option: SlashCommandStringOption) =>
    option.setName('character').setDescription(description).setRequired(required).setAutocomplete(true);

export default {
  data: new SlashCommandBuilder()
    .setName('scene')
    .setDescription('Scenes: several characters and people together in a thread.')
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((sub) =>
      sub
        .setName('start')
        .setDescription('Open a thread here where several characters play together.')
        .addStringOption((option) =>
          option
            .setName('characters')
            .setDescription('Two or more characters, separated by commas')
            .setRequired(true)
            .setAutocomplete(true),
        )
        .addStringOption((option) => option.setName('title').setDescription('The thread’s name').setMaxLength(100))
        .addStringOption((option) => option.setName('scenario').setDescription('Where and when the scene happens').setMaxLength(2000))
        .addStringOption((option) =>
          option
            .setName('strategy')
            .setDescription('Who speaks after a message (default natural)')
            .addChoices(...STRATEGIES.map((value) => ({ name: STRATEGY_NAMES[value], value }))),
        )
        .addBooleanOption((option) => option.setName('private').setDescription('A private thread (only invited people see it)'))
        .addBooleanOption((option) =>
          option.setName('nsfw').setDescription('For age-restricted channels only (so is any scene with an NSFW character)'),
        ),
    )
    .addSubcommand((sub) =>
      sub.setName('add').setDescription('Bring another character into this scene.').addStringOption(castCharacter('Who joins')),
    )
    .addSubcommand((sub) =>
      sub.setName('remove').setDescription('A character leaves this scene.').addStringOption(castCharacter('Who leaves')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('mute')
        .setDescription('A character stops speaking on its own (it still can with /scene next).')
        .addStringOption(castCharacter('Who')),
    )
    .addSubcommand((sub) =>
      sub.setName('unmute').setDescription('A muted character speaks on its own again.').addStringOption(castCharacter('Who')),
    )
    .addSubcommand((sub) =>
      sub
        .setName('next')
        .setDescription('Have a character speak now.')
        .addStringOption(castCharacter('Who speaks (default: whoever fits best)', false)),
    )
    .addSubcommand((sub) =>
      sub
        .setName('settings')
        .setDescription('Show or change how this scene takes turns.')
        .addStringOption((option) =>
          option
            .setName('strategy')
            .setDescription('Who speaks after a message')
            .addChoices(...STRATEGIES.map((value) => ({ name: STRATEGY_NAMES[value], value }))),
        )
        .addBooleanOption((option) => option.setName('self_responses').setDescription('May a character answer its own message?'))
        .addIntegerOption((option) =>
          option
            .setName('auto_turns')
            .setDescription('Character-to-character turns before waiting for a person (0–10)')
            .setMinValue(0)
            .setMaxValue(10),
        )
        .addBooleanOption((option) =>
          option.setName('newcomers_heard').setDescription('Characters added later know what was said before they joined'),
        ),
    )
    .addSubcommand((sub) => sub.setName('end').setDescription('Summarise the scene and archive its thread.')),

  async execute(interaction, context) {
    const sub = interaction.options.getSubcommand();
    if (sub === 'start') return start(interaction, context);
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const threadId = interaction.channelId;
    const sinks = replySinks(context, channelRefOf(interaction.channel, threadId));
    if (sub === 'next') {
      const place = placeOf(interaction.channel, threadId, interaction.guildId);
      await assertMaySpeakHere(em, place, await accessFor(em, actor), { allowNsfwDms: context.config.dms.allowNsfw });
      const { character, done } = await context.scenes.next(
        threadId,
        actor,
        interaction.options.getString('character') ?? undefined,
        sinks,
      );
      await interaction.reply({ content: `**${character.name}** speaks next.`, flags: MessageFlags.Ephemeral });
      await done;
      return;
    }
    if (sub === 'end') {
      await interaction.deferReply();
      const { summary, error } = await context.scenes.end(threadId, actor);
      const text = summary ? `**The scene has ended.**\n\n${summary}` : `**The scene has ended.**${error ? ` (No summary: ${error})` : ''}`;
      await interaction.editReply(text.slice(0, 2000));
      if (interaction.channel?.isThread()) await interaction.channel.setArchived(true, 'The scene ended');
      return;
    }
    const scene = await requireScene(em, threadId);
    const name = interaction.options.getString('character') ?? '';
    if (sub === 'add') {
      const character = await findUsableCharacter(em, actor, name);
      const place = placeOf(interaction.channel, threadId, interaction.guildId);
      assertCharacterAllowed(character, place, await accessFor(em, actor), { allowNsfwDms: context.config.dms.allowNsfw });
      await addToScene(em, actor, scene, character);
      await interaction.reply(`**${character.name}** joins the scene.`);
      const user = await nameWornIn(context, interaction, channelRefOf(interaction.channel, threadId), place);
      await context.responder.greet(scene.conversation.id, user, sinks, character);
      return;
    }
    if (sub === 'remove') {
      const character = await removeFromScene(em, actor, scene, name);
      await interaction.reply(`**${character.name}** leaves the scene.`);
      return;
    }
    if (sub === 'mute' || sub === 'unmute') {
      const character = await setMuted(em, actor, scene, name, sub === 'mute');
      await interaction.reply(
        sub === 'mute'
          ? `**${character.name}** is muted: it speaks only when called with /scene next.`
          : `**${character.name}** speaks on its own again.`,
      );
      return;
    }
    const patch = settingsPatch(interaction);
    const settings = Object.keys(patch).length ? await updateSceneSettings(em, actor, scene, patch) : scene.settings;
    await interaction.reply({
      embeds: [settingsEmbed({ ...scene, settings })],
      flags: Object.keys(patch).length ? undefined : MessageFlags.Ephemeral,
    });
  },

  async autocomplete(interaction, context) {
    const focused = interaction.options.getFocused(true);
    if (focused.name === 'characters') return autocompleteCast(interaction, context, String(focused.value));
    const sub = interaction.options.getSubcommand();
    const em = context.database.orm.em.fork();
    const typed = String(focused.value).toLowerCase();
    if (sub === 'add') {
      const actor = await actorOf(em, interaction);
      const { items } = await searchCharacters(em, actor, typed, { limit: 25 });
      return interaction.respond(items.map((character) => ({ name: character.name.slice(0, 100), value: character.id })));
    }
    const scene = await findScene(em, interaction.channelId);
    const names = (scene?.participants ?? []).map((p) => p.character.name).filter((n) => n.toLowerCase().includes(typed));
    await interaction.respond(names.slice(0, 25).map((n) => ({ name: n, value: n })));
  },
} satisfies Command;

async function start(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  const channel = interaction.channel;
  if (!channel || channel.type !== ChannelType.GuildText) {
    throw new UserError('Start a scene in a server’s text channel: it opens a thread there.');
  }
  const em = context.database.orm.em.fork();
  const actor = await actorOf(em, interaction);
  const access = await accessFor(em, actor);
  assertCan(actor, 'startScenes', access);
  const names = interaction.options
    .getString('characters', true)
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const characters = [];
  for (const name of names) characters.push(await findUsableCharacter(em, actor, name));
  if (new Set(characters.map((c) => c.id)).size < 2) throw new UserError('A scene needs at least two different characters.');
  const nsfw = interaction.options.getBoolean('nsfw') ?? false;
  // The thread follows this channel's age restriction.
  const blocked = sceneBlock({ nsfw, characters }, placeOf(channel, channel.id, interaction.guildId), access, {
    allowNsfwDms: context.config.dms.allowNsfw,
  });
  if (blocked) throw new UserError(blocked);
  await interaction.deferReply();
  const title = interaction.options.getString('title')?.trim() || characters.map((c) => c.name).join(', ');
  const isPrivate = interaction.options.getBoolean('private') ?? false;
  const thread = await channel.threads.create({
    name: title.slice(0, 100),
    type: isPrivate ? ChannelType.PrivateThread : ChannelType.PublicThread,
    autoArchiveDuration: ThreadAutoArchiveDuration.OneDay,
    reason: `Scene started by ${interaction.user.username}`,
  });
  if (isPrivate) await thread.members.add(interaction.user.id).catch(() => undefined);
  const scenario = interaction.options.getString('scenario') ?? undefined;
  const strategy = (interaction.options.getString('strategy') ?? undefined) as Strategy | undefined;
  const scene = await createScene(em, actor, {
    threadId: thread.id,
    title,
    scenario,
    characters,
    settings: { parentChannelId: channel.id, nsfw, ...(strategy ? { strategy } : {}) },
  });
  const cast = characters.map((c) => `**${c.name}**`).join(', ');
  await thread.send({
    content: [`**${title}**`, scenario, `With ${cast}. Mention a character by name to have them answer first.`]
      .filter(Boolean)
      .join('\n\n')
      .slice(0, 2000),
    allowedMentions: { parse: [] },
  });
  await interaction.editReply(`The scene **${title}** has started in <#${thread.id}> with ${cast}.`);
  const sinks = replySinks(context, { id: thread.id, kind: 'thread', parentId: channel.id });
  const user = await nameWornIn(
    context,
    interaction,
    { id: thread.id, parentId: channel.id },
    placeOf(channel, channel.id, interaction.guildId),
  );
  await context.responder.greet(scene.conversation.id, user, sinks, characters[0]);
}

function settingsPatch(interaction: ChatInputCommandInteraction): Partial<SceneSettings> {
  const patch: Partial<SceneSettings> = {};
  const strategy = interaction.options.getString('strategy');
  if (strategy) patch.strategy = strategy as Strategy;
  const self = interaction.options.getBoolean('self_responses');
  if (self !== null) patch.allowSelfResponses = self;
  const turns = interaction.options.getInteger('auto_turns');
  if (turns !== null) patch.maxAutoTurns = turns;
  const heard = interaction.options.getBoolean('newcomers_heard');
  if (heard !== null) patch.newcomersHeardEarlier = heard;
  return patch;
}

function settingsEmbed(scene: SceneCast): EmbedBuilder {
  const { settings } = scene;
  return new EmbedBuilder().setTitle(scene.conversation.title ?? 'Scene').addFields(
    {
      name: 'Characters',
      value: scene.participants.map((p) => `${p.character.name}${p.autoRespond ? '' : ' (muted)'}`).join(', ') || 'none',
    },
    { name: 'Turns', value: STRATEGY_NAMES[settings.strategy], inline: false },
    { name: 'Self-responses', value: settings.allowSelfResponses ? 'allowed' : 'no', inline: true },
    { name: 'Automatic turns', value: String(settings.maxAutoTurns), inline: true },
    { name: 'Newcomers heard earlier lines', value: settings.newcomersHeardEarlier ? 'yes' : 'no', inline: true },
  );
}

/** Autocomplete for a comma-separated list: completes the last name, keeping the ones before it. */
async function autocompleteCast(interaction: AutocompleteInteraction, context: CommandContext, typed: string): Promise<void> {
  const em = context.database.orm.em.fork();
  const actor = await actorOf(em, interaction);
  const parts = typed.split(',');
  const last = parts.pop()!.trim();
  const before = parts.map((p) => p.trim()).filter(Boolean);
  const { items } = await searchCharacters(em, actor, last, { limit: 25 });
  const choices = items
    .filter((character) => !before.some((name) => name.toLowerCase() === character.name.toLowerCase()))
    .map((character) => [...before, character.name].join(', '))
    .filter((value) => value.length <= 100);
  await interaction.respond([...new Set(choices)].slice(0, 25).map((value) => ({ name: value, value })));
}

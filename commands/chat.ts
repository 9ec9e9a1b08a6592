import { EmbedBuilder, InteractionContextType, MessageFlags, SlashCommandBuilder } from 'discord.js';
import { findUsableCharacter } from '../src/characters/characters.js';
import { bindCharacter, findBinding, replyModeOf, unbindCharacter, type ReplyMode } from '../src/chat/conversations.js';
import { replyPressedIn } from '../src/chat/pressed-reply.js';
import { chatStatus } from '../src/chat/status.js';
import { actorOf, channelRefOf, placeOf } from '../src/discord/actor.js';
import { nameWornIn } from '../src/discord/persona-options.js';
import { autocompleteCharacters } from '../src/discord/character-options.js';
import { parseCustomId, type Command } from '../src/discord/command.js';
import { replySinks } from '../src/discord/reply-sinks.js';
import { UserError } from '../src/errors.js';
import { assertCharacterAllowed } from '../src/permissions/content.js';
import { accessFor } from '../src/permissions/guild-settings.js';
import { assertMaySpeakHere } from '../src/permissions/place-check.js';

export default {
  data: new SlashCommandBuilder()
    .setName('chat')
    .setDescription('Talk with a character in this channel.')
    .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
    .addSubcommand((sub) =>
      sub
        .setName('start')
        .setDescription('Bring a character into this channel; it greets and starts listening.')
        .addStringOption((option) => option.setName('character').setDescription('Who to talk with').setRequired(true).setAutocomplete(true))
        .addStringOption((option) =>
          option
            .setName('answers')
            .setDescription('When the character answers (default: when mentioned here, always in threads and DMs)')
            .addChoices({ name: 'every message', value: 'all' }, { name: 'only when mentioned or replied to', value: 'mentions' }),
        ),
    )
    .addSubcommand((sub) => sub.setName('end').setDescription('The character leaves this channel (the history is kept).'))
    .addSubcommand((sub) => sub.setName('status').setDescription('Who is here, which model answers, and what it remembers.')),

  async execute(interaction, context) {
    const em = context.database.orm.em.fork();
    const sub = interaction.options.getSubcommand();
    if (sub === 'start') {
      const actor = await actorOf(em, interaction);
      const character = await findUsableCharacter(em, actor, interaction.options.getString('character', true));
      const place = placeOf(interaction.channel, interaction.channelId, interaction.guildId);
      assertCharacterAllowed(character, place, await accessFor(em, actor), { allowNsfwDms: context.config.dms.allowNsfw });
      const channel = channelRefOf(interaction.channel, interaction.channelId);
      const answers = interaction.options.getString('answers') as ReplyMode | null;
      const conversation = await bindCharacter(em, actor, channel, character, answers ? { replyMode: answers } : {});
      const mode = replyModeOf(conversation);
      await interaction.reply({
        content: `**${character.name}** is here. ${mode === 'all' ? 'They answer every message.' : `Mention **${character.name}** or reply to them to talk.`}`,
      });
      const user = await nameWornIn(context, interaction, channel, place);
      await context.responder.greet(conversation.id, user, replySinks(context, channel));
      return;
    }
    if (sub === 'end') {
      const character = await unbindCharacter(em, interaction.channelId);
      await interaction.reply({ content: `**${character.name}** has left. Start again any time with /chat start.` });
      return;
    }
    const binding = await findBinding(em, interaction.channelId);
    if (!binding?.character) throw new UserError('No character is bound here. Start with /chat start.');
    const actor = await actorOf(em, interaction);
    const status = await chatStatus(em, { actor, conversation: binding, resolveModel: context.resolveModel });
    const embed = new EmbedBuilder()
      .setTitle(`${binding.character.name} in this channel`)
      .setThumbnail((await context.attachmentUrls.forCharacter(binding.character.id, binding.character.avatarUrl)) ?? null)
      .addFields(
        { name: 'Answers', value: replyModeOf(binding) === 'all' ? 'every message' : 'when mentioned or replied to', inline: true },
        { name: 'Model', value: status.model, inline: true },
        { name: 'Memory', value: status.memory, inline: false },
      );
    await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
  },

  /** The buttons under a reply: ◀ ▶ swipe, 🔄 regenerate, ⏩ continue. */
  async interact(interaction, context) {
    if (!interaction.isButton()) return;
    const { action, args } = parseCustomId(interaction.customId);
    const [messageId = '', step] = args;
    await interaction.deferUpdate();
    const em = context.database.orm.em.fork();
    const actor = await actorOf(em, interaction);
    const place = placeOf(interaction.channel, interaction.channelId, interaction.guildId);
    // The id comes from the button, which a modified client can forge: only a reply of this channel's conversation,
    // and only if its own character may speak here (age restriction, bans), whoever is bound here now.
    const { character } = await replyPressedIn(em, messageId, interaction.channelId);
    const access = await accessFor(em, actor);
    const policy = { allowNsfwDms: context.config.dms.allowNsfw };
    assertCharacterAllowed(character, place, access, policy);
    await assertMaySpeakHere(em, place, access, policy);
    const sinks = replySinks(context, channelRefOf(interaction.channel, interaction.channelId));
    if (action === 'swipe') await context.responder.swipe(messageId, step === '-1' ? -1 : 1, sinks);
    else if (action === 'regenerate') await context.responder.regenerate(messageId, actor, sinks);
    else if (action === 'continue') await context.responder.continueReply(messageId, actor, sinks);
  },

  autocomplete: autocompleteCharacters,
} satisfies Command;

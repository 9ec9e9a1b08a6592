import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, ModalBuilder, TextInputBuilder, TextInputStyle } from 'discord.js';
import type { LoreRow } from '../../knowledge/lore.js';
import { customId } from '../command.js';

const LORE_PAGE_SIZE = 10;
/** Discord's limit for one text field of a form; the content gets two of them. */
const FIELD_MAX = 4000;
const STATUS_ICON: Record<string, string> = { pending: '⏳', processing: '⚙️', completed: '✅', failed: '❌' };

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function keyList(keys: string[] | undefined, max: number): string {
  return clip((keys ?? []).map((key) => `\`${key.replace(/`/g, 'ˋ')}\``).join(', '), max) || '—';
}

function flagsOf(row: LoreRow): string {
  const entry = row.entry;
  return [
    entry.enabled === false && '⏸ off',
    entry.constant && '📌 always',
    entry.useRegex && 'regex',
    entry.caseSensitive && 'case-sensitive',
    entry.priority && `priority ${entry.priority}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** One page of /lore list, with ◀ ▶ buttons when there is more than a page. */
export function loreListPage(
  characterId: string,
  characterName: string,
  rows: LoreRow[],
  page: number,
): { embeds: EmbedBuilder[]; components: ActionRowBuilder<ButtonBuilder>[] } {
  const pages = Math.max(1, Math.ceil(rows.length / LORE_PAGE_SIZE));
  const current = Math.min(Math.max(0, page), pages - 1);
  const start = current * LORE_PAGE_SIZE;
  const lines = rows.slice(start, start + LORE_PAGE_SIZE).map((row, i) => {
    const flags = flagsOf(row);
    const secondary =
      row.entry.selective && row.entry.secondaryKeys?.length ? `\nalso needs: ${keyList(row.entry.secondaryKeys, 100)}` : '';
    const failed = row.status === 'failed' && row.error ? `\n❌ ${clip(row.error, 120)}` : '';
    return `${STATUS_ICON[row.status] ?? ''} **${start + i + 1}. ${clip(row.name, 80)}**${flags ? ` · ${flags}` : ''}\nkeys: ${keyList(row.entry.keys, 160)}${secondary}${failed}`;
  });
  const embed = new EmbedBuilder()
    .setTitle(clip(`Lorebook of ${characterName}`, 256))
    .setDescription((lines.join('\n\n') || 'No lore entries yet. Add one with /lore add.').slice(0, 4096))
    .setFooter({
      text: `Page ${current + 1} of ${pages} · ${rows.length} entries · ⏳ being embedded, ✅ ready for recall (keywords work either way)`,
    });
  const button = (target: number, label: string, disabled: boolean) =>
    new ButtonBuilder()
      .setCustomId(customId('lore', 'page', characterId, String(target)))
      .setLabel(label)
      .setStyle(ButtonStyle.Secondary)
      .setDisabled(disabled);
  const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
    button(current - 1, '◀', current === 0),
    button(current + 1, '▶', current >= pages - 1),
  );
  return { embeds: [embed], components: pages > 1 ? [row] : [] };
}

/**
 * What the /lore edit form cannot show of an entry: a value longer than its field(s) (an imported entry's content over
 * 8,000 characters, hundreds of keywords) is never cut; its field stays empty, says so, and is kept unless typed over.
 * Empty content is kept too (an imported entry SillyTavern kept empty).
 */
export function loreFormLeavesOut(row: LoreRow): { keys: boolean; secondaryKeys: boolean; content: boolean } {
  const [first, rest] = splitContent(row.entry.content);
  return {
    keys: row.entry.keys.join('\n').length > FIELD_MAX,
    secondaryKeys: (row.entry.secondaryKeys ?? []).join('\n').length > FIELD_MAX,
    content: first.length > FIELD_MAX || rest.length > FIELD_MAX,
  };
}

/** The form of /lore edit, filled with the entry. Keywords are one per line so any key survives the round trip. */
export function loreModal(characterId: string, row: LoreRow): ModalBuilder {
  const out = loreFormLeavesOut(row);
  const keys = row.entry.keys.join('\n');
  const secondary = (row.entry.secondaryKeys ?? []).join('\n');
  const [first, rest] = out.content ? ['', ''] : splitContent(row.entry.content);
  const kept = (length: number) => `${length} characters, too long for this form: kept as it is unless you type here.`.slice(0, 100);
  const field = (id: string, label: string, max: number, value: string, options: { required?: boolean; tooLong?: number } = {}) => {
    const input = new TextInputBuilder()
      .setCustomId(id)
      .setLabel(label)
      .setStyle(id === 'name' ? TextInputStyle.Short : TextInputStyle.Paragraph)
      .setMaxLength(max)
      .setRequired(Boolean(options.required) && options.tooLong === undefined);
    if (options.tooLong !== undefined) input.setPlaceholder(kept(options.tooLong));
    else if (value) input.setValue(value);
    return new ActionRowBuilder<TextInputBuilder>().addComponents(input);
  };
  const tooLong = (leftOut: boolean, length: number) => (leftOut ? length : undefined);
  return new ModalBuilder()
    .setCustomId(customId('lore', 'save', characterId, row.id))
    .setTitle(clip(`Edit lore: ${row.name}`, 45))
    .addComponents(
      field('name', 'Name', 200, row.name.slice(0, 200)),
      field('keys', 'Keywords, one per line', FIELD_MAX, keys, { tooLong: tooLong(out.keys, keys.length) }),
      field('secondary', 'Also needs one of (one per line, optional)', FIELD_MAX, secondary, {
        tooLong: tooLong(out.secondaryKeys, secondary.length),
      }),
      field('content', 'Content', FIELD_MAX, first, {
        required: row.entry.content.trim() !== '',
        tooLong: tooLong(out.content, row.entry.content.length),
      }),
      field('content2', 'Content, continued (optional)', FIELD_MAX, rest),
    );
}

/** Content longer than one field is cut at a line (or word) break; the parts are joined with a new line. */
export function splitContent(content: string): [string, string] {
  if (content.length <= FIELD_MAX) return [content, ''];
  const head = content.slice(0, FIELD_MAX + 1);
  // The break must leave a second part that fits too.
  const breaks = [head.lastIndexOf('\n'), head.lastIndexOf(' ')].filter((at) => at > 0 && at >= content.length - FIELD_MAX);
  const cut = breaks[0] ?? FIELD_MAX;
  return [content.slice(0, cut).trimEnd(), content.slice(cut).trimStart()];
}

/** Keywords typed one per line in the form. */
export function linesOf(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

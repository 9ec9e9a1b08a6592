import { describe, expect, it } from 'vitest';
import { linesOf, loreListPage, loreModal, splitContent } from '../../src/discord/render/lore.js';
import type { LoreRow } from '../../src/knowledge/lore.js';

const row = (i: number, entry: Partial<LoreRow['entry']> = {}): LoreRow => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  name: `Entry ${i} ${'long name '.repeat(30)}`,
  status: 'completed',
  entry: { keys: Array.from({ length: 50 }, (_, k) => `keyword-${k}`), content: 'x', ...entry },
});

describe('lore rendering within Discord’s limits', () => {
  it('cuts long content for the form at a line break, in two parts that fit and join back', () => {
    const paragraphs = Array.from({ length: 70 }, (_, i) => `Paragraph ${i}: ${'the tide comes in '.repeat(5)}`.trim());
    const content = paragraphs.join('\n');
    expect(content.length).toBeGreaterThan(4000);
    const [first, rest] = splitContent(content);
    expect(first.length).toBeLessThanOrEqual(4000);
    expect(rest.length).toBeLessThanOrEqual(4000);
    expect(`${first}\n${rest}`).toBe(content);
    expect(splitContent('short')).toEqual(['short', '']);
    const unbroken = 'y'.repeat(7000);
    expect(splitContent(unbroken).map((part) => part.length)).toEqual([4000, 3000]);
  });

  it('fills the form, and leaves a too-long value out of it, saying so', () => {
    const json = loreModal('c', row(1, { content: 'Hello', secondaryKeys: ['a', 'b'] })).toJSON();
    expect(json.title.length).toBeLessThanOrEqual(45);
    const values = json.components.map((r) => (r as { components: { custom_id: string; value?: string }[] }).components[0]!);
    expect(values.map((v) => [v.custom_id, v.value])).toEqual([
      ['name', row(1).name.slice(0, 200)],
      ['keys', row(1).entry.keys.join('\n')],
      ['secondary', 'a\nb'],
      ['content', 'Hello'],
      ['content2', undefined],
    ]);
    // Too long for the form: shown as such, never cut (the save keeps what the form left out).
    const long = loreModal('c', row(2, { content: 'z'.repeat(9000) })).toJSON();
    const fields = long.components.map(
      (r) => (r as { components: { custom_id: string; value?: string; placeholder?: string; required?: boolean }[] }).components[0]!,
    );
    const content = fields.find((f) => f.custom_id === 'content')!;
    expect(content).toMatchObject({
      required: false,
      placeholder: '9000 characters, too long for this form: kept as it is unless you type here.',
    });
    expect(content.value).toBeUndefined();
    expect(fields.find((f) => f.custom_id === 'content2')!.value).toBeUndefined();
    expect(fields.find((f) => f.custom_id === 'keys')!.value).toBe(row(2).entry.keys.join('\n'));
  });

  it('keeps a page of long entries under the embed limits, with buttons only when there is more than a page', () => {
    const rows = Array.from({ length: 23 }, (_, i) =>
      row(i, { secondaryKeys: ['s'.repeat(300)], selective: true, priority: 3, constant: true }),
    );
    const first = loreListPage('c', 'Mira', rows, 0);
    const description = first.embeds[0]!.toJSON().description!;
    expect(description.length).toBeLessThanOrEqual(4096);
    expect(description).toContain('**10. Entry 9');
    expect(first.components).toHaveLength(1);
    const last = loreListPage('c', 'Mira', rows, 99).embeds[0]!.toJSON();
    expect(last.footer?.text).toContain('Page 3 of 3 · 23 entries');
    expect(loreListPage('c', 'Mira', rows.slice(0, 3), 0).components).toEqual([]);
    expect(loreListPage('c', 'Mira', [], 0).embeds[0]!.toJSON().description).toContain('No lore entries yet');
  });

  it('reads keywords one per line', () => {
    expect(linesOf(' a \n\nSmith, John\n /x,y/ ')).toEqual(['a', 'Smith, John', '/x,y/']);
  });
});

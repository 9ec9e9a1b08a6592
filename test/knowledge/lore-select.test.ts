import { describe, expect, it } from 'vitest';
import { countTokens } from '../../src/chat/tokens.js';
import { selectLore, splitKeys, type LoreItem } from '../../src/knowledge/lore.js';
import type { LoreEntry } from '../../src/knowledge/types.js';

let next = 0;
function lore(name: string, entry: Partial<LoreEntry> & { keys?: string[] }): LoreItem {
  return { id: `id-${++next}`, name, entry: { keys: [], content: `About ${name}.`, ...entry } };
}
const names = (items: LoreItem[], recent: string[], options?: Parameters<typeof selectLore>[2]) =>
  selectLore(items, recent, options).map((selection) => selection.item.name);

describe('selectLore: keywords', () => {
  it('matches plain keys ignoring case, and reports the key that fired', () => {
    const dragon = lore('dragon', { keys: ['wyrm', 'Dragon'] });
    const [selection] = selectLore([dragon], ['A DRAGON lands on the roof.']);
    expect(selection).toMatchObject({ item: dragon, trigger: 'Dragon', depth: 0, tokens: countTokens('About dragon.') });
    expect(names([dragon], ['Nothing here.'])).toEqual([]);
  });

  it('matches whole words where a key starts or ends with a letter or digit', () => {
    const cat = lore('cat', { keys: ['cat'] });
    expect(names([cat], ['We concatenate strings.'])).toEqual([]);
    expect(names([cat], ['Cats sleep.'])).toEqual([]);
    expect(names([cat], ['The cat, asleep.'])).toEqual(['cat']);
    const cpp = lore('cpp', { keys: ['C++'] });
    expect(names([cpp], ['I write C++11 daily.'])).toEqual(['cpp']);
    expect(names([cpp], ['ABC++ is not it.'])).toEqual([]);
    const accented = lore('café', { keys: ['café'] });
    expect(names([accented], ['Le cafés sont fermés.'])).toEqual([]);
    expect(names([accented], ['Au Café, ce soir.'])).toEqual(['café']);
  });

  it('honours caseSensitive for plain and regex keys', () => {
    const rose = lore('rose', { keys: ['Rose'], caseSensitive: true });
    expect(names([rose], ['the sun rose early'])).toEqual([]);
    expect(names([rose], ['Rose is here'])).toEqual(['rose']);
    const rx = lore('rx', { keys: ['/Drag/'], caseSensitive: true });
    expect(names([rx], ['drag it'])).toEqual([]);
    expect(names([rx], ['Drag it'])).toEqual(['rx']);
  });

  it('reads /pattern/flags keys as regular expressions, with their flags, and useRegex keys without slashes', () => {
    const slashed = lore('slashed', { keys: ['/drag(on|oness)\\b/'] });
    expect(names([slashed], ['THE DRAGONESS sleeps'])).toEqual(['slashed']);
    const multiline = lore('multiline', { keys: ['/^hello/m'], caseSensitive: true });
    const anchored = lore('anchored', { keys: ['/^hello/'], caseSensitive: true });
    expect(names([multiline, anchored], ['first line\nhello there'])).toEqual(['multiline']);
    const plainRegex = lore('colour', { keys: ['colou?r'], useRegex: true });
    expect(names([plainRegex], ['What color is it?'])).toEqual(['colour']);
    expect(names([lore('literal', { keys: ['colou?r'] })], ['What color is it?'])).toEqual([]);
    const global = lore('global', { keys: ['/dragon/g'] });
    for (let i = 0; i < 3; i++) expect(names([global], ['a dragon'])).toEqual(['global']);
  });

  it('ignores keys that are not valid regular expressions, never throwing', () => {
    const broken = lore('broken', { keys: ['/(unclosed/'] });
    const mixed = lore('mixed', { keys: ['[bad', 'ship'], useRegex: true });
    expect(() => selectLore([broken, mixed], ['(unclosed ship'])).not.toThrow();
    expect(names([broken, mixed], ['(unclosed [bad ship'])).toEqual(['mixed']);
  });

  it('ignores regex keys that are too long or shaped to backtrack for ever, and stays fast', () => {
    const evil = lore('evil', { keys: ['/(a+)+$/'] });
    const long = lore('long', { keys: [`/${'a'.repeat(250)}/`] });
    const started = performance.now();
    expect(names([evil, long], [`${'a'.repeat(5000)}b`, 'a'.repeat(300)])).toEqual([]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('needs a secondary key too for selective entries that have some', () => {
    const selective = lore('selective', { keys: ['king'], secondaryKeys: ['crown', 'throne'], selective: true });
    expect(names([selective], ['The king sleeps.'])).toEqual([]);
    expect(names([selective], ['The king sits on the throne.'])).toEqual(['selective']);
    expect(names([selective], ['A throne without anyone.'])).toEqual([]);
    const noSecondary = lore('no-secondary', { keys: ['king'], secondaryKeys: [], selective: true });
    const notSelective = lore('not-selective', { keys: ['king'], secondaryKeys: ['crown'], selective: false });
    expect(names([noSecondary, notSelective], ['The king sleeps.'])).toEqual(['no-secondary', 'not-selective']);
  });

  it('always selects constant entries, and never disabled ones', () => {
    const always = lore('always', { constant: true });
    const off = lore('off', { constant: true, enabled: false });
    const offKeyed = lore('off-keyed', { keys: ['sea'], enabled: false });
    expect(selectLore([always, off, offKeyed], [])).toEqual([{ item: always, trigger: 'constant', depth: 0, tokens: countTokens('About always.') }]);
    expect(names([always, off, offKeyed], ['the sea'])).toEqual(['always']);
  });

  it('scans only the last scanChars characters of the messages', () => {
    const early = lore('early', { keys: ['harbour'] });
    const recent = ['The harbour is closed.', 'x '.repeat(100)];
    expect(names([early], recent, { scanChars: 100 })).toEqual([]);
    expect(names([early], recent, { scanChars: 1000 })).toEqual(['early']);
  });
});

describe('selectLore: recursion, order and budget', () => {
  const castle = lore('castle', { keys: ['castle'], content: 'The castle belongs to the king.' });
  const king = lore('king', { keys: ['king'], content: 'The king wears a crown.' });
  const crown = lore('crown', { keys: ['crown'], content: 'The crown holds a jewel.' });
  const jewel = lore('jewel', { keys: ['jewel'], content: 'The jewel is cursed.' });
  const chain = [jewel, crown, king, castle];

  it('follows keys found in selected content, up to maxDepth', () => {
    const selected = selectLore(chain, ['We reach the castle.']);
    expect(selected.map((s) => [s.item.name, s.depth, s.trigger])).toEqual([
      ['castle', 0, 'castle'],
      ['king', 1, 'king'],
      ['crown', 2, 'crown'],
    ]);
    expect(names(chain, ['We reach the castle.'], { maxDepth: 0 })).toEqual(['castle']);
    expect(names(chain, ['We reach the castle.'], { maxDepth: 3 })).toEqual(['castle', 'king', 'crown', 'jewel']);
  });

  it('lets constant entries trigger others at depth 1, and never selects an entry twice', () => {
    const setting = lore('setting', { constant: true, content: 'A story at the castle.' });
    const selected = selectLore([setting, castle, king], ['The castle again: castle, castle.']);
    expect(selected.map((s) => [s.item.name, s.depth])).toEqual([
      ['setting', 0],
      ['castle', 0],
      ['king', 1],
    ]);
    expect(selectLore([setting, castle], [], { maxDepth: 1 }).map((s) => [s.item.name, s.depth])).toEqual([
      ['setting', 0],
      ['castle', 1],
    ]);
  });

  it('orders constant first, then priority, then depth, then name', () => {
    const low = lore('b-low', { keys: ['sea'], priority: -1 });
    const zeroB = lore('b-zero', { keys: ['sea'] });
    const zeroA = lore('a-zero', { keys: ['sea'] });
    const high = lore('z-high', { keys: ['sea'], priority: 10 });
    const always = lore('always', { constant: true, priority: -5 });
    const deep = lore('a-deep', { keys: ['about'], priority: 0 });
    expect(names([low, zeroB, zeroA, high, always, deep], ['the sea'])).toEqual(['always', 'z-high', 'a-zero', 'b-zero', 'a-deep', 'b-low']);
  });

  it('skips an entry that does not fit whole and still fits smaller later ones', () => {
    const big = lore('big', { keys: ['sea'], priority: 3, content: 'word '.repeat(300) });
    const medium = lore('medium', { keys: ['sea'], priority: 2, content: 'wave '.repeat(60) });
    const small = lore('small', { keys: ['sea'], priority: 1, content: 'Salt.' });
    const selected = selectLore([big, medium, small], ['the sea'], { budgetTokens: 50 });
    expect(selected.map((s) => s.item.name)).toEqual(['small']);
    expect(selected[0]!.tokens).toBe(countTokens('Salt.'));
    const roomier = selectLore([big, medium, small], ['the sea'], { budgetTokens: countTokens(medium.entry.content) + countTokens('Salt.') });
    expect(roomier.map((s) => s.item.name)).toEqual(['medium', 'small']);
    expect(selectLore([big], ['the sea']).map((s) => s.item.name)).toEqual(['big']);
    expect(selectLore([big], ['the sea'], { budgetTokens: 0 })).toEqual([]);
  });
});

describe('splitKeys', () => {
  it('splits on commas and new lines but keeps /pattern/ keys whole', () => {
    expect(splitKeys(' dragon,  wyrm ,,\nold one ')).toEqual(['dragon', 'wyrm', 'old one']);
    expect(splitKeys('/a{1,3}b/i, cat, /x,y/')).toEqual(['/a{1,3}b/i', 'cat', '/x,y/']);
    expect(splitKeys('/path/to, other')).toEqual(['/path/to', 'other']);
    expect(splitKeys('')).toEqual([]);
  });
});

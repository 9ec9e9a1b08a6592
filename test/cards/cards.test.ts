import { randomBytes } from 'node:crypto';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import { decode as decodeText, encode as encodeText } from 'png-chunk-text';
import { describe, expect, it } from 'vitest';
import { cardAs, exportCardJson, exportCardPng, placeholderPng } from '../../src/cards/export-card.js';
import { parseCard, type ParsedCard } from '../../src/cards/parse-card.js';
import { TavernCardValidator } from '../../src/cards/validate-card.js';
import { UserError } from '../../src/errors.js';
import { agnaiCard, fullEntry, pygmalionCard, v1Card, v2Card, v3Card } from './corpus.js';
import { zipOf } from '../support/zip.js';

type Json = Record<string, unknown>;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
function pngWith(chunksText: [string, string][]): Buffer {
  const chunks = extractChunks(new Uint8Array(placeholderPng(8)));
  chunks.splice(chunks.length - 1, 0, ...chunksText.map(([keyword, text]) => encodeText(keyword, text)));
  return Buffer.from(encodeChunks(chunks));
}
/** What an import followed by an untouched export gives (the character's values are the card's own). */
const exportOf = (parsed: ParsedCard) =>
  exportCardJson({ card: parsed.card, fields: parsed.fields, creator: 'importer', lorebook: parsed.lorebook });
const chunksOf = (png: Buffer) =>
  Object.fromEntries(
    extractChunks(new Uint8Array(png))
      .filter((chunk) => chunk.name === 'tEXt')
      .map((chunk) => decodeText(chunk.data))
      .map(({ keyword, text }) => [keyword, JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Json]),
  );
const refuse = async (buffer: Buffer, message: RegExp) => {
  await expect(parseCard(buffer)).rejects.toThrow(UserError);
  await expect(parseCard(buffer)).rejects.toThrow(message);
};
const valid = (card: Json, spec: 'v2' | 'v3') => {
  const validator = new TavernCardValidator(card);
  const ok = spec === 'v2' ? validator.validateV2() : validator.validateV3();
  expect(validator.error).toBeNull();
  expect(ok).toBe(true);
};

describe('lossless cards', () => {
  it('exports an untouched V2 card exactly as it came, every nested key and every lorebook entry kept', async () => {
    const original = v2Card();
    const parsed = await parseCard(json(original));
    expect(parsed.format).toBe('v2');
    expect(parsed.lorebook).toHaveLength(8);
    const exported = exportOf(parsed);
    expect(cardAs(exported, 'v2')).toStrictEqual(original);
    valid(cardAs(exported, 'v2'), 'v2');
    valid(cardAs(exported, 'v3'), 'v3');
    // The stored card keeps the book's own fields and leaves its entries to the lore items.
    expect((parsed.card.data as { character_book: Json }).character_book).toMatchObject({
      name: 'Eldoria lore',
      scan_depth: 4,
      entries: [],
    });
  });

  it('writes both chunks into the PNG (V2 in chara, V3 in ccv3), and a re-import reads the same character', async () => {
    const parsed = await parseCard(json(v2Card()));
    const png = exportCardPng(exportOf(parsed));
    const chunks = chunksOf(png);
    expect(Object.keys(chunks)).toEqual(['chara', 'ccv3']);
    expect(chunks.chara).toStrictEqual(v2Card());
    valid(chunks.chara!, 'v2');
    expect(chunks.ccv3).toMatchObject({ spec: 'chara_card_v3', spec_version: '3.0', data: { group_only_greetings: [] } });
    valid(chunks.ccv3!, 'v3');
    const again = await parseCard(png);
    expect(again.fields).toEqual(parsed.fields);
    expect(again.lorebook).toEqual(parsed.lorebook);
    expect(again.avatar?.equals(png)).toBe(true);
    // And from there on nothing changes at all: a fixed point.
    const third = await parseCard(exportCardPng(exportOf(again), png));
    expect(third.card).toEqual(again.card);
    expect(exportOf(third)).toEqual(exportOf(again));
  });

  it('keeps every V3 field (nickname, multilingual notes, group-only greetings, source, dates)', async () => {
    const original = v3Card();
    const parsed = await parseCard(json(original));
    expect(parsed.format).toBe('v3');
    expect(parsed.notes).toEqual([]);
    expect(cardAs(exportOf(parsed), 'v3')).toStrictEqual(original);
    const fromPng = await parseCard(exportCardPng(exportOf(parsed)));
    expect(fromPng.card).toEqual(parsed.card);
    expect(fromPng.lorebook).toEqual(parsed.lorebook);
  });

  it('keeps a 500-entry lorebook with every entry field set, and reads every setting', async () => {
    const original = v2Card(500);
    const parsed = await parseCard(json(original));
    expect(parsed.lorebook).toHaveLength(502);
    // Entry 37 read as ST's convertCharacterBook reads it (public/scripts/world-info.js).
    expect(parsed.lorebook[37]).toMatchObject({
      keys: ['key37', 'alias 37'],
      secondaryKeys: ['second37'],
      name: 'Entry 37',
      enabled: true,
      constant: false,
      selective: false,
      selectiveLogic: 'not_all',
      caseSensitive: false,
      matchWholeWords: false,
      useRegex: false,
      priority: 2,
      insertionOrder: 137,
      position: 'em_top',
      depth: 1,
      role: 'user',
      probability: 87,
      useProbability: true,
      scanDepth: 2,
      excludeRecursion: true,
      preventRecursion: true,
      delayUntilRecursion: false,
      group: 'group 1',
      groupOverride: false,
      groupWeight: 93,
      useGroupScoring: false,
      sticky: 1,
      cooldown: 1,
      delay: 1,
      vectorized: false,
      id: 37,
    });
    expect(parsed.lorebook[3]!.enabled).toBe(false);
    expect(parsed.lorebook[500]!.content).toBe('');
    const exported = exportOf(parsed);
    expect(cardAs(exported, 'v2')).toStrictEqual(original);
    const again = await parseCard(exportCardPng(exported));
    expect(again.lorebook).toEqual(parsed.lorebook);
  });

  it('writes only what changed, merging extensions and keeping creator and character_version', async () => {
    const parsed = await parseCard(json(v2Card()));
    const lorebook = parsed.lorebook.map((entry, i) =>
      i === 1 ? { ...entry, content: 'Changed.', position: 'at_depth' as const, depth: 9 } : entry,
    );
    const exported = exportCardJson({
      card: parsed.card,
      fields: { ...parsed.fields, description: 'Now a mountain guardian.', talkativeness: 0.2 },
      creator: 'importer',
      lorebook,
    });
    const data = exported.data as Json & { extensions: Json; character_book: { entries: Json[] } };
    expect(data.description).toBe('Now a mountain guardian.');
    expect(exported.description).toBe('Now a mountain guardian.'); // the V1 copy ST keeps at the top
    expect(data.creator).toBe('tester');
    expect(data.character_version).toBe('1.2');
    expect(data.personality).toBe('Kind, protective.');
    expect(data.extensions).toEqual({ ...(v2Card().data as { extensions: Json }).extensions, talkativeness: '0.2' });
    const entry = data.character_book.entries[1]!;
    const before = fullEntry(1) as Json & { extensions: Json };
    expect(entry).toEqual({
      ...before,
      content: 'Changed.',
      position: 'after_char',
      extensions: { ...before.extensions, position: 4, depth: 9 },
    });
    expect(data.character_book.entries[2]).toEqual(fullEntry(2));
  });

  it('turns V1, Pygmalion and Agnai cards into V2 that comes back the same, their own keys kept', async () => {
    for (const [raw, format] of [
      [v1Card(), 'v1'],
      [pygmalionCard(), 'pygmalion'],
      [agnaiCard(), 'agnai'],
    ] as const) {
      const parsed = await parseCard(json(raw));
      expect(parsed.format).toBe(format);
      const exported = exportOf(parsed);
      valid(cardAs(exported, 'v2'), 'v2');
      expect(exported).toMatchObject(raw); // every key it came with is still there
      const again = await parseCard(exportCardPng(exported));
      expect(again.fields).toEqual(parsed.fields);
      expect(again.lorebook.map(({ original: _o, ...entry }) => entry)).toEqual(parsed.lorebook.map(({ original: _o, ...entry }) => entry));
      const third = await parseCard(exportCardPng(exportOf(again)));
      expect(third.card).toEqual(again.card);
    }
  });

  it('maps V1 extras, Pygmalion and Agnai fields as SillyTavern and Agnai do', async () => {
    expect((await parseCard(json(v1Card()))).fields).toEqual({
      name: 'Old Tom',
      description: 'A retired sailor.',
      personality: 'Gruff but fair.',
      scenario: 'A harbour tavern.',
      greeting: 'Sit down, lad.',
      exampleDialogue: '<START>\n{{char}}: Aye.',
      systemPrompt: '',
      postHistoryInstructions: '',
      creatorNotes: 'A V1 card.',
      alternateGreetings: [],
      tags: ['sea', 'old'],
      talkativeness: 0.3,
    });
    const v1 = await parseCard(json(v1Card()));
    expect(v1.card.data).toMatchObject({ creator: 'someone', extensions: { talkativeness: '0.3', fav: true } });
    expect((await parseCard(json(pygmalionCard()))).fields).toMatchObject({
      name: 'Pyg',
      description: 'A cheerful robot.',
      scenario: 'A lab.',
      greeting: 'Beep! Hello.',
      exampleDialogue: '<START>\nYou: Hi\nPyg: Beep.',
    });
    const agnai = await parseCard(json(agnaiCard()));
    expect(agnai.fields).toMatchObject({
      name: 'Agna',
      description: '[character("Agna") {\nmind("calm" + "wise")\nbody("tall")\n}]',
      greeting: 'Greetings, traveller.',
      exampleDialogue: '{{char}}: The sand is warm.',
      creatorNotes: 'A desert guide.',
      alternateGreetings: ['Lost again?'],
      systemPrompt: 'Be terse.',
      tags: ['desert'],
    });
    expect(agnai.lorebook).toEqual([
      expect.objectContaining({ keys: ['oasis'], content: 'The oasis lies east.', name: 'Oasis', priority: 5, insertionOrder: 10 }),
    ]);
    expect(agnai.card.data).toMatchObject({
      creator: 'agnai-user',
      character_version: '2',
      extensions: { agnai: { persona: agnaiCard().persona } },
    });
  });

  it('tolerates nulls and odd types as SillyTavern does, and lists what it left out', async () => {
    const card = v2Card(1) as { data: Json };
    const loose = {
      ...card,
      data: {
        ...card.data,
        personality: null,
        scenario: 7,
        system_prompt: undefined,
        tags: 'one, two',
        alternate_greetings: 'Hi.',
        extensions: null,
      },
    };
    const parsed = await parseCard(json(loose));
    expect(parsed.fields).toMatchObject({
      personality: '',
      scenario: '7',
      systemPrompt: '',
      tags: ['one', 'two'],
      alternateGreetings: ['Hi.'],
    });
    expect(parsed.fields.talkativeness).toBeUndefined();
    const exported = exportOf(parsed);
    valid(cardAs(exported, 'v2'), 'v2');

    const many = { ...card, data: { ...card.data, tags: Array.from({ length: 230 }, (_, i) => `tag${i}`).concat(['x'.repeat(150)]) } };
    const trimmed = await parseCard(json(many));
    expect(trimmed.fields.tags).toHaveLength(200);
    expect(trimmed.notes.join('\n')).toMatch(/1 tags longer than 100 characters were left out/);
    expect(trimmed.notes.join('\n')).toMatch(/30 tags beyond the first 200 were left out/);
    // The stored card still has every tag, and an export of the untouched character gives them all back.
    expect((exportOf(trimmed).data as Json).tags).toHaveLength(231);

    const withAssets = v3Card() as { data: Json };
    const assets = [
      { type: 'icon', uri: 'ccdefault:', name: 'main', ext: 'png' },
      { type: 'background', uri: 'embeded://assets/background/images/bg.png', name: 'bg', ext: 'png' },
      { type: 'emotion', uri: 'https://example.com/happy.png', name: 'happy', ext: 'png' },
    ];
    const v3 = await parseCard(json({ ...withAssets, data: { ...withAssets.data, assets } }));
    expect(v3.notes).toEqual([expect.stringMatching(/2 extra assets \(background, emotion\) were not kept/)]);
    expect((exportOf(v3).data as Json).assets).toEqual([assets[0], assets[2]]);
  });

  it('reads the first ccv3 chunk, else the first chara chunk (ST character-card-parser.js read)', async () => {
    const named = (name: string, spec = 'chara_card_v2') => b64({ ...v2Card(0), spec, data: { ...(v2Card(0).data as Json), name } });
    expect(
      (
        await parseCard(
          pngWith([
            ['chara', named('First')],
            ['chara', named('Second')],
          ]),
        )
      ).fields.name,
    ).toBe('First');
    expect(
      (
        await parseCard(
          pngWith([
            ['chara', named('V2')],
            ['ccv3', named('V3 one', 'chara_card_v3')],
            ['ccv3', named('V3 two', 'chara_card_v3')],
          ]),
        )
      ).fields.name,
    ).toBe('V3 one');
  });

  it('imports a CHARX: card.json and its main icon as the avatar', async () => {
    const icon = placeholderPng(16, [1, 2, 3]);
    const card = v3Card() as { data: Json };
    const charx = zipOf({
      'card.json': JSON.stringify({
        ...card,
        data: { ...card.data, assets: [{ type: 'icon', uri: 'embeded://assets/icon/images/main.png', name: 'main', ext: 'png' }] },
      }),
      'assets/icon/images/main.png': icon,
    });
    const parsed = await parseCard(charx);
    expect(parsed).toMatchObject({ format: 'v3', container: 'charx', fields: { name: 'Seraphina' } });
    expect(parsed.avatar?.equals(icon)).toBe(true);
    expect((exportOf(parsed).data as Json).assets).toEqual([]);
    await refuse(zipOf({ 'readme.txt': 'no card' }), /no card\.json/);
  });

  it('refuses malformed, truncated and hostile cards in plain words', async () => {
    await refuse(randomBytes(500), /neither a PNG card nor valid JSON|not a character card/);
    await refuse(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), /neither a PNG card nor valid JSON/);
    await refuse(placeholderPng(8), /no character card inside/);
    const png = pngWith([['chara', b64(v2Card(0))]]);
    await refuse(png.subarray(0, png.length - 30), /damaged or cut short/);
    await refuse(pngWith([['chara', '%%% not base64 %%%']]), /not valid base64/);
    await refuse(pngWith([['chara', Buffer.from('{broken').toString('base64')]]), /not valid JSON/);
    await refuse(json({ spec: 'something_else', data: {} }), /Unknown card format/);
    await refuse(json({ spec: 'chara_card_v2', data: { description: 'no name' } }), /has no name/);
    await refuse(json({ spec: 'chara_card_v2', data: { name: 'X', description: { nested: 1 } } }), /data\.description should be text/);
    await refuse(
      json({ spec: 'chara_card_v2', data: { name: 'X', description: 'x'.repeat(200_000) } }),
      /description is 200000 characters long; the most a character holds is 128000/,
    );
    const manyEntries = Array.from({ length: 1001 }, (_, i) => ({ keys: [`k${i}`], content: 'c', enabled: true, insertion_order: i }));
    await refuse(
      json({ spec: 'chara_card_v2', data: { name: 'X', character_book: { entries: manyEntries } } }),
      /1001 entries; the most kept is 1000/,
    );
    await refuse(json({ hello: 'world' }), /not a character card/);
    const hugeLength = Buffer.from(png);
    hugeLength.writeUInt32BE(0x7fffffff, 33);
    await refuse(hugeLength, /damaged or cut short/);
  });

  it('drops prototype-polluting keys', async () => {
    const hostile = `{"spec":"chara_card_v2","data":{"name":"P","__proto__":{"polluted":true},"extensions":{"__proto__":{"x":1}}}}`;
    const card = await parseCard(Buffer.from(hostile));
    expect(card.fields.name).toBe('P');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(card.card.data as Json)).not.toContain('__proto__');
  });
});

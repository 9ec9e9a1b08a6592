import { randomBytes } from 'node:crypto';
import encodeChunks from 'png-chunks-encode';
import extractChunks from 'png-chunks-extract';
import { encode as encodeText } from 'png-chunk-text';
import { describe, expect, it } from 'vitest';
import { exportCardJson, exportCardPng, placeholderPng } from '../../src/cards/export-card.js';
import { parseCard } from '../../src/cards/parse-card.js';
import { UserError } from '../../src/errors.js';

const v2 = {
  spec: 'chara_card_v2',
  spec_version: '2.0',
  data: {
    name: 'Seraphina',
    description: 'A guardian of the forest.',
    personality: 'Kind, protective.',
    scenario: 'You wake up in her glade.',
    first_mes: 'You are safe now, {{user}}.',
    mes_example: '<START>\n{{char}}: Rest.',
    creator_notes: 'Made for testing.',
    system_prompt: 'Write in third person.',
    post_history_instructions: 'Stay gentle.',
    alternate_greetings: ['Welcome back.'],
    tags: ['fantasy', 'forest'],
    creator: 'tester',
    character_version: '1.2',
    extensions: { depth_prompt: { prompt: 'x' }, talkativeness: '0.8' },
    character_book: {
      entries: [
        { keys: ['glade'], secondary_keys: [], content: 'The glade is hidden by old magic.', enabled: true, insertion_order: 0, constant: false },
        { keys: ['forest', 'woods'], content: 'The forest of Eldoria is ancient.', enabled: true, insertion_order: 1, constant: true, case_sensitive: true },
      ],
    },
  },
};

function pngWith(chunksText: [string, string][]): Buffer {
  const chunks = extractChunks(new Uint8Array(placeholderPng(8)));
  chunks.splice(chunks.length - 1, 0, ...chunksText.map(([keyword, text]) => encodeText(keyword, text)));
  return Buffer.from(encodeChunks(chunks));
}
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const refuse = (buffer: Buffer, message: RegExp) => {
  expect(() => parseCard(buffer)).toThrow(UserError);
  expect(() => parseCard(buffer)).toThrow(message);
};

describe('character cards', () => {
  it('maps every field of a V2 JSON card, lorebook included', () => {
    const card = parseCard(Buffer.from(JSON.stringify(v2)));
    expect(card).toMatchObject({
      spec: 'v2',
      name: 'Seraphina',
      description: 'A guardian of the forest.',
      personality: 'Kind, protective.',
      scenario: 'You wake up in her glade.',
      greeting: 'You are safe now, {{user}}.',
      exampleDialogue: '<START>\n{{char}}: Rest.',
      systemPrompt: 'Write in third person.',
      postHistoryInstructions: 'Stay gentle.',
      alternateGreetings: ['Welcome back.'],
      tags: ['fantasy', 'forest'],
      creatorNotes: 'Made for testing.',
      creator: 'tester',
      characterVersion: '1.2',
      talkativeness: 0.8,
    });
    expect(card.lorebook).toEqual([
      expect.objectContaining({ keys: ['glade'], content: 'The glade is hidden by old magic.', constant: false }),
      expect.objectContaining({ keys: ['forest', 'woods'], constant: true, caseSensitive: true }),
    ]);
    expect(card.avatarPng).toBeUndefined();
  });

  it('ignores a talkativeness SillyTavern would not accept, and reads the rest of the card', () => {
    for (const talkativeness of ['loud', 7, null]) {
      const card = parseCard(Buffer.from(JSON.stringify({ ...v2, data: { ...v2.data, extensions: { talkativeness } } })));
      expect(card).toMatchObject({ name: 'Seraphina', talkativeness: undefined });
    }
  });

  it('reads V3 JSON, V1 JSON, and PNG cards (ccv3 preferred over chara)', () => {
    expect(parseCard(Buffer.from(JSON.stringify({ ...v2, spec: 'chara_card_v3', spec_version: '3.0' }))).spec).toBe('v3');
    expect(parseCard(Buffer.from(JSON.stringify({ name: 'Old', description: 'd', first_mes: 'hi' })))).toMatchObject({ spec: 'v1', name: 'Old', greeting: 'hi' });
    const png = pngWith([['chara', b64(v2)]]);
    const fromPng = parseCard(png);
    expect(fromPng).toMatchObject({ spec: 'v2', name: 'Seraphina' });
    expect(fromPng.avatarPng?.equals(png)).toBe(true);
    const both = pngWith([
      ['chara', b64(v2)],
      ['ccv3', b64({ ...v2, spec: 'chara_card_v3', data: { ...v2.data, name: 'Seraphina V3' } })],
    ]);
    expect(parseCard(both)).toMatchObject({ spec: 'v3', name: 'Seraphina V3' });
  });

  it('exports a V2 PNG that parses back losslessly, with a valid PNG structure', () => {
    const input = parseCard(Buffer.from(JSON.stringify(v2)));
    const png = exportCardPng({ ...input, greeting: input.greeting, lorebook: input.lorebook });
    const chunks = extractChunks(new Uint8Array(png));
    expect(chunks[0]!.name).toBe('IHDR');
    expect(chunks.at(-1)!.name).toBe('IEND');
    expect(chunks.filter((c) => c.name === 'tEXt')).toHaveLength(2);
    const again = parseCard(png);
    const { avatarPng: _png, spec: _spec, ...fields } = again;
    const { avatarPng: _a, spec: _s, ...original } = input;
    expect(fields).toEqual({ ...original, characterVersion: '' });
    const json = exportCardJson(input) as { spec: string; data: { name: string } };
    expect(json.spec).toBe('chara_card_v2');
    const reexport = exportCardPng({ ...input, name: 'Renamed' }, png);
    expect(parseCard(reexport).name).toBe('Renamed');
    expect(extractChunks(new Uint8Array(reexport)).filter((c) => c.name === 'tEXt')).toHaveLength(2);
  });

  it('refuses malformed, truncated and hostile cards in plain words', () => {
    refuse(randomBytes(500), /neither a PNG card nor valid JSON|not a character card/);
    refuse(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), /neither a PNG card nor valid JSON/);
    refuse(placeholderPng(8), /no character card inside/);
    const png = pngWith([['chara', b64(v2)]]);
    refuse(png.subarray(0, png.length - 30), /damaged or cut short/);
    const corrupt = Buffer.from(png);
    corrupt[40] = corrupt[40]! ^ 0xff;
    refuse(corrupt, /damaged|not valid|no character card/);
    refuse(pngWith([['chara', '%%% not base64 %%%']]), /not valid base64/);
    refuse(pngWith([['chara', Buffer.from('{broken').toString('base64')]]), /not valid JSON/);
    refuse(Buffer.from(JSON.stringify({ spec: 'something_else', data: {} })), /Unknown card format/);
    refuse(Buffer.from(JSON.stringify({ spec: 'chara_card_v2', data: { description: 'no name' } })), /^That card is not valid: it has no data\.name\.$/);
    refuse(Buffer.from(JSON.stringify({ ...v2, data: { ...v2.data, tags: 'one, two' } })), /^That card is not valid: data\.tags should be a list\.$/);
    refuse(Buffer.from(JSON.stringify({ ...v2, data: { ...v2.data, name: '   ' } })), /has no name/);
    refuse(Buffer.from(JSON.stringify({ ...v2, data: { ...v2.data, description: 'x'.repeat(5 * 1024 * 1024) } })), /description is longer than/);
    const manyEntries = Array.from({ length: 5000 }, (_, i) => ({ keys: [`k${i}`], content: 'c', enabled: true, insertion_order: i }));
    refuse(Buffer.from(JSON.stringify({ ...v2, data: { ...v2.data, character_book: { entries: manyEntries } } })), /more than 1000 lore entries/);
    const hugeLength = Buffer.from(png);
    hugeLength.writeUInt32BE(0x7fffffff, 33);
    refuse(hugeLength, /damaged or cut short/);
  });

  it('drops prototype-polluting keys', () => {
    const hostile = JSON.parse(`{"spec":"chara_card_v2","data":{"name":"P","__proto__":{"polluted":true},"constructor":{"x":1}}}`);
    const card = parseCard(Buffer.from(JSON.stringify(hostile)));
    expect(card.name).toBe('P');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(card)).not.toContain('__proto__');
  });
});

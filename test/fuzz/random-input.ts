import { deflateRawSync } from 'node:zlib';
import { exportCardPng } from '../../src/cards/export-card.js';
import { seededRandom } from '../../src/scenes/turns.js';
import { zipBomb } from '../support/zip-bomb.js';

/** Seeded choices (mulberry32, as the scenes' turn-taking tests use): the same seed gives the same cases. */
export class Rng {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = seededRandom(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'];
const DIRECTION = ['\u202e', '\u202d', '\u200f', '\u200e', '\u2066', '\u2069'];
const NULL_LIKE = ['null', 'NULL', 'None', 'nil', 'undefined', 'NaN', '[object Object]', '{}', '[]', 'true', '0', '-0', '', ' '];
const NASTY = [
  "'; DROP TABLE characters; --",
  '%s%s%n',
  '${process.env}',
  '{{char}}{{user}}{{random}}',
  '<script>alert(1)</script>',
  '\\',
  '../../etc/passwd',
  '\u0000',
  'a\u0000b',
  '\r\n\r\n',
];
const EMOJI = ['😀', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷', '🧙🏽‍♀️', '❤️', '🫠'];

/** Random Unicode: any plane, with combining marks, zero-width joiners, direction marks. */
export function unicode(rng: Rng, length: number): string {
  let out = '';
  while (out.length < length) {
    const kind = rng.int(0, 9);
    if (kind === 0) out += rng.pick(ZERO_WIDTH);
    else if (kind === 1) out += rng.pick(DIRECTION);
    else if (kind === 2) out += '\u0301\u0308\u0327';
    else if (kind === 3) out += rng.pick(EMOJI);
    else if (kind === 4) out += String.fromCodePoint(rng.int(0x10000, 0x10ffff));
    else if (kind === 5)
      out += String.fromCharCode(rng.int(0xd800, 0xdfff)); // a lone surrogate
    else out += String.fromCodePoint(rng.int(0x20, 0xfffd));
  }
  return out;
}

/** Lone surrogates replaced (Discord's file names are well-formed Unicode). */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** A string of any of the awkward kinds. */
export function nastyString(rng: Rng, ids: string[] = []): string {
  switch (rng.int(0, 11)) {
    case 0:
      return rng.pick(NULL_LIKE);
    case 1:
      return rng.pick(NASTY);
    case 2:
      return unicode(rng, rng.int(1, 40));
    case 3:
      return unicode(rng, 6000);
    case 4:
      return 'x'.repeat(rng.pick([99, 100, 101, 2000, 2001, 6000, 6001]));
    case 5:
      return rng.pick(ZERO_WIDTH).repeat(rng.int(1, 50));
    case 6:
      return ids.length ? rng.pick(ids) : String(rng.int(0, 1e9));
    case 7:
      return rng.pick([
        '00000000-0000-0000-0000-000000000000',
        '99999999999999999999',
        '-1',
        '1e309',
        'NaN',
        '0x1F',
        '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
      ]);
    case 8:
      return markdownBomb(rng, rng.int(50, 3000));
    case 9:
      return `https://${rng.pick(['127.0.0.1:1', 'example.invalid', '[::1]', 'localhost', '169.254.169.254'])}/${unicode(rng, 5)}`;
    case 10:
      return mentionFlood(rng, rng.int(1, 100), ids);
    default:
      return `${rng.pick(['Aria', 'aria', ' Aria ', 'ARIA'])}${rng.pick(ZERO_WIDTH)}`;
  }
}

function mentionFlood(rng: Rng, count: number, userIds: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(
      rng.pick([
        '@everyone',
        '@here',
        `<@${rng.pick(userIds.length ? userIds : ['1'])}>`,
        `<@&${rng.int(1, 1e9)}>`,
        `<#${rng.int(1, 1e9)}>`,
        '<@!0>',
      ]),
    );
  }
  return parts.join(' ');
}

/** Nested markdown, unclosed fences, spoilers and headers. */
function markdownBomb(rng: Rng, length: number): string {
  const pieces = ['**', '__', '*', '_', '~~', '||', '`', '```', '```js\n', '> ', '>>> ', '# ', '-# ', '[a](https://x.y)', '\n', '\\'];
  let out = '';
  while (out.length < length) out += rng.pick(pieces) + (rng.chance(0.3) ? 'word ' : '');
  return out;
}

/** A message for the character: huge, zero-width only, mentions everywhere, markdown bombs, emoji floods. */
export function messageContent(rng: Rng, userIds: string[], botId: string): string {
  switch (rng.int(0, 8)) {
    case 0:
      return `Aria ${'lorem ipsum dolor sit amet '.repeat(rng.int(150, 300))}`;
    case 1:
      return rng.pick(ZERO_WIDTH).repeat(rng.int(1, 4000));
    case 2:
      return mentionFlood(rng, rng.int(500, 1200), [...userIds, botId]).slice(0, 4000);
    case 3:
      return `Aria ${markdownBomb(rng, rng.int(1000, 4000))}`;
    case 4:
      return `Aria ${rng.pick(EMOJI).repeat(rng.int(200, 1000))}`;
    case 5:
      return `Aria ${'```'.repeat(rng.int(1, 9))}${'x\n'.repeat(rng.int(10, 1500))}`;
    case 6:
      return `<@${botId}> ${unicode(rng, rng.int(10, 4000))}`;
    case 7:
      return `Aria ${'@everyone '.repeat(rng.int(100, 400))}`;
    default:
      return `Aria ${nastyString(rng, userIds)}`;
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function crc32(data: Buffer): number {
  let crc = ~0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** A minimal 1×1 PNG with the given tEXt chunks (keyword → text). */
function pngWithText(texts: Record<string, string>): Buffer {
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  const idat = deflateRawSync(Buffer.from([0, 0, 0, 0, 0]));
  const textChunks = Object.entries(texts).map(([key, value]) =>
    chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')])),
  );
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), ...textChunks, chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A character card file, broken in one of many ways (or, rarely, fine). */
export function cardFile(rng: Rng): { name: string; data: Buffer; contentType: string } {
  const good = exportCardPng({
    spec: 'chara_card_v2',
    spec_version: '2.0',
    data: {
      name: 'Fuzzed',
      description: 'A test.',
      first_mes: 'Hi.',
      character_book: { extensions: {}, entries: [{ keys: ['k'], content: 'c', enabled: true, insertion_order: 0, extensions: {} }] },
    },
  });
  const wrongTypes = [
    { spec: 'chara_card_v2', data: { name: 5, description: ['x'], character_book: 'no' } },
    { spec: 'chara_card_v3', data: { name: null, extensions: { talkativeness: 'loud' } } },
    {
      spec: 'chara_card_v2',
      data: { name: 'x'.repeat(1000), character_book: { entries: Array.from({ length: 3 }, () => ({ keys: 'k', content: 7 })) } },
    },
    { name: { toString: 'x' }, first_mes: Number.POSITIVE_INFINITY },
    [],
    'a string',
    { spec: 'chara_card_v2', data: { name: '\u200b', description: '' } },
  ];
  switch (rng.int(0, 11)) {
    case 0:
      return { name: 'cut.png', data: good.subarray(0, rng.int(0, good.length - 1)), contentType: 'image/png' };
    case 1:
      return { name: 'noise.png', data: Buffer.concat([PNG_SIGNATURE, rng.bytes(rng.int(0, 4000))]), contentType: 'image/png' };
    case 2:
      return {
        name: 'bad64.png',
        data: pngWithText({ chara: `!!!${unicode(rng, 50).replace(/[^\x20-\x7e]/g, '?')}` }),
        contentType: 'image/png',
      };
    case 3:
      return { name: 'notjson.png', data: pngWithText({ chara: b64(unicode(rng, 200)) }), contentType: 'image/png' };
    case 4:
      return {
        name: 'huge.png',
        data: pngWithText({
          chara: b64(JSON.stringify({ spec: 'chara_card_v2', data: { name: 'Big', description: 'x'.repeat(3_000_000) } })),
        }),
        contentType: 'image/png',
      };
    case 5:
      return {
        name: 'v3.png',
        data: pngWithText({ ccv3: b64(JSON.stringify(rng.pick(wrongTypes))), chara: b64('{') }),
        contentType: 'image/png',
      };
    case 6:
      return { name: 'deep.json', data: Buffer.from(deepJson(rng.pick([100, 5000, 100_000]))), contentType: 'application/json' };
    case 7:
      return { name: 'types.json', data: Buffer.from(JSON.stringify(rng.pick(wrongTypes))), contentType: 'application/json' };
    case 8:
      return {
        name: rng.pick(['card.png', 'card.json', 'x']),
        data: Buffer.alloc(0),
        contentType: rng.pick(['image/png', 'application/json']),
      };
    case 9:
      return { name: 'card.json', data: rng.bytes(rng.int(1, 3000)), contentType: 'application/json' };
    case 10:
      return { name: 'deep-in.png', data: pngWithText({ chara: b64(deepJson(50_000)) }), contentType: 'image/png' };
    default:
      return { name: 'good.png', data: good, contentType: 'image/png' };
  }
}

/** An attachment for /knowledge add: random bytes with misleading names and types, empty files, zip bombs. */
export function knowledgeFile(rng: Rng): { name: string; data: Buffer; contentType: string } {
  const names = [
    'notes.txt',
    'book.pdf',
    'doc.docx',
    'page.html',
    'data.csv',
    'card.json',
    'image.png',
    'noext',
    '.txt',
    `${unicode(rng, 20)}.md`,
    'a'.repeat(300) + '.txt',
  ];
  const types = [
    'text/plain',
    'application/pdf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'text/html',
    'image/png',
    'application/octet-stream',
    'garbage/nonsense; charset=klingon',
    '',
  ];
  const data = (() => {
    switch (rng.int(0, 8)) {
      case 0:
        return Buffer.alloc(0);
      case 1:
        return zipBomb();
      case 2:
        return Buffer.concat([Buffer.from('%PDF-1.7\n'), rng.bytes(rng.int(0, 2000))]);
      case 3:
        return Buffer.concat([Buffer.from('PK\x03\x04'), rng.bytes(rng.int(0, 2000))]);
      case 4:
        return Buffer.from(
          `{"spec":"chara_card_v2","data":{"character_book":{"entries":${rng.pick(['"x"', '[1,2]', '[{"keys":5}]', '{}'])}}}}`,
        );
      case 5:
        return Buffer.from(`a,b\n"unclosed,${unicode(rng, 200)}\n`);
      case 6:
        return Buffer.from(markdownBomb(rng, rng.int(10, 20000)));
      case 7:
        return Buffer.from(unicode(rng, rng.int(1, 5000)));
      default:
        return rng.bytes(rng.int(1, 20000));
    }
  })();
  // Discord's file names are well-formed Unicode (the fake URL-encodes them).
  return { name: wellFormed(rng.pick(names)), data, contentType: rng.pick(types) };
}

import { constants, deflateRawSync } from 'node:zlib';

/**
 * A ZIP named .docx with one entry, `word/document.xml`. By default it
 * declares 300 MB and inflates to 16 MB (a bomb that says what it is); with
 * `declaredBytes` small it lies, declaring that and inflating to
 * `inflatedMb` of zeros, built a megabyte at a time so making it stays small.
 */
export function zipBomb(options: { declaredBytes?: number; inflatedMb?: number } = {}): Buffer {
  const size = options.declaredBytes ?? 300 * 1024 * 1024;
  const data = options.inflatedMb === undefined ? deflateRawSync(Buffer.alloc(16 * 1024 * 1024)) : zeros(options.inflatedMb);
  const name = Buffer.from('word/document.xml');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.length, 28);
  const localPart = Buffer.concat([local, name, data]);
  const centralPart = Buffer.concat([central, name]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralPart.length, 12);
  end.writeUInt32LE(localPart.length, 16);
  return Buffer.concat([localPart, centralPart, end]);
}

/** Raw deflate of `megabytes` MB of zeros: independent blocks, each ended by a sync flush, then a final empty one. */
function zeros(megabytes: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH });
  return Buffer.concat([...Array.from({ length: megabytes }, () => block), deflateRawSync(Buffer.alloc(0))]);
}

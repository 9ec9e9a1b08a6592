import yauzl from 'yauzl';
import { UserError } from '../errors.js';
import { zipUnpackedSize } from '../knowledge/zip-size.js';

const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export function isZip(buffer: Buffer): boolean {
  return buffer.subarray(0, 4).equals(ZIP_SIGNATURE);
}

/**
 * The files of a CHARX (Character Card V3's zip: `card.json` at the root, assets under `assets/`) that `wanted`
 * picks. The sizes the zip declares are checked before anything is inflated, as for DOCX files, and yauzl checks
 * that each entry inflates to what it declared.
 */
export async function readCharx(buffer: Buffer, wanted: (path: string) => boolean, maxUnpackedBytes: number): Promise<Map<string, Buffer>> {
  const unpacked = await zipUnpackedSize(buffer);
  if (unpacked === undefined) throw new UserError('That CHARX file could not be read: it looks damaged.');
  if (unpacked > maxUnpackedBytes || unpacked > buffer.length * 200) {
    throw new UserError('That CHARX file unpacks to far more than it weighs (a “zip bomb”), so it was not opened.');
  }
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    const damaged = () => reject(new UserError('That CHARX file could not be read: it looks damaged.'));
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return damaged();
      zip.on('error', damaged);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/') || !wanted(entry.fileName)) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return damaged();
          const parts: Buffer[] = [];
          stream.on('data', (part: Buffer) => parts.push(part));
          stream.on('error', damaged);
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(parts));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

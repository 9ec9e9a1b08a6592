import yauzl from 'yauzl';

/**
 * The total uncompressed size a ZIP (DOCX, EPUB) declares in its central
 * directory, read before anything is inflated; undefined when the archive is
 * malformed. Used to refuse zip bombs before a parser unpacks them.
 */
export function zipUnpackedSize(buffer: Buffer): Promise<number | undefined> {
  return new Promise((resolve) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return resolve(undefined);
      let total = 0;
      zip.on('entry', (entry: yauzl.Entry) => {
        total += entry.uncompressedSize;
        zip.readEntry();
      });
      zip.on('end', () => resolve(total));
      zip.on('error', () => resolve(undefined));
      zip.readEntry();
    });
  });
}

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

/**
 * Inflates every entry of a ZIP, counting the bytes that really come out and
 * keeping none of them, and stops as soon as the count passes `maxBytes`: a
 * "zip bomb" that declares small sizes is caught after inflating at most the
 * cap, in constant memory. 'lies' when an entry inflates to other than it
 * declared (yauzl checks), 'damaged' when it cannot be read.
 */
export function zipInflatesWithin(buffer: Buffer, maxBytes: number): Promise<'ok' | 'too-big' | 'lies' | 'damaged'> {
  return new Promise((resolve) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return resolve('damaged');
      let total = 0;
      let done = false;
      const finish = (outcome: 'ok' | 'too-big' | 'lies' | 'damaged') => {
        if (done) return;
        done = true;
        resolve(outcome);
      };
      zip.on('error', () => finish('damaged'));
      zip.on('end', () => finish('ok'));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return finish('damaged');
          stream.on('data', (part: Buffer) => {
            total += part.length;
            if (total > maxBytes) {
              stream.destroy();
              finish('too-big');
            }
          });
          stream.on('error', (failure: Error) =>
            finish(/too many bytes|too few bytes|expected/i.test(failure.message) ? 'lies' : 'damaged'),
          );
          stream.on('end', () => zip.readEntry());
        });
      });
      zip.readEntry();
    });
  });
}

import { UserError } from '../errors.js';
import { download, type DownloadLimits } from '../knowledge/download.js';
import { prepareImage, type PreparedImage } from './prepare.js';

/** A file or an embedded image of a message, as the chat adapter saw it. */
export interface ImageRef {
  url: string;
  /** The file name, or the link for an embed. */
  name: string;
  /** Bytes, when the adapter knows (Discord attachments say). */
  size?: number;
  /** An attachment someone uploaded (refused plainly when it is no picture); embeds are looked at quietly. */
  uploaded: boolean;
}

/** Limits for images in messages; the README lists them. */
export const IMAGE_LIMITS: DownloadLimits & { perMessage: number } = {
  // OpenAI takes at most 20 MB per image; larger files are refused before they are downloaded.
  maxBytes: 20 * 1024 * 1024,
  timeoutMs: 30_000,
  perMessage: 4,
};

export interface FetchedImages {
  images: (PreparedImage & { name: string })[];
  /** Plain words for each file left out (too large, not a picture, not reachable). */
  refused: string[];
}

/**
 * Fetches a message's images once, through the SSRF-guarded download used for
 * knowledge (size capped before and during the transfer, a time limit), tells
 * the type by the content and prepares each for the vendors. Discord's CDN
 * links expire: what is kept is these bytes (and later the caption), never the link.
 */
export async function fetchImages(refs: ImageRef[], fetcher: typeof fetch, limits = IMAGE_LIMITS): Promise<FetchedImages> {
  const result: FetchedImages = { images: [], refused: [] };
  const megabytes = Math.round(limits.maxBytes / 1024 / 1024);
  const wanted = refs.slice(0, limits.perMessage);
  if (refs.length > wanted.length) result.refused.push(`Only the first ${limits.perMessage} pictures of a message are looked at.`);
  const outcomes = await Promise.all(
    wanted
      .map(async (ref) => {
        if (ref.size !== undefined && ref.size > limits.maxBytes) {
          throw new UserError(`“${ref.name}” is larger than the ${megabytes} MB limit for pictures.`);
        }
        const bytes = await download(ref.url, limits, fetcher).catch((error: unknown) => {
          if (error instanceof UserError) throw new UserError(`“${ref.name}”: ${error.message.replace('That file', 'it')}`);
          throw new UserError(`“${ref.name}” could not be downloaded.`, { cause: error });
        });
        return { ...(await prepareImage(bytes, ref.name)), name: ref.name };
      })
      .map((pending, index) =>
        pending.then(
          (image) => ({ image }),
          (error: unknown) => ({
            error: error instanceof UserError ? error.message : `“${wanted[index]!.name}” could not be read.`,
            quiet: !wanted[index]!.uploaded,
          }),
        ),
      ),
  );
  for (const outcome of outcomes) {
    if ('image' in outcome) result.images.push(outcome.image);
    else if (!outcome.quiet) result.refused.push(outcome.error);
  }
  return result;
}

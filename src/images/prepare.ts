import sharp from 'sharp';
import { UserError } from '../errors.js';

/** An image ready to store and send: recompressed, within every vendor's size limits. */
export interface PreparedImage {
  mimeType: 'image/jpeg';
  width: number;
  height: number;
  data: Buffer;
}

const IMAGE_FORMATS = ['png', 'jpeg', 'webp', 'gif'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/**
 * Anthropic's limits are the strictest of the vendors': images whose long side
 * is over 1568 px or that are over about 1.15 megapixels are scaled down by
 * the API anyway (docs.anthropic.com, "Vision": evaluate image size). OpenAI
 * scales to fit 2048 px and a 768 px short side; Ollama's encoders take far
 * less. One stored size within these serves every vendor.
 */
const MAX_LONG_SIDE = 1568;
const MAX_PIXELS = 1_150_000;
/** Images larger than this many decoded pixels are refused before decoding (decompression bombs). */
const MAX_INPUT_PIXELS = 100_000_000;

/** The image format by the file's first bytes, whatever its name or declared type says; undefined when it is none we take. */
export function sniffImage(bytes: Buffer): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47 && bytes.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 6 && /^GIF8[79]a$/.test(bytes.subarray(0, 6).toString('latin1'))) return 'gif';
  if (bytes.length >= 12 && bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP')
    return 'webp';
  return undefined;
}

/**
 * Decodes a PNG, JPEG, WebP or GIF (its first frame), turns it upright by its
 * EXIF orientation, scales it within MAX_LONG_SIDE and MAX_PIXELS, flattens
 * transparency onto white and recompresses it as JPEG. Metadata (EXIF, GPS
 * position) is not kept. A file that is not such an image is a UserError.
 */
export async function prepareImage(bytes: Buffer, name: string): Promise<PreparedImage> {
  const format = sniffImage(bytes);
  if (!format) throw new UserError(`“${name}” is not a picture I can look at (PNG, JPEG, WebP or GIF).`);
  try {
    const image = sharp(bytes, { pages: 1, limitInputPixels: MAX_INPUT_PIXELS }).rotate();
    const meta = await image.metadata();
    const upright = (meta.orientation ?? 1) >= 5;
    const width = (upright ? meta.height : meta.width) ?? 0;
    const height = (upright ? meta.width : meta.height) ?? 0;
    if (!width || !height) throw new Error('no size');
    const scale = Math.min(1, MAX_LONG_SIDE / Math.max(width, height), Math.sqrt(MAX_PIXELS / (width * height)));
    const target = { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
    const { data, info } = await image
      .resize(target.width, target.height, { fit: 'fill' })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    return { mimeType: 'image/jpeg', width: info.width, height: info.height, data };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`“${name}” looks like a ${format.toUpperCase()} but could not be read.`, { cause: error });
  }
}

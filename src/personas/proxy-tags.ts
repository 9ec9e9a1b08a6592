import type { ProxyTag } from '../db/entities/index.js';

/** Where the text goes in a written tag, as Tupperbox and PluralKit write them: `K: text`, `[text]`, `text -k`. */
const PLACEHOLDER = 'text';

/**
 * Reads tags written the Tupperbox/PluralKit way, one per line or separated
 * by commas: `K:text`, `[text]`, `text -k`. A line without the word "text"
 * is taken as a prefix. Throws a plain message for a tag with neither part.
 */
export function parseProxyTags(written: string): ProxyTag[] {
  const tags: ProxyTag[] = [];
  for (const line of written.split(/\n|,(?![^[]*\])/)) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const at = trimmed.toLowerCase().indexOf(PLACEHOLDER);
    const prefix = at < 0 ? trimmed : trimmed.slice(0, at).trimStart();
    const suffix = at < 0 ? '' : trimmed.slice(at + PLACEHOLDER.length).trimEnd();
    if (!prefix && !suffix) throw new Error(`The proxy tag “${trimmed}” needs something before or after “text”, like K:text or [text].`);
    tags.push(tagOf(prefix, suffix));
  }
  return tags;
}

/** A tag as people write it: `K:text`. */
export function writeProxyTag(tag: ProxyTag): string {
  return `${tag.prefix ?? ''}${PLACEHOLDER}${tag.suffix ?? ''}`;
}

export function tagOf(prefix: string | null | undefined, suffix: string | null | undefined): ProxyTag {
  return { ...(prefix ? { prefix } : {}), ...(suffix ? { suffix } : {}) };
}

/**
 * The text inside the tag when `content` is written with it, else undefined.
 * As PluralKit does: the tag's prefix and suffix are matched case-insensitively,
 * the longest tag wins, and what is left must not be empty (an attachment alone
 * counts as something to say).
 */
export function matchProxyTag(content: string, tags: ProxyTag[], hasAttachments = false): { tag: ProxyTag; text: string } | undefined {
  const lower = content.toLowerCase();
  const sorted = [...tags].sort((a, b) => length(b) - length(a));
  for (const tag of sorted) {
    const prefix = (tag.prefix ?? '').toLowerCase();
    const suffix = (tag.suffix ?? '').toLowerCase();
    if (!prefix && !suffix) continue;
    if (content.length < prefix.length + suffix.length) continue;
    if (!lower.startsWith(prefix) || !lower.endsWith(suffix)) continue;
    const text = content.slice(prefix.length, content.length - suffix.length).trim();
    if (text || hasAttachments) return { tag, text };
  }
  return undefined;
}

function length(tag: ProxyTag): number {
  return (tag.prefix?.length ?? 0) + (tag.suffix?.length ?? 0);
}

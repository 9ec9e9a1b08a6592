import { describe, expect, it } from 'vitest';
import { matchProxyTag, parseProxyTags, writeProxyTag } from '../../src/personas/proxy-tags.js';

describe('proxy tags, as Tupperbox and PluralKit write them', () => {
  it('reads K:text, [text] and text -k, one per line or comma-separated', () => {
    expect(parseProxyTags('K:text\n[text]\ntext -k')).toEqual([{ prefix: 'K:' }, { prefix: '[', suffix: ']' }, { suffix: ' -k' }]);
    expect(parseProxyTags('k: text, {text}')).toEqual([{ prefix: 'k: ' }, { prefix: '{', suffix: '}' }]);
    expect(parseProxyTags('K>')).toEqual([{ prefix: 'K>' }]);
    expect(() => parseProxyTags('text')).toThrow(/needs something before or after/);
    expect(['K:text', '[text]', 'text -k'].map((written) => writeProxyTag(parseProxyTags(written)[0]!))).toEqual([
      'K:text',
      '[text]',
      'text -k',
    ]);
  });

  it('matches case-insensitively, the longest tag first, and never to an empty message', () => {
    const tags = [{ prefix: 'K:' }, { prefix: 'K:[', suffix: ']' }, { suffix: ' -k' }];
    expect(matchProxyTag('k: hello there', tags)).toEqual({ tag: { prefix: 'K:' }, text: 'hello there' });
    expect(matchProxyTag('K:[both]', tags)?.text).toBe('both');
    expect(matchProxyTag('walks in -K', tags)?.text).toBe('walks in');
    expect(matchProxyTag('K:', tags)).toBeUndefined();
    expect(matchProxyTag('K:', tags, true)?.text).toBe('');
    expect(matchProxyTag('Kestrel: hi', tags)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { webhookUsername } from '../../src/discord/webhooks.js';

describe('webhook names Discord would refuse', () => {
  it('breaks "discord" and "clyde" with a zero-width joiner, in any case', () => {
    expect(webhookUsername('Clyde the Discord Bard')).toBe('C\u200dlyde the D\u200discord Bard');
    expect(webhookUsername('CLYDE')).not.toMatch(/clyde/i);
  });

  it('shortens names over 80 characters and pads one-character names', () => {
    expect(webhookUsername('x'.repeat(120))).toHaveLength(80);
    expect(webhookUsername('Q').length).toBe(2);
    expect(webhookUsername('  Aria   of  Lindon ')).toBe('Aria of Lindon');
  });
});

import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { sourcesEmbed } from '../../src/discord/render/memory.js';
import type { ShownSource } from '../../src/memory/sources.js';

const earlier: ShownSource = {
  kind: 'conversation',
  id: 'm1',
  label: 'said 2026-01-02',
  jump: { guildId: '930000000000000001', channelId: '940000000000000001', messageId: '950000000000000001' },
  excerpt: 'The keeper counts ships.',
  state: 'shown',
};

describe('the Sources view', () => {
  it('links an earlier exchange to its message on the Discord web host, discord.com unless DISCORD_WEB_URL says otherwise', () => {
    expect(loadConfig({}).discord.webUrl).toBe('https://discord.com');
    const standard = sourcesEmbed('Aria', [earlier], loadConfig({}).discord.webUrl).data.description;
    expect(standard).toContain('[said 2026-01-02](https://discord.com/channels/930000000000000001/940000000000000001/950000000000000001)');
    const own = sourcesEmbed('Aria', [earlier], loadConfig({ DISCORD_WEB_URL: 'https://chat.example.org/' }).discord.webUrl).data
      .description;
    expect(own).toContain('(https://chat.example.org/channels/930000000000000001/940000000000000001/950000000000000001)');
    // A direct message has no server: Discord's @me.
    const direct = sourcesEmbed(
      'Aria',
      [{ ...earlier, jump: { channelId: '940000000000000002', messageId: '950000000000000002' } }],
      'https://discord.com',
    );
    expect(direct.data.description).toContain('(https://discord.com/channels/@me/940000000000000002/950000000000000002)');
  });

  it('shows a note about the person to that person, says only that one was used to anyone else, and links a pinned message', () => {
    const pin: ShownSource = { ...earlier, kind: 'pin', id: 'p1', label: 'Ione', excerpt: 'The vault password is heron.' };
    const mine = sourcesEmbed(
      'Aria',
      [{ kind: 'note', id: 'n1', label: 'about you', excerpt: 'Collects old maps.', state: 'shown' }, pin],
      'https://discord.com',
    ).data.description;
    expect(mine).toContain('**📝 Note** · about you\n> Collects old maps.');
    expect(mine).toContain(
      '**📌 Pinned** · [Ione](https://discord.com/channels/930000000000000001/940000000000000001/950000000000000001)\n> The vault password is heron.',
    );
    const theirs = sourcesEmbed('Aria', [{ kind: 'note', id: 'n1', state: 'private' }], 'https://discord.com').data.description;
    expect(theirs).toBe('**📝 Note**\n*a note about someone else*');
  });
});

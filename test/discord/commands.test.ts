import { describe, expect, it } from 'vitest';
import { loadCommands } from '../../src/discord/load-commands.js';

describe('commands/', () => {
  it('every file exports a command whose definition Discord would accept', async () => {
    const commands = await loadCommands();
    expect([...commands.keys()].sort()).toEqual([
      'Add to character knowledge',
      'Delete persona message',
      'Edit persona message',
      'character',
      'chat',
      'help',
      'knowledge',
      'lore',
      'memory',
      'persona',
      'provider',
      'scene',
      'settings',
      'usage',
    ]);
    for (const [name, command] of commands) {
      const json = command.data.toJSON() as { name: string; description?: string; options?: { name: string }[] };
      expect(json.name).toBe(name);
      if (json.description !== undefined) expect(json.description.length).toBeLessThanOrEqual(100);
      expect(JSON.stringify(json).length).toBeLessThan(8000);
    }
  });
});

/** Discord's limit for a message's content. */
export const MESSAGE_LIMIT = 2000;

/**
 * Splits text into parts of at most `limit` characters, preferring to break
 * between paragraphs, then lines, then sentences, then words; a word longer
 * than the limit is cut. Code fences left open at a break are closed and
 * reopened so each part renders on its own.
 */
export function splitMessage(text: string, limit = MESSAGE_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  let openFence: string | null = null;
  while (rest.length > 0) {
    const prefix = openFence ? `${openFence}\n` : '';
    const room = limit - prefix.length - 4; // room for a closing fence
    if (prefix.length + rest.length <= limit) {
      parts.push(prefix + rest);
      break;
    }
    const cut = breakPoint(rest, room);
    let part = prefix + rest.slice(0, cut).trimEnd();
    rest = rest.slice(cut).trimStart();
    openFence = unclosedFence(part);
    if (openFence) part += '\n```';
    parts.push(part);
  }
  return parts.length ? parts : [''];
}

function breakPoint(text: string, room: number): number {
  const window = text.slice(0, room + 1);
  const minimum = Math.floor(room * 0.5);
  for (const pattern of [/\n\s*\n/g, /\n/g, /[.!?…]["')\]]?\s/g, /\s/g]) {
    let best = -1;
    for (const match of window.matchAll(pattern)) {
      const end = match.index + match[0].length;
      if (end <= room) best = end;
    }
    if (best >= minimum) return best;
  }
  return room;
}

/** The opening line of a ``` fence left open in `text`, if any. */
function unclosedFence(text: string): string | null {
  let open: string | null = null;
  for (const line of text.split('\n')) {
    const fence = /^\s*```(\S*)/.exec(line);
    if (fence) open = open ? null : `\`\`\`${fence[1] ?? ''}`;
  }
  return open;
}

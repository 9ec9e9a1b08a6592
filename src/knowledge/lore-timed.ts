import type { LoreItem } from './lore.js';

/**
 * Timed effects of lore entries in one conversation, kept between replies in the conversation's settings
 * (ST keeps the same in `chat_metadata.timedWorldInfo`): per entry id, the chat length at which the effect
 * started and the one at which it ends. `protected` marks a cooldown that began when a sticky effect ended.
 */
export interface TimedLore {
  sticky: Record<string, TimedEffect>;
  cooldown: Record<string, TimedEffect>;
}

export interface TimedEffect {
  start: number;
  end: number;
  protected?: boolean;
}

export type TimedKind = 'sticky' | 'cooldown' | 'delay';

/**
 * SillyTavern's `WorldInfoTimedEffects` (public/scripts/world-info.js) for one scan: which entries are sticky, on
 * cooldown or delayed at this chat length, and the state to keep after the scan.
 */
export class TimedEffects {
  readonly #chatLength: number;
  readonly #state: TimedLore;
  readonly #active: Record<TimedKind, Set<string>> = { sticky: new Set(), cooldown: new Set(), delay: new Set() };

  constructor(chatLength: number, items: LoreItem[], previous?: TimedLore) {
    this.#chatLength = chatLength;
    this.#state = { sticky: { ...previous?.sticky }, cooldown: { ...previous?.cooldown } };
    const byId = new Map(items.map((item) => [item.id, item]));
    // checkTimedEffects: sticky first (its end may start a cooldown), then cooldown, then delay.
    for (const kind of ['sticky', 'cooldown'] as const) {
      for (const [id, effect] of Object.entries(this.#state[kind])) {
        const item = byId.get(id);
        // The chat did not advance past the start (a regenerated reply): the effect is undone, unless protected.
        if (chatLength <= effect.start && !effect.protected) {
          delete this.#state[kind][id];
          continue;
        }
        if (!item) {
          if (chatLength >= effect.end) delete this.#state[kind][id];
          continue;
        }
        if (!item.entry[kind]) {
          delete this.#state[kind][id];
          continue;
        }
        if (chatLength >= effect.end) {
          delete this.#state[kind][id];
          // A sticky entry that ends goes on cooldown at once (ST's #onEnded.sticky).
          if (kind === 'sticky' && item.entry.cooldown) {
            this.#state.cooldown[id] = { start: chatLength, end: chatLength + item.entry.cooldown, protected: true };
            this.#active.cooldown.add(id);
          }
          continue;
        }
        this.#active[kind].add(id);
      }
    }
    // #checkDelayEffect: an entry with delay N stays off while the chat has fewer than N messages.
    for (const item of items) if (item.entry.delay && chatLength < item.entry.delay) this.#active.delay.add(item.id);
  }

  isActive(kind: TimedKind, item: LoreItem): boolean {
    return this.#active[kind].has(item.id);
  }

  /** setTimedEffects: every activated entry with sticky or cooldown starts that effect, unless it runs already. */
  activated(items: LoreItem[]): TimedLore {
    for (const item of items) {
      for (const kind of ['sticky', 'cooldown'] as const) {
        const length = item.entry[kind];
        if (length && !this.#state[kind][item.id]) this.#state[kind][item.id] = { start: this.#chatLength, end: this.#chatLength + length };
      }
    }
    return this.#state;
  }
}

/** The stored state, read defensively (it lives in a JSON column). */
export function timedLoreOf(value: unknown): TimedLore | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const pick = (raw: unknown): Record<string, TimedEffect> => {
    if (!raw || typeof raw !== 'object') return {};
    return Object.fromEntries(
      Object.entries(raw as Record<string, TimedEffect>).filter(
        ([, effect]) => effect && typeof effect.start === 'number' && typeof effect.end === 'number',
      ),
    );
  };
  const state = value as Partial<TimedLore>;
  return { sticky: pick(state.sticky), cooldown: pick(state.cooldown) };
}

import type { ScanEntry } from './lore-select.js';
import type { TimedEffects } from './lore-timed.js';

const DEFAULT_WEIGHT = 100;

/**
 * SillyTavern's `filterByInclusionGroups` (public/scripts/world-info.js): of the entries activated in one scan
 * step that share an inclusion group, one stays. Sticky members win outright and members on cooldown or delay
 * leave (`filterGroupsByTimedEffects`); with group scoring, members matching fewer keys leave
 * (`filterGroupsByScoring`); a group that already has a member in the prompt admits no other; an entry with
 * group override wins (highest order first); otherwise one is drawn by weight. Removes losers from `fresh`.
 */
export function filterByInclusionGroups(
  fresh: ScanEntry[],
  alreadyActivated: ScanEntry[],
  tools: { timed: TimedEffects; random: () => number; score: (entry: ScanEntry) => number },
): void {
  const grouped = new Map<string, ScanEntry[]>();
  for (const entry of fresh) {
    for (const group of groupsOf(entry)) grouped.set(group, [...(grouped.get(group) ?? []), entry]);
  }
  if (!grouped.size) return;
  const remove = (entry: ScanEntry) => {
    const index = fresh.indexOf(entry);
    if (index >= 0) fresh.splice(index, 1);
  };
  const removeAllBut = (group: ScanEntry[], chosen?: ScanEntry) => group.forEach((entry) => entry !== chosen && remove(entry));

  const hasSticky = new Map<string, boolean>();
  for (const [key, group] of grouped) {
    const sticky = group.filter((entry) => tools.timed.isActive('sticky', entry.item));
    hasSticky.set(key, sticky.length > 0);
    if (sticky.length) group.filter((entry) => !sticky.includes(entry)).forEach(remove);
    group.filter((entry) => tools.timed.isActive('cooldown', entry.item) || tools.timed.isActive('delay', entry.item)).forEach(remove);
  }

  for (const [key, group] of grouped) {
    if (hasSticky.get(key) || !group.some((entry) => entry.item.entry.useGroupScoring)) continue;
    const scores = group.map(tools.score);
    const best = Math.max(...scores);
    for (let i = 0; i < group.length; i++) {
      if (group[i]!.item.entry.useGroupScoring && scores[i]! < best) {
        remove(group[i]!);
        group.splice(i, 1);
        scores.splice(i, 1);
        i--;
      }
    }
  }

  for (const [key, group] of grouped) {
    if (hasSticky.get(key)) continue;
    if (alreadyActivated.some((entry) => entry.item.entry.group === key)) {
      removeAllBut(group);
      continue;
    }
    if (group.length <= 1) continue;
    const overrides = group.filter((entry) => entry.item.entry.groupOverride).sort((a, b) => b.order - a.order);
    if (overrides.length) {
      removeAllBut(group, overrides[0]);
      continue;
    }
    const total = group.reduce((sum, entry) => sum + (entry.item.entry.groupWeight ?? DEFAULT_WEIGHT), 0);
    const roll = tools.random() * total;
    let weight = 0;
    const winner = group.find((entry) => (weight += entry.item.entry.groupWeight ?? DEFAULT_WEIGHT) >= roll);
    if (winner) removeAllBut(group, winner);
  }
}

function groupsOf(entry: ScanEntry): string[] {
  return (entry.item.entry.group ?? '').split(/,\s*/).filter(Boolean);
}

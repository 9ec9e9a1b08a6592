/**
 * Macros, with SillyTavern's meanings (public/scripts/macros.js, `evaluateMacros` / script.js `substituteParams`),
 * applied the same way to everything that goes into a prompt: the card, lore, examples, the summary, memories.
 *
 * Who `{{user}}` is, per place (see README, "The prompt"):
 * - one-to-one (a DM, or a channel where one person is talking): that person;
 * - a channel with several people: the person being answered, i.e. the author of the message the reply answers
 *   (not whoever happened to speak last). The history itself is stored with real names and is never re-filled,
 *   so what was said to Alex stays said to Alex when the character next answers Bob.
 * A persona (issue 19) replaces the person's name here: `user` is the persona's name when one is given.
 */
export interface MacroContext {
  char: string;
  user: string;
  /** What {{original}} stands for: the default prompt a card's own prompt replaces. */
  original?: string;
  /** Everyone present (ST's {{group}}); the character alone when absent. */
  group?: string[];
  /** The character's card fields, for {{description}}, {{personality}}, {{scenario}}, {{persona}}, {{mesExamples}}. */
  fields?: { description?: string; personality?: string; scenario?: string; persona?: string; mesExamples?: string };
  /** The latest message and the latest person's message, for {{lastMessage}} / {{lastUserMessage}}. */
  lastMessage?: string;
  lastUserMessage?: string;
  /** When the person wrote before their latest message ({{idle_duration}}). */
  previousUserMessageAt?: Date;
  now?: Date;
  /** 0 ≤ x < 1; Math.random unless a test fixes it. */
  random?: () => number;
  /** IANA time zone for {{time}}, {{date}}, {{weekday}} (the process's own by default). */
  timeZone?: string;
}

/** Fills every macro ST knows that makes sense here; unknown {{…}} are left as written, as ST leaves them. */
export function fillMacros(text: string, context: MacroContext): string {
  if (!text) return text;
  const now = context.now ?? new Date();
  const random = context.random ?? Math.random;
  const date = (options: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat('en-US', { timeZone: context.timeZone, ...options }).format(now);
  const group = context.group?.length ? context.group.join(', ') : context.char;
  const fields = context.fields ?? {};
  const simple: Record<string, () => string> = {
    user: () => context.user,
    char: () => context.char,
    group: () => group,
    charifnotgroup: () => (context.group && context.group.length > 1 ? group : context.char),
    original: () => context.original ?? '',
    description: () => fields.description ?? '',
    personality: () => fields.personality ?? '',
    scenario: () => fields.scenario ?? '',
    persona: () => fields.persona ?? '',
    mesexamples: () => fields.mesExamples ?? '',
    lastmessage: () => context.lastMessage ?? '',
    lastusermessage: () => context.lastUserMessage ?? '',
    newline: () => '\n',
    noop: () => '',
    // moment's 'LT', 'LL', 'dddd' in the en locale: "3:04 PM", "December 3, 2026", "Thursday".
    time: () => date({ hour: 'numeric', minute: '2-digit' }),
    date: () => date({ month: 'long', day: 'numeric', year: 'numeric' }),
    weekday: () => date({ weekday: 'long' }),
    isotime: () => date({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    isodate: () => now.toISOString().slice(0, 10),
    idle_duration: () => (context.previousUserMessageAt ? humanize(now.getTime() - context.previousUserMessageAt.getTime()) : 'just now'),
  };
  let out = text
    // {{// comment}} disappears; {{trim}} eats the new lines around it.
    .replace(/\{\{\/\/[\s\S]*?\}\}/g, '')
    .replace(/<USER>/gi, context.user)
    .replace(/<BOT>|<CHAR>/gi, context.char)
    .replace(/<CHARIFNOTGROUP>/gi, simple.charifnotgroup!())
    .replace(/<GROUP>/gi, group);
  // {{original}} first: its replacement is not scanned again (ST replaces it once, with the default prompt).
  const originals = (out.match(/\{\{original\}\}/gi) ?? []).length;
  if (originals) out = out.replace(/\{\{original\}\}/i, context.original ?? '').replace(/\{\{original\}\}/gi, '');
  out = out.replace(/\{\{(random|pick)\s?::?([^}]*)\}\}/gi, (_, __, list: string) => {
    const options = list.includes('::')
      ? list.split('::')
      : list
          .replace(/\\,/g, '\u0000')
          .split(',')
          .map((item) => item.replace(/\u0000/g, ','));
    return options.length ? options[Math.floor(random() * options.length)]!.trim() : '';
  });
  out = out.replace(/\{\{roll[\s:]+([^}]+)\}\}/gi, (whole, formula: string) => roll(formula.trim(), random) ?? whole);
  out = out.replace(/\{\{([a-z_]+)\}\}/gi, (whole, name: string) => simple[name.toLowerCase()]?.() ?? whole);
  return out.replace(/(?:\r?\n)*\{\{trim\}\}(?:\r?\n)*/gi, '');
}

/** ST's {{roll:…}} (droll): "d6", "2d6+1", or a bare number of sides. */
function roll(formula: string, random: () => number): string | undefined {
  const match = /^(\d*)d(\d+)([+-]\d+)?$/i.exec(formula) ?? (/^\d+$/.test(formula) ? ['', '1', formula, undefined] : null);
  if (!match) return undefined;
  const count = Math.min(Number(match[1] || 1), 100);
  const sides = Number(match[2]);
  if (!sides) return undefined;
  let total = Number(match[3] ?? 0);
  for (let i = 0; i < count; i++) total += 1 + Math.floor(random() * sides);
  return String(total);
}

/** moment.duration(ms).humanize() in English, which ST's {{idle_duration}} uses. */
function humanize(ms: number): string {
  const seconds = Math.abs(ms) / 1000;
  const minutes = seconds / 60;
  const hours = minutes / 60;
  const days = hours / 24;
  if (seconds < 45) return 'a few seconds';
  if (seconds < 90) return 'a minute';
  if (minutes < 45) return `${Math.round(minutes)} minutes`;
  if (minutes < 90) return 'an hour';
  if (hours < 22) return `${Math.round(hours)} hours`;
  if (hours < 36) return 'a day';
  if (days < 26) return `${Math.round(days)} days`;
  if (days < 45) return 'a month';
  if (days < 320) return `${Math.round(days / 30.4)} months`;
  if (days < 548) return 'a year';
  return `${Math.round(days / 365)} years`;
}

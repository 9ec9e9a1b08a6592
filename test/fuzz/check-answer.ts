import type { FakeInteraction, InteractionResponse } from '../discord-fake/index.js';

export interface Finding {
  /** 'bug': Discord could send this input and the bot misbehaved; 'note': worth knowing, not wrong. */
  severity: 'bug' | 'note';
  problem: string;
  input: string;
}

export interface CaseInfo {
  kind: string;
  input: unknown;
  /** Discord itself would send this (types, choices, bounds and required options respected). */
  wellFormed: boolean;
  seed: number;
  n: number;
}

const GENERIC = /went wrong on our side|failed on our side/;
const STACK =
  /\n\s+at \S.*:\d+:\d+|\b(TypeError|ReferenceError|RangeError|SyntaxError|DiscordjsTypeError|DriverException|ZodError)\b|node_modules/;

export function describeCase(kind: string, input: unknown): string {
  const text = JSON.stringify(input, (_key, value: unknown) =>
    Buffer.isBuffer(value) || (value as { type?: string })?.type === 'Buffer' ? `<${(value as Buffer).length ?? '?'} bytes>` : value,
  );
  return `${kind} ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`;
}

/** Every text a person would read in a response: content, embeds, choices. */
function textsOf(response: InteractionResponse): string[] {
  const data = response.data ?? {};
  const out: string[] = [];
  if (typeof data.content === 'string') out.push(data.content);
  for (const embed of (data.embeds ?? []) as {
    title?: string;
    description?: string;
    footer?: { text?: string };
    fields?: { name: string; value: string }[];
  }[]) {
    out.push(
      embed.title ?? '',
      embed.description ?? '',
      embed.footer?.text ?? '',
      ...(embed.fields ?? []).flatMap((f) => [f.name, f.value]),
    );
  }
  for (const choice of (data.choices ?? []) as { name: string }[]) out.push(choice.name);
  return out;
}

/**
 * Waits for the bot's answer to one fuzzed interaction and judges it: an answer must come (autocomplete may stay
 * silent), be in plain words (no stack trace, no "undefined" or "[object Object]" the input did not contain) and fit
 * Discord's limits. Deferred answers are followed to their final text.
 */
export async function checkAnswer(interaction: FakeInteraction, info: CaseInfo): Promise<Finding | undefined> {
  const label = `#${info.n} (FUZZ_SEED=${info.seed}) ${describeCase(info.kind, info.input)}`;
  // Discord waits 3 s for autocomplete choices; other answers get some slack on a busy machine.
  const first = await interaction.waitForResponse(undefined, info.kind === 'autocomplete' ? 3500 : 10_000).catch(() => undefined);
  if (!first) {
    if (info.kind === 'autocomplete') return undefined;
    return { severity: 'bug', problem: 'no answer at all (Discord shows "This interaction failed")', input: label };
  }
  if (first.kind === 'callback' && first.type === 5) {
    // Deferred reply: the real answer is an edit or a follow-up; knowledge uploads edit several times, the last one counts.
    await interaction.waitForResponse((r) => r !== first && r.kind !== 'callback', 20_000).catch(() => undefined);
  }
  if (/^(⏳|⚙️)/.test(String(first.data?.content ?? ''))) {
    // /knowledge add edits its reply as the work advances: wait for the end (✅ or ❌), 20 s at most.
    await interaction
      .waitForResponse((r) => r.kind === 'edit-original' && /^(✅|❌)/.test(String(r.data?.content ?? '')), 20_000)
      .catch(() => undefined);
  }
  const inputText = JSON.stringify(info.input);
  for (const response of interaction.responses) {
    if (response.type === 9) continue; // a modal: its fields are the bot's own labels
    for (const text of textsOf(response)) {
      if (STACK.test(text))
        return { severity: 'bug', problem: `a stack trace or error class reached the user: ${text.slice(0, 300)}`, input: label };
      for (const word of ['undefined', '[object Object]', 'NaN']) {
        if (text.includes(word) && !inputText.includes(word))
          return { severity: 'bug', problem: `"${word}" shown to the user: ${text.slice(0, 300)}`, input: label };
      }
      if (response.kind !== 'callback' || response.type !== 8) {
        if (text.length > 4096) return { severity: 'bug', problem: `a text of ${text.length} characters`, input: label };
      }
    }
    const content = response.data?.content;
    if (typeof content === 'string' && content.length > 2000)
      return { severity: 'bug', problem: `content of ${content.length} characters`, input: label };
  }
  const generic = interaction.responses.flatMap(textsOf).find((text) => GENERIC.test(text));
  if (generic) {
    // An internal error: fine for input Discord would never send (it checks types and bounds), a bug otherwise.
    return { severity: info.wellFormed ? 'bug' : 'note', problem: `internal error: ${generic.slice(0, 200)}`, input: label };
  }
  return undefined;
}

/**
 * How a stored message's speaker is named in prompts, summaries, notes, pins and Sources: a reply by its character,
 * anything else by the name its author had (a persona's when they wore one).
 */
export function speakerName(role: string, characterName: string | null | undefined, authorName: string | null | undefined): string {
  return role === 'assistant' ? (characterName ?? 'Character') : (authorName ?? 'Someone');
}

/**
 * Whether a finished exchange is worth remembering. Small talk, one-word
 * lines and a question the character could not answer carry no fact, and
 * remembered they only crowd out the exchanges that do (issue 15: recalled
 * like the rest, they took the memory budget).
 */

/** Words that carry nothing on their own: greetings, fillers, acknowledgements, and common function words. */
const EMPTY_WORDS = new Set(
  (
    'a an the and or but so if of to in on at by for with from as is am are was were be been being it its this that ' +
    'these those there here i me my mine you your yours we us our he him his she her they them their what who how why ' +
    'when where which do does did done have has had can could will would shall should may might must not no yes yeah ' +
    'yep nope ok okay k kk sure fine cool nice great good well oh ah uh um hmm huh wow lol lmao haha hehe xd hi hey ' +
    'hello yo sup bye goodbye night morning evening thanks thank thx ty please pls np welcome sorry just really very ' +
    'too also still again maybe all any some much many more most less little lot now then today tonight doing going ' +
    "how's what's i'm you're it's that's don't doesn't didn't can't won't isn't aren't im youre dont cant " +
    'about like know think guess mean right alright anyway though'
  ).split(/\s+/),
);

/** A reply that says the character does not know. */
const UNSURE =
  /^\W*(i['’]?m not (sure|certain)|i don['’]?t (know|remember|recall)|i (can['’]?t|cannot) (say|remember|recall)|no idea|not sure|i have no idea|who knows)\b/i;

/** The words of a text that carry meaning (two characters or more, not in EMPTY_WORDS): names, numbers, nouns. */
export function contentWords(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/’/g, "'")
      .match(/[\p{L}\p{N}']+/gu) ?? []
  ).filter((word) => word.length >= 2 && !EMPTY_WORDS.has(word));
}

/**
 * An exchange is worth keeping when the people's lines hold a content word
 * ("I'm Bo" and "Pizza." do; "hi!", "lol ok" and "thanks!" do not), unless the reply only says it does not know (short and
 * unsure) and the people only asked: a question without an answer holds no fact.
 */
export function worthRemembering(peopleLines: string[], reply: string): boolean {
  const said = peopleLines.join('\n');
  if (!contentWords(said).length) return false;
  const onlyAsked = peopleLines.every((line) => /\?\s*$/.test(line.trim()));
  if (onlyAsked && reply.trim().length < 160 && UNSURE.test(reply.trim())) return false;
  return true;
}

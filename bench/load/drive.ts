import type { LoadParams } from './params.js';
import type { LoadWorld, Place } from './world.js';

/** A message a simulated person posted. */
export interface SentMessage {
  /** `m17`: written into the message, so prompts and replies can be matched to it. */
  tag: string;
  discordId: string;
  place: Place;
  userId: string;
  /** When the fake gateway dispatched MESSAGE_CREATE (Date.now()). */
  dispatchedAt: number;
}

const LINES = [
  'any news from the harbour today',
  'I order another round for the table',
  'what do you make of the weather',
  'tell me about the road north',
  'is the ferry running tonight',
  'I lean closer and listen',
  'we should leave before dawn',
  'who was that stranger at the door',
];

/**
 * Every person posts into their place at random, a Poisson process with mean
 * gap `meanGapSeconds`, for `minutes`. In scenes, about half the messages
 * name one of the characters (who then answers first).
 */
export async function drive(world: LoadWorld, params: LoadParams, random: () => number): Promise<SentMessage[]> {
  const sent: SentMessage[] = [];
  const endAt = Date.now() + params.minutes * 60_000;
  const gap = () => -Math.log(1 - random()) * params.meanGapSeconds * 1000;
  await Promise.all(
    world.people.map(async (person) => {
      for (let at = Date.now() + gap(); at < endAt; at += gap()) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
        const tag = `m${sent.length + 1}`;
        const line = LINES[Math.floor(random() * LINES.length)]!;
        const { place } = person;
        const named =
          place.kind === 'scene' && random() < 0.5 ? `${place.characters[Math.floor(random() * place.characters.length)]!}, ` : '';
        const message = world.discord.userSays(place.id, person.id, `${named}${line} (${tag})`);
        sent.push({ tag, discordId: message.id, place, userId: person.id, dispatchedAt: dispatchTime(world, message.id) });
      }
    }),
  );
  return sent;
}

function dispatchTime(world: LoadWorld, messageId: string): number {
  for (let i = world.discord.dispatches.length - 1; i >= 0; i--) {
    const dispatch = world.discord.dispatches[i]!;
    if (dispatch.t === 'MESSAGE_CREATE' && (dispatch.d as { id?: string }).id === messageId) return dispatch.at;
  }
  return Date.now();
}

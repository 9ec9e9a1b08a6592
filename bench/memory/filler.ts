/**
 * Small talk between the regulars and Wren: weather, plans, stories, food,
 * films, work and the town, with enough vocabulary that no topic is trivially
 * told apart, and with near misses (a friend's sister, a neighbour's cat,
 * someone else's birthday) so the facts are not the only lines that mention
 * such things.
 */
import type { Rng } from './random.js';

const FRIENDS = [
  'Rosa',
  'Kit',
  'Marguerite',
  'Hamish',
  'Priya',
  'Oskar',
  'Bea',
  'Lachlan',
  'Wendell',
  'Suki',
  'Fen',
  'Agnes',
  'Ravi',
  'Juno',
  'Corin',
  'Delphine',
];
const PLACES = [
  'the harbour wall',
  'the old mill',
  'the farmers’ market',
  'the library',
  'the allotments',
  'the station',
  'the bakery on Quay Street',
  'the park by the river',
  'the little cinema',
  'the swimming baths',
  'the garden centre',
  'the museum',
  'the cliff path',
  'the Anchor',
  'the bus shelter',
  'the charity shop',
  'the bowling green',
  'the church hall',
  'the pier',
  'the hardware shop',
];
const WEATHER = [
  'drizzle all morning',
  'fog rolling in off the sea',
  'a proper gale',
  'blazing sunshine',
  'sleet sideways',
  'a double rainbow over the bay',
  'thunder rumbling round the hills',
  'frost on every windscreen',
  'muggy, sticky air',
  'hail the size of peas',
  'a sky like wet slate',
  'wind strong enough to lean on',
  'a soft golden evening',
  'rain that could not decide',
];
const WHEN = [
  'on Monday',
  'on Tuesday',
  'on Wednesday',
  'on Thursday',
  'on Friday',
  'this weekend',
  'tomorrow',
  'next week',
  'after work',
  'on Sunday morning',
];
const PLANS = [
  'repaint the bathroom',
  'bake a loaf of rye',
  'walk the coast path to the next bay',
  'clear out the shed',
  'try the new ramen place',
  'see the new film at the little cinema',
  'visit the aquarium',
  'learn a few chess openings',
  'fix the dripping tap',
  'plant tulip bulbs',
  'go to the jazz night at the Anchor',
  'finish that thousand-piece jigsaw',
  'sort the photo albums',
  'take the ferry over to the island',
  'go to the car boot sale',
  'build a bird box',
  'make marmalade',
  'sign up for the pub quiz',
];
const FOODS = [
  'lentil curry',
  'fish pie',
  'a sourdough loaf',
  'lemon drizzle cake',
  'pork dumplings',
  'a cheese toastie',
  'shakshuka',
  'paella',
  'roast squash with sage',
  'buttermilk pancakes',
  'a ploughman’s lunch',
  'chilli with cornbread',
  'gingerbread',
  'a bowl of ramen',
];
const SCREEN = [
  'a documentary about octopuses',
  'an old black-and-white detective film',
  'a thriller set on a night train',
  'a memoir by a mountaineer',
  'a comic about space pirates',
  'a baking competition',
  'a quiz show with impossible questions',
  'a costume drama with terrible wigs',
  'a history of lighthouses',
  'a nature programme about puffins',
  'a crime novel set in Reykjavik',
  'a travel book about the Silk Road',
];
const STORIES = [
  'a seagull stole a whole pasty right out of her hand',
  'he got locked in the library after closing and read till midnight',
  'the ferry turned back because of a sheep on the slipway',
  'she found a message in a bottle, only it was a shopping list',
  'the vicar won the pie-eating contest',
  'somebody parked a tractor outside the bank',
  'the town clock struck thirteen at noon',
  'a tourist asked him where they keep the sea at low tide',
  'she dropped her keys down a drain and fished them out with a magnet',
  'the brass band marched the wrong way down Quay Street',
  'the bakery sold out of everything by eight',
  'a seal fell asleep on the lifeboat ramp',
];
const WORK = [
  'the rota changed again without anyone asking',
  'we had a three-hour meeting about meetings',
  'somebody brought in doughnuts',
  'the wifi went down all afternoon',
  'the photocopier ate my forms',
  'a new manager started and rearranged every desk',
  'there was a fire drill in the pouring rain',
  'my inbox is a shipwreck',
  'the van broke down on the way back',
];
const HOBBIES = [
  'knitting a scarf that is now longer than me',
  'watercolours of the boats',
  'birdwatching, I saw a heron standing in the shallows',
  'sudoku on the bus',
  'bouldering at the climbing wall',
  'learning Italian on my phone',
  'pressing flowers',
  'sea swimming with the early crowd',
  'making pottery bowls that all come out wonky',
  'photographing old doorways',
  'playing darts at the Anchor',
];
const NEWS = [
  'the council is finally fixing the potholes on Hill Road',
  'a new bakery opened where the bank used to be',
  'the ferry timetable changed again',
  'they found a seal pup on the beach',
  'the lifeboat crew raised money with a duck race',
  'the old cinema is showing silent films with a pianist',
  'the school fete is on the green',
  'someone painted a mural of mackerel on the harbour wall',
  'the post office is closing early on Wednesdays',
];
/** Near misses: words of the facts, said about other people and things. */
const NEAR_MISSES = [
  (f: string) => `${f}’s sister is getting married in June and I have to find a hat.`,
  (f: string) => `${f}’s cat keeps sleeping on our doorstep like it owns the place.`,
  (f: string) => `It is ${f}’s birthday on Saturday, we are getting a cake from the bakery.`,
  (f: string) => `${f} is allergic to cats, poor thing, sneezed all through dinner.`,
  (f: string) => `I drove ${f} to the hospital for a check-up, the car park was a nightmare.`,
  () => 'There was a busker at the station playing the violin, something very sad.',
  () => 'Someone on the bus was reading a thick novel with a bright orange cover.',
  () => 'The corner shop had a sale on peanut butter, three jars for the price of two.',
  (f: string) => `${f}’s dog barked at the postman for a full ten minutes.`,
  () => 'We watched a programme about Lisbon trams, it made me want to travel.',
  () => 'I walked past the watch repair shop on Hill Street, it is closing down.',
  () => 'The lido was freezing, I lasted one length.',
  (f: string) => `${f} teaches piano to half the children in town.`,
  (f: string) => `${f}’s brother moved to Glasgow for work.`,
  () => 'The football on the radio was dreadful, nil-nil in the rain.',
  (f: string) => `${f} grew up on a farm inland and still cannot get used to the gulls.`,
];
const INTERJECTIONS = [
  'Oh, lovely.',
  'Ha!',
  'Goodness.',
  'Well now.',
  'Is that so?',
  'Oh dear.',
  'Ah.',
  'Marvellous.',
  'Fancy that.',
  'Blimey.',
  'Hm.',
];
const QUESTIONS = [
  'What happened next?',
  'Did you take any photos?',
  'Will you go again?',
  'Who else was there?',
  'Was it worth it?',
  'How did that make you feel?',
  'Shall I put the kettle on?',
  'What are you having today?',
  'Are you staying for a second cup?',
];
const COMMENTS = [
  'That reminds me of a night in the Bay of Biscay.',
  'The sea has seen stranger things, mind.',
  'Some days are like that.',
  'I would have paid good money to see that.',
  'This town never runs out of stories.',
  'You always bring the best gossip.',
  'Takes all sorts, as my old bosun used to say.',
  'Keeps life interesting, I suppose.',
  'Sounds like a fine way to spend a day.',
];

export interface Exchange {
  text: string;
  reply: string;
}

type Topic = (rng: Rng) => Exchange;

const react = (rng: Rng, middle?: string) => [rng.pick(INTERJECTIONS), middle ?? rng.pick(COMMENTS), rng.pick(QUESTIONS)].join(' ');

const TOPICS: Topic[] = [
  (rng) => ({
    text: `${rng.pick(['What a day!', 'Honestly!', 'Did you see it?', 'Morning!'])} We had ${rng.pick(WEATHER)} ${rng.pick(['down by', 'all along', 'over'])} ${rng.pick(PLACES)}.`,
    reply: react(
      rng,
      rng.pick([
        'The barometer has been dropping since dawn.',
        'Good weather for ducks and nobody else.',
        'I shut the awning twice already.',
      ]),
    ),
  }),
  (rng) => ({
    text: `I am planning to ${rng.pick(PLANS)} ${rng.pick(WHEN)}, ${rng.pick(['if the weather holds', 'unless something comes up', 'assuming I can find the time', 'with a bit of luck'])}.`,
    reply: react(rng, rng.pick(['Good plan.', 'Rather you than me.', 'That sounds like a proper outing.', 'I will want a full report.'])),
  }),
  (rng) => ({
    text: `${rng.pick(FRIENDS)} told me ${rng.pick(STORIES)}. ${rng.pick(['I nearly spilled my tea.', 'I still do not believe it.', 'The whole street is talking.', 'You could not make it up.'])}`,
    reply: react(rng),
  }),
  (rng) => ({
    text: `${rng.pick(['Last night', 'For lunch', 'On Sunday', 'Yesterday'])} I made ${rng.pick(FOODS)} ${rng.pick(['and it actually worked', 'and burnt the bottom', 'from a recipe off the radio', 'for six people'])}.`,
    reply: react(rng, rng.pick(['Now I am hungry.', 'You must bring me a slice next time.', 'Cooking for others is the kindest thing.'])),
  }),
  (rng) => ({
    text: `We ${rng.pick(['watched', 'started', 'finished', 'gave up on'])} ${rng.pick(SCREEN)}. ${rng.pick(['Have you seen it?', 'Five stars.', 'Far too long.', 'The ending was daft.'])}`,
    reply: react(
      rng,
      rng.pick(['I only read sea stories myself.', 'I fell asleep in the first ten minutes of that one.', 'Add it to my list.']),
    ),
  }),
  (rng) => ({
    text: `Work was ${rng.pick(['chaos', 'fine, mostly', 'a slog', 'surprisingly quiet'])} today: ${rng.pick(WORK)}.`,
    reply: react(rng, rng.pick(['Sit down and let it go.', 'Every ship has its leaks.', 'Tomorrow will be better.'])),
  }),
  (rng) => ({
    text: `I have been ${rng.pick(HOBBIES)}. ${rng.pick(['It is very calming.', 'I am terrible at it.', 'It fills the evenings.', 'Recommend it.'])}`,
    reply: react(rng, rng.pick(['Hobbies keep the mind shipshape.', 'You will have to show me.', 'I tried that once and gave up.'])),
  }),
  (rng) => ({
    text: `${rng.pick(['Did you hear,', 'Big news:', 'Apparently', 'Word is'])} ${rng.pick(NEWS)}.`,
    reply: react(rng, rng.pick(['About time.', 'I heard it from the milkman first.', 'This town is full of surprises.'])),
  }),
  (rng) => ({
    text: `${rng.pick(NEAR_MISSES)(rng.pick(FRIENDS))} ${rng.pick(['Anyway.', 'Small world.', 'Such is life.', 'Just thought I would mention it.', 'Typical.', 'Funny old week.', 'That is all my news.'])}`,
    reply: react(rng),
  }),
  (rng) => ({
    text: `${rng.pick(['Could I have', 'I will take', 'Just'])} ${rng.pick(['a pot of Earl Grey', 'a mug of builder’s tea', 'a flat white', 'a hot chocolate', 'the mint tea'])} ${rng.pick(['and a scone', 'please', 'and whatever cake is left', 'to take away'])}, ${rng.pick(['I am parched', 'it has been a long morning', 'my treat today', 'I have ten minutes', 'while I wait for ' + rng.pick(FRIENDS)])}.`,
    reply: `${rng.pick(['Coming right up.', 'Aye aye.', 'One moment.'])} ${rng.pick(['The scones are still warm.', 'Last slice of the ginger cake is yours.', 'I will bring it over.'])} ${rng.pick(QUESTIONS)}`,
  }),
  (rng) => ({
    text: `${rng.pick(FRIENDS)} and I ${rng.pick(['walked', 'cycled', 'drove', 'took the bus'])} to ${rng.pick(PLACES)} ${rng.pick(WHEN.slice(0, 6))} and ${rng.pick(['got soaked', 'saw a kingfisher', 'bumped into half the town', 'found a lovely bench', 'got lost twice'])}.`,
    reply: react(rng),
  }),
  (rng) => ({
    text: `Tell me a story from your sailing days, ${rng.pick(['about storms', 'about a strange port', 'about your worst crew', 'about a shipwreck', 'something funny'])}.`,
    reply: `${rng.pick(['Once,', 'In my second year at sea,', 'Off the Azores,', 'Rounding the Horn,'])} ${rng.pick([
      'we had a parrot aboard that swore in four languages',
      'our mate fell asleep on watch and we sailed a day the wrong way',
      'a waterspout took our washing straight off the line',
      'we traded a crate of tea for a goat nobody wanted',
      'the cook tried to bake bread in a force nine',
    ])}. ${rng.pick(['True story.', 'I swear it.', 'Ask anyone.'])} ${rng.pick(QUESTIONS)}`,
  }),
];

export function fillerExchange(rng: Rng): Exchange {
  return rng.pick(TOPICS)(rng);
}

const PROBE_REPLIES = [
  'Now let me think, you did tell me that once.',
  'Give me a moment, my memory is a crowded harbour.',
  'Ah, I know this one, hold on.',
  'You told me ages ago, let me fish it out.',
  'Hm, it is on the tip of my tongue.',
];

export function probeReply(rng: Rng): string {
  return rng.pick(PROBE_REPLIES);
}

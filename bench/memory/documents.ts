/**
 * Knowledge documents of a few thousand words each (a town guide, a ship's
 * log, a recipe book, a guild chronicle), generated from sentence templates,
 * with the knowledge facts buried in the middle of a paragraph somewhere in
 * their middle half, among sentences on the same subjects.
 */
import { KNOWLEDGE_FACTS } from './facts.js';
import type { Rng } from './random.js';

export interface KnowledgeDocument {
  /** File name, also the knowledge item's name. */
  name: string;
  text: string;
  words: number;
}

type Fill = (rng: Rng) => string;

interface DocumentPlan {
  name: string;
  title: string;
  sections: string[];
  sentences: Fill[];
}

const NAMES = [
  'Silas Quill',
  'Maud Tregarthen',
  'Ezra Vane',
  'Hester Lyle',
  'Bram Okafor',
  'Ottilie Marsh',
  'Gideon Rook',
  'Perpetua Hale',
  'Anselm Grey',
  'Tamsin Roe',
];
const YEARS = ['1510', '1588', '1666', '1703', '1745', '1789', '1821', '1856', '1888', '1912', '1947'];
const DAYS = ['Mondays', 'Wednesdays', 'Thursdays', 'Saturdays', 'Sundays'];

const TOWN: DocumentPlan = {
  name: 'veyra-town-guide.md',
  title: 'A Visitor’s Guide to Veyra',
  sections: [
    'Arriving in Veyra',
    'The Harbour',
    'Streets and Squares',
    'Walks Along the Coast',
    'Eating and Drinking',
    'Markets and Shops',
    'History in Brief',
    'Festivals',
    'Practical Notes',
  ],
  sentences: [
    (r) =>
      `${r.pick(['Visitors', 'Walkers', 'Families', 'Day-trippers'])} ${r.pick(['arriving by', 'coming on', 'who take'])} the ${r.pick(['coast road', 'branch line', 'morning ferry', 'coach from the city'])} ${r.pick(['will first see', 'are greeted by', 'pass'])} ${r.pick(['the slate roofs of the upper town', 'the long breakwater', 'the twin chapels on the hill', 'the old customs house'])}.`,
    (r) =>
      `The ${r.pick(['harbourmaster', 'town crier', 'verger of St Petroc’s', 'keeper of the museum', 'ferryman'])}, ${r.pick(NAMES)}, ${r.pick(['is happy to answer questions', 'keeps a record of every ship that calls', 'has held the post since ' + r.pick(YEARS), 'gives a talk on Thursday evenings'])}.`,
    (r) =>
      `${r.pick(['Ropewalk Lane', 'Tanner’s Row', 'Quay Street', 'Chapel Steps', 'the Fish Strand', 'Belfry Square'])} ${r.pick(['is lined with', 'leads past', 'winds between', 'opens onto'])} ${r.pick(['whitewashed cottages', 'net lofts turned into studios', 'tea rooms and chandlers', 'the old salt cellars', 'a row of Georgian merchants’ houses'])}.`,
    (r) =>
      `The ${r.pick(['flower market', 'book stalls', 'craft fair', 'cattle auction', 'farmers’ market'])} ${r.pick(['is held on', 'sets up on', 'runs on'])} ${r.pick(DAYS)} ${r.pick(['in Belfry Square', 'behind the town hall', 'along the south quay', 'in the church hall'])}.`,
    (r) =>
      `From ${r.pick(['Gull Point', 'the breakwater', 'Pennard Head', 'the chapel on the hill'])} the path ${r.pick(['climbs', 'drops', 'follows the cliffs', 'cuts inland'])} ${r.pick(['for two miles to Lantern Cove', 'past the ruined mine engine house', 'through gorse and heather', 'down to a sandy bay only reachable at low tide'])}.`,
    (r) =>
      `${r.pick(['The Anchor', 'The Drowned Bell', 'Mother Ivey’s tea room', 'The Salt House', 'the bakery on Fore Street'])} ${r.pick(['serves', 'is known for', 'does a fine', 'is the place for'])} ${r.pick(['crab sandwiches', 'saffron cake', 'local cider', 'fish stew', 'hevva cake', 'smoked mackerel pâté'])}.`,
    (r) =>
      `In ${r.pick(YEARS)} ${r.pick(['a great storm', 'a fire', 'the pilchard boom', 'a smuggling ring', 'the railway'])} ${r.pick(['changed the town for ever', 'destroyed much of the lower harbour', 'brought new wealth to the quays', 'was the talk of the county'])}.`,
    (r) =>
      `Each ${r.pick(['May', 'August', 'midwinter', 'autumn'])} the town ${r.pick(['holds a regatta', 'lights bonfires on the headland', 'parades a giant paper gull', 'blesses the boats'])}, ${r.pick(['and visitors are welcome', 'which fills every room in town', 'a custom older than anyone can say'])}.`,
    (r) =>
      `${r.pick(['Parking', 'The tourist office', 'The lifeboat station', 'The public library', 'The post office'])} ${r.pick(['is on', 'can be found at', 'sits beside'])} ${r.pick(['the top of Chapel Steps', 'the end of the north quay', 'Fore Street', 'the old market hall'])} and ${r.pick(['is open daily', 'closes at five', 'is free in winter', 'keeps short hours on Sundays'])}.`,
  ],
};

const LOG: DocumentPlan = {
  name: 'marigold-log.md',
  title: 'Log of the Brig Marigold, Falmouth to Bristol by the North Passage',
  sections: ['First Week', 'Second Week', 'Third Week', 'Fourth Week', 'Fifth Week', 'Sixth Week', 'Seventh Week', 'Arrival'],
  sentences: [
    (r) =>
      `Wind ${r.pick(['north-west', 'south-west', 'easterly', 'backing westerly', 'veering north'])}, ${r.pick(['a moderate breeze', 'fresh', 'a near gale', 'light and fitful', 'strong'])}; ${r.pick(['sea moderate', 'heavy swell from the west', 'sea calm', 'a short steep sea'])}.`,
    (r) =>
      `${r.pick(['Sighted', 'Spoke', 'Passed', 'Exchanged signals with'])} the ${r.pick(['Hannah Grey', 'Providence', 'Swift of Leith', 'Good Intent', 'Three Sisters'])} ${r.pick(['bound for Leith', 'out of Whitby', 'heading south', 'deep-laden with timber'])}.`,
    (r) =>
      `${r.pick(['Set the topsails', 'Took in a reef', 'Hove to for two hours', 'Shook out the reefs', 'Sent down the topgallant yards'])} ${r.pick(['at four bells', 'in the forenoon watch', 'at dusk', 'before the squall reached us'])}.`,
    (r) =>
      `${r.pick(NAMES)} ${r.pick(['reported sick with fever', 'was put on double watches for insolence', 'mended the main staysail', 'caught a fine cod over the side', 'sang through the whole first watch'])}.`,
    (r) =>
      `Noon position by observation ${r.pick(['58', '59', '60', '57', '56'])} degrees ${r.pick(['12', '31', '47', '05', '22'])} minutes north; ${r.pick(['made good', 'logged', 'ran'])} ${r.int(40, 190)} miles since yesterday.`,
    (r) =>
      `The ${r.pick(['pumps', 'galley stove', 'starboard boat', 'bilge', 'water casks'])} ${r.pick(['gave trouble again', 'were seen to', 'leaked a little', 'were found in good order', 'needed the carpenter'])}.`,
    (r) =>
      `${r.pick(['Served out', 'Broached', 'Issued'])} ${r.pick(['salt pork', 'the last of the potatoes', 'a tot of rum', 'fresh water, a gallon a man', 'ship’s biscuit'])} ${r.pick(['to all hands', 'to the larboard watch', 'by the master’s order'])}.`,
    (r) =>
      `${r.pick(['Fog', 'Heavy rain', 'Snow showers', 'A clear starry night', 'Thick weather'])} ${r.pick(['through the middle watch', 'all afternoon', 'with the glass falling', 'and the aurora very bright'])}.`,
  ],
};

const RECIPES: DocumentPlan = {
  name: 'hearth-recipes.md',
  title: 'Recipes from the Hearth: A Family Cookery Book',
  sections: [
    'Breads',
    'Buns and Small Cakes',
    'Large Cakes',
    'Soups and Broths',
    'Pies and Pasties',
    'Preserves',
    'Puddings',
    'Notes on the Oven',
  ],
  sentences: [
    (r) =>
      `${r.pick(['Rub', 'Beat', 'Cream', 'Fold'])} ${r.pick(['the butter into the flour', 'the sugar and eggs together', 'in the currants', 'the treacle into the oats'])} ${r.pick(['until it looks like breadcrumbs', 'until pale and light', 'with a cold hand', 'gently, with a metal spoon'])}.`,
    (r) =>
      `Bake ${r.pick(['in a hot oven', 'in a moderate oven', 'on the middle shelf', 'in a greased tin'])} for ${r.pick(['twenty minutes', 'forty minutes', 'an hour', 'a quarter of an hour', 'ninety minutes'])}, ${r.pick(['until golden', 'until a skewer comes out clean', 'turning once', 'then leave to cool on a rack'])}.`,
    (r) =>
      `${r.pick(['Aunt Win', 'Cousin Petroc', 'Mrs Tremayne next door', 'the vicar’s wife', 'Great-uncle Josiah'])} ${r.pick(['always added', 'swore by', 'never used', 'insisted on'])} ${r.pick(['a pinch of nutmeg', 'brown sugar', 'clotted cream', 'a splash of brandy', 'lard instead of butter'])}.`,
    (r) =>
      `You will need ${r.pick(['a pound of flour', 'six ounces of sugar', 'two eggs', 'a pint of stock', 'half a pound of suet'])}, ${r.pick(['a teaspoon of salt', 'four ounces of raisins', 'a little milk', 'one onion', 'the zest of a lemon'])} and ${r.pick(['a good handful of parsley', 'some mixed peel', 'a knob of butter', 'two carrots', 'a spoonful of honey'])}.`,
    (r) =>
      `${r.pick(['Leave the dough to rise', 'Let the mixture rest', 'Simmer the broth', 'Soak the fruit', 'Chill the pastry'])} ${r.pick(['for an hour', 'somewhere warm', 'with the lid on', 'for half an hour', 'while you prepare the tins'])}.`,
    (r) =>
      `This ${r.pick(['keeps well in a tin', 'freezes badly', 'is best eaten warm', 'was served at every christening', 'travels well in a basket'])}${r.pick(['.', ' for a week.', ', so make plenty.'])}`,
    (r) =>
      `${r.pick(['Pasties', 'Scones', 'Seed cake', 'Parkin', 'Barm brack'])} ${r.pick(['should be crimped along the side', 'rise better with sour milk', 'need a slow oven', 'improve after a day or two', 'are traditional on bonfire night'])}.`,
  ],
};

const GUILD: DocumentPlan = {
  name: 'glassblowers-chronicle.md',
  title: 'A Chronicle of the Glassmakers and Their Guild',
  sections: [
    'Origins',
    'The Early Furnaces',
    'Charters and Privileges',
    'Masters and Apprentices',
    'The Great Commissions',
    'Decline and Revival',
    'The Guild Hall',
    'Customs',
  ],
  sentences: [
    (r) =>
      `In ${r.pick(YEARS)} the guild ${r.pick(['received a royal charter', 'built a second furnace', 'was fined for selling short measure', 'won the commission for the cathedral windows', 'quarrelled with the potters'])}.`,
    (r) =>
      `Master ${r.pick(NAMES)} ${r.pick(['perfected a deep cobalt blue', 'was expelled for selling secrets', 'trained eleven journeymen', 'left a fortune to the guild', 'designed the crown glass for the harbour lamps'])}.`,
    (r) =>
      `The furnaces ${r.pick(['burned beech wood', 'were fed with coal from Wales', 'were never allowed to go cold', 'stood on Tanner’s Row', 'needed twelve men to tend'])} ${r.pick(['until ' + r.pick(YEARS), 'through the winter', 'day and night', 'for generations'])}.`,
    (r) =>
      `${r.pick(['Journeymen', 'Masters', 'Members', 'Widows of members'])} ${r.pick(['paid dues of two shillings a quarter', 'could vote at the Michaelmas meeting', 'wore a green sash on feast days', 'were buried at the guild’s expense'])}.`,
    (r) =>
      `The ${r.pick(['sand', 'potash', 'lime', 'cullet', 'red lead'])} ${r.pick(['came from the dunes at Lantern Cove', 'was shipped in from Bristol', 'was sieved three times', 'was weighed by the warden'])}.`,
    (r) =>
      `${r.pick(['A fire', 'The plague', 'A dispute over wages', 'The new excise tax', 'A flood'])} ${r.pick(['closed the workshops', 'cost the guild dearly', 'led to a petition to the king', 'nearly ended the craft'])} in ${r.pick(YEARS)}.`,
    (r) =>
      `${r.pick(['Goblets', 'Window panes', 'Bottles for the cider trade', 'Lantern glasses', 'Apothecary jars'])} ${r.pick(['were the guild’s bread and butter', 'were marked with a small gull', 'sold as far as Antwerp', 'were inspected by the wardens'])}.`,
  ],
};

const DOCUMENT_PLANS = [TOWN, LOG, RECIPES, GUILD];

/** One document, about `targetWords` long, with its facts buried in its middle half. */
function writeDocument(plan: DocumentPlan, rng: Rng, targetWords: number): KnowledgeDocument {
  const paragraphs: { heading?: string; sentences: string[] }[] = [];
  for (let words = 0; words < targetWords; ) {
    const sentences = Array.from({ length: rng.int(4, 7) }, () => rng.pick(plan.sentences)(rng));
    words += sentences.join(' ').split(/\s+/).length;
    paragraphs.push({ sentences });
  }
  // The sections share the paragraphs evenly.
  plan.sections.forEach((heading, i) => {
    const paragraph = paragraphs[Math.floor((i * paragraphs.length) / plan.sections.length)];
    if (paragraph) paragraph.heading = heading;
  });
  const facts = KNOWLEDGE_FACTS.filter((fact) => fact.document === plan.name);
  const quarter = Math.floor(paragraphs.length / 4);
  const slots = rng.shuffle(Array.from({ length: paragraphs.length - 2 * quarter }, (_, i) => quarter + i)).slice(0, facts.length);
  facts.forEach((fact, i) => {
    const paragraph = paragraphs[slots[i]!]!;
    paragraph.sentences.splice(rng.int(1, paragraph.sentences.length - 1), 0, fact.sentence);
  });
  const text = [
    `# ${plan.title}`,
    ...paragraphs.map((paragraph) => `${paragraph.heading ? `## ${paragraph.heading}\n\n` : ''}${paragraph.sentences.join(' ')}`),
  ].join('\n\n');
  return { name: plan.name, text: `${text}\n`, words: text.split(/\s+/).length };
}

export function writeDocuments(rng: Rng, targetWords = 3000): KnowledgeDocument[] {
  return DOCUMENT_PLANS.map((plan) => writeDocument(plan, rng, targetWords));
}

/**
 * The facts of the memory bench: what the two people say about themselves
 * early in the conversation, what is buried in the knowledge documents, and
 * how each is asked about much later, in other words.
 */

export const CHARACTER = {
  name: 'Wren',
  personalityPrompt:
    'Wren is a retired sea captain who now runs a small tea shop by the harbour. She is warm, curious and a little nosy, ' +
    'loves a good story, and takes pride in remembering what her regulars tell her: their families, their pets, their plans. ' +
    'She speaks plainly, with the odd nautical turn of phrase, and asks follow-up questions.',
};

export const PEOPLE = {
  nell: { id: '960000000000000011', username: 'nell', displayName: 'Nell' },
  tobias: { id: '960000000000000012', username: 'tobias', displayName: 'Tobias' },
} as const;
export type PersonKey = keyof typeof PEOPLE;

export interface ConversationFactSpec {
  id: string;
  person: PersonKey;
  /** Said verbatim, as one sentence of a longer message. */
  sentence: string;
  /** Before and after the sentence in the message that states it. */
  lead: string;
  tail: string;
  /** The character's scripted answer to that message. */
  reply: string;
  /** The later question, in other words. */
  question: string;
  /** What a good answer must contain. */
  answer: string[];
}

export const CONVERSATION_FACTS: ConversationFactSpec[] = [
  {
    id: 'sister',
    person: 'nell',
    sentence: 'My sister is called Ione.',
    lead: 'Family news for you.',
    tail: 'She has just moved back to the coast and wants to come and try your scones.',
    reply: 'Ione, what a lovely old name. Bring her round, the kettle is always on.',
    question: 'What was my sister’s name again?',
    answer: ['Ione'],
  },
  {
    id: 'allergy',
    person: 'nell',
    sentence: 'I’m allergic to peanuts.',
    lead: 'Before you offer me one of those biscuits:',
    tail: 'Even a crumb and my throat closes up, so I always carry a pen.',
    reply: 'Then no satay and none of the nutty flapjacks for you. I will keep them well away from your cup.',
    question: 'Is there anything I shouldn’t eat? I can’t remember if I told you.',
    answer: ['peanut'],
  },
  {
    id: 'cat',
    person: 'nell',
    sentence: 'I have a grey cat named Pilchard.',
    lead: 'Sorry about the hairs on my coat.',
    tail: 'He sleeps on every jumper I own.',
    reply: 'Pilchard! A fine sea name for a cat. Does he hunt, or just supervise?',
    question: 'Do you remember what my little furry housemate is called?',
    answer: ['Pilchard'],
  },
  {
    id: 'hometown',
    person: 'nell',
    sentence: 'I grew up in Saltmere, a fishing village on the east coast.',
    lead: 'Your shop smells like home, you know.',
    tail: 'Mum sold crab sandwiches from a hut on the slipway.',
    reply: 'Saltmere! I put in there once in a storm, years ago. Lovely harbour, terrible pub.',
    question: 'Where did I say I was from originally?',
    answer: ['Saltmere'],
  },
  {
    id: 'job',
    person: 'nell',
    sentence: 'I work as a night nurse at the children’s hospital.',
    lead: 'Apologies if I look half asleep.',
    tail: 'Three shifts in a row this week, so coffee is my best friend.',
    reply: 'Night shifts with the little ones, that is hard and good work. Sit down, I will bring you something strong.',
    question: 'What do I do for a living, do you recall?',
    answer: ['nurse'],
  },
  {
    id: 'birthday',
    person: 'nell',
    sentence: 'My birthday is on the ninth of March.',
    lead: 'Put this in your little book:',
    tail: 'I expect a slice of cake, nothing fancy.',
    reply: 'Written down in ink. A spring birthday, I should have guessed.',
    question: 'When am I due a slice of cake from you? When’s my special day?',
    answer: ['ninth of March'],
  },
  {
    id: 'colour',
    person: 'nell',
    sentence: 'My favourite colour is teal.',
    lead: 'I love the new tablecloths.',
    tail: 'Anything that green-blue shade and I want it.',
    reply: 'Teal it is, the colour of a shallow bay in summer. I will save you the teal mug.',
    question: 'Which shade do I like best?',
    answer: ['teal'],
  },
  {
    id: 'book',
    person: 'nell',
    sentence: 'My favourite book is The Left Hand of Darkness.',
    lead: 'I saw you reading by the window.',
    tail: 'I reread it every winter when the nights draw in.',
    reply: 'Le Guin! A cold planet and a long walk across the ice. Good choice.',
    question: 'What novel did I tell you I love most?',
    answer: ['Left Hand of Darkness'],
  },
  {
    id: 'father',
    person: 'nell',
    sentence: 'My dad, Emrys, repairs clocks for a living.',
    lead: 'That old wall clock of yours is running slow.',
    tail: 'He could fix it in ten minutes with his tiny screwdrivers.',
    reply: 'A clockmaker for a father, no wonder you are always on time. Tell Emrys my clock needs him.',
    question: 'What does my father do for work?',
    answer: ['clocks'],
  },
  {
    id: 'cello',
    person: 'nell',
    sentence: 'I play the cello in a community orchestra.',
    lead: 'Sorry I was late, rehearsal overran.',
    tail: 'We are doing Elgar this term and my fingers ache.',
    reply: 'A cellist! That explains the calluses. Will you play for us one evening?',
    question: 'Which instrument is it that I play?',
    answer: ['cello'],
  },
  {
    id: 'fear',
    person: 'nell',
    sentence: 'I’m terrified of deep water since I nearly drowned as a kid.',
    lead: 'No, I won’t come out on the boat, thank you.',
    tail: 'Paddling is fine, but nothing over my knees.',
    reply: 'No shame in that. The sea deserves respect. We will keep you on the quay with a flask.',
    question: 'What is the thing that scares me most?',
    answer: ['deep water'],
  },
  {
    id: 'bicycle',
    person: 'nell',
    sentence: 'I ride a red bicycle called Comet to work.',
    lead: 'Can I leave it by your railings?',
    tail: 'Rain or shine, up the hill and back.',
    reply: 'Comet can moor at my railings any day. Red, so the buses see you, sensible.',
    question: 'How do I get to the hospital each day, and what did I name it?',
    answer: ['Comet'],
  },
  {
    id: 'food',
    person: 'nell',
    sentence: 'My favourite food is my grandmother’s mushroom barley soup.',
    lead: 'Your soup of the day smells nice, but',
    tail: 'Nobody has ever matched it, not even me with her recipe card.',
    reply: 'A grandmother’s soup is hard to beat. I might have a go at a barley broth in her honour.',
    question: 'What dish do I like above all others?',
    answer: ['mushroom barley soup'],
  },
  {
    id: 'partner',
    person: 'nell',
    sentence: 'My partner Dario is a carpenter.',
    lead: 'If your shelves need fixing, I know someone.',
    tail: 'He made our kitchen table out of an old oak door.',
    reply: 'Dario the carpenter, noted. My shelves have been sagging since the spring.',
    question: 'Who is the man I live with, and what is his trade?',
    answer: ['Dario'],
  },
  {
    id: 'brother',
    person: 'tobias',
    sentence: 'My brother Caspian lives in Lisbon.',
    lead: 'Postcard arrived today.',
    tail: 'He sends pastries home every Christmas and they arrive in crumbs.',
    reply: 'Caspian in Lisbon, lucky fellow. All those hills and custard tarts.',
    question: 'Which city is my brother living in these days?',
    answer: ['Lisbon'],
  },
  {
    id: 'dog',
    person: 'tobias',
    sentence: 'I’ve got an old beagle called Biscuit.',
    lead: 'Mind if he waits by the door?',
    tail: 'He is deaf as a post but still follows his nose everywhere.',
    reply: 'Biscuit may wait wherever he likes. I will find him a crust.',
    question: 'What breed is my hound?',
    answer: ['beagle'],
  },
  {
    id: 'vegetarian',
    person: 'tobias',
    sentence: 'I’m vegetarian, I haven’t eaten meat in ten years.',
    lead: 'No bacon roll for me, thanks.',
    tail: 'Cheese, though, I will never give up.',
    reply: 'Ten years without meat, fair enough. The cheese scones are all yours then.',
    question: 'Can you remind me what I do and don’t eat?',
    answer: ['vegetarian'],
  },
  {
    id: 'teacher',
    person: 'tobias',
    sentence: 'I teach chemistry at Hollowbrook secondary school.',
    lead: 'Marking again, sorry for the mess of papers.',
    tail: 'Thirty lab reports and half of them set something on fire.',
    reply: 'A chemistry teacher marking fires. Never a dull week at Hollowbrook, then.',
    question: 'Which subject is it that I teach?',
    answer: ['chemistry'],
  },
  {
    id: 'birthplace',
    person: 'tobias',
    sentence: 'I was born in Tromsø, way up north in Norway.',
    lead: 'This is nothing, this cold.',
    tail: 'Two months of polar night every winter, you get used to it.',
    reply: 'Tromsø! Northern lights and herring. No wonder our winters do not bother you.',
    question: 'In what town did I come into the world?',
    answer: ['Tromsø'],
  },
  {
    id: 'football',
    person: 'tobias',
    sentence: 'I support Ashford Rovers, even though they always lose.',
    lead: 'Don’t ask about Saturday.',
    tail: 'Forty years of loyalty and not one trophy.',
    reply: 'Ashford Rovers, bless them. Loyalty like that deserves a free biscuit.',
    question: 'Which football club do I follow, remind me?',
    answer: ['Ashford Rovers'],
  },
];

export interface KnowledgeFactSpec {
  id: string;
  /** The document (by its file name) the sentence is buried in. */
  document: string;
  sentence: string;
  question: string;
  answer: string[];
  /** Who asks. */
  person: PersonKey;
}

export const KNOWLEDGE_FACTS: KnowledgeFactSpec[] = [
  {
    id: 'keeper',
    document: 'veyra-town-guide.md',
    person: 'nell',
    sentence: 'The lighthouse on Gull Point has been kept for the last twenty years by a woman named Orla Fenwick.',
    question: 'Who looks after the Veyra lighthouse?',
    answer: ['Orla Fenwick'],
  },
  {
    id: 'fish-market',
    document: 'veyra-town-guide.md',
    person: 'tobias',
    sentence: 'The fish market on the north quay opens at four in the morning, but only on Tuesdays and Fridays.',
    question: 'What days can I buy fish off the boats in Veyra?',
    answer: ['Tuesdays and Fridays'],
  },
  {
    id: 'oldest-building',
    document: 'veyra-town-guide.md',
    person: 'nell',
    sentence: 'The oldest building still standing in Veyra is the Copper Kettle inn, built in 1642.',
    question: 'Which is the most ancient house left in that harbour town?',
    answer: ['Copper Kettle'],
  },
  {
    id: 'foremast',
    document: 'marigold-log.md',
    person: 'tobias',
    sentence: 'We lost the foremast in a squall off Cape Wrath on the fourteenth day out.',
    question: 'Where did the Marigold lose her foremast?',
    answer: ['Cape Wrath'],
  },
  {
    id: 'cook',
    document: 'marigold-log.md',
    person: 'nell',
    sentence: 'Our cook is a Cornishman named Jory Pender who has sailed with the Marigold since her launch.',
    question: 'Who did the cooking aboard the Marigold?',
    answer: ['Jory Pender'],
  },
  {
    id: 'cargo',
    document: 'marigold-log.md',
    person: 'tobias',
    sentence: 'The hold carries two hundred casks of whale oil consigned to a merchant in Bristol.',
    question: 'What goods was that ship hauling on the voyage?',
    answer: ['whale oil'],
  },
  {
    id: 'saffron',
    document: 'hearth-recipes.md',
    person: 'nell',
    sentence: 'The secret of good saffron buns is to steep the saffron overnight in warm milk.',
    question: 'What’s the trick to making saffron buns properly?',
    answer: ['overnight'],
  },
  {
    id: 'plum-cake',
    document: 'hearth-recipes.md',
    person: 'nell',
    sentence: 'Grandmother Hesketh’s plum cake needs exactly three hours in a low oven.',
    question: 'How long should the Hesketh plum cake bake for?',
    answer: ['three hours'],
  },
  {
    id: 'guild-founder',
    document: 'glassblowers-chronicle.md',
    person: 'tobias',
    sentence: 'The Glassblowers’ Guild of Veyra was founded in 1388 by Master Aldous Brae.',
    question: 'Who started the glassmakers’ guild?',
    answer: ['Aldous Brae'],
  },
  {
    id: 'apprenticeship',
    document: 'glassblowers-chronicle.md',
    person: 'tobias',
    sentence: 'Apprentices must serve seven years before they may sit the journeyman’s test.',
    question: 'How many years does a glassblowing apprentice train before the journeyman exam?',
    answer: ['seven years'],
  },
];

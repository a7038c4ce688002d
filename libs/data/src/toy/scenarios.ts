/** The four arithmetic operations a toy problem chains. */
export type ToyOp = 'add' | 'sub' | 'mul' | 'div';
export const TOY_OPS: readonly ToyOp[] = ['add', 'sub', 'mul', 'div'];

export interface Person {
  readonly name: string;
  readonly he: 'he' | 'she';
}

/**
 * One template family. Sentences use placeholders: {name} {He} {he} {His} {his} {item} {place}
 * {usd} (a dollar sign) {a} (start) {b} (operand) {v} (value before) {r} (value after). `question` sentences are
 * alternatives chosen per problem; `step` lines are the chain-of-thought for each operation.
 */
export interface ToyScenario {
  readonly name: string;
  /** Held-out scenarios appear only in the out-of-domain split. */
  readonly heldOut: boolean;
  readonly items: readonly string[];
  readonly places: readonly string[];
  readonly start: readonly string[];
  readonly ops: Readonly<Record<ToyOp, { readonly text: readonly string[]; readonly step: string }>>;
  readonly question: readonly string[];
}

export const IN_DOMAIN_PEOPLE: readonly Person[] = [
  { name: 'Tom', he: 'he' },
  { name: 'Anna', he: 'she' },
  { name: 'Ben', he: 'he' },
  { name: 'Lily', he: 'she' },
  { name: 'Sam', he: 'he' },
  { name: 'Mia', he: 'she' },
  { name: 'Leo', he: 'he' },
  { name: 'Emma', he: 'she' },
];

/** Names used only by held-out scenarios, so out-of-domain text differs in entities too. */
export const HELD_OUT_PEOPLE: readonly Person[] = [
  { name: 'Omar', he: 'he' },
  { name: 'Rosa', he: 'she' },
  { name: 'Ivan', he: 'he' },
  { name: 'Nora', he: 'she' },
];

export const TOY_SCENARIOS: readonly ToyScenario[] = [
  {
    name: 'collect',
    heldOut: false,
    items: ['apples', 'marbles', 'stickers', 'shells', 'cards'],
    places: ['box'],
    start: ['{name} has {a} {item}.', '{name} starts the day with {a} {item}.'],
    ops: {
      add: {
        text: ['{He} finds {b} more {item}.', '{His} friend gives {him} {b} {item}.'],
        step: '{He} gets {b} more, so {he} has {v} + {b} = {r} {item}.',
      },
      sub: {
        text: ['{He} gives {b} {item} to a friend.', '{He} loses {b} {item}.'],
        step: '{He} gives away {b}, so {he} has {v} - {b} = {r} {item}.',
      },
      mul: {
        text: ['Then {his} pile of {item} grows to {b} times its size.'],
        step: 'The pile grows {b} times, so {he} has {v} * {b} = {r} {item}.',
      },
      div: {
        text: ['{He} splits {his} {item} into {b} equal piles and keeps one pile.'],
        step: '{He} keeps one of {b} equal piles, so {he} has {v} / {b} = {r} {item}.',
      },
    },
    question: ['How many {item} does {name} have now?', 'How many {item} does {name} have in the end?'],
  },
  {
    name: 'money',
    heldOut: false,
    items: ['dollars'],
    places: ['bank'],
    start: ['{name} has {usd}{a}.', '{name} saves {usd}{a}.'],
    ops: {
      add: {
        text: ['{He} earns {usd}{b} more.', '{His} aunt gives {him} {usd}{b}.'],
        step: '{He} gets {usd}{b} more, so {he} has {v} + {b} = {usd}{r}.',
      },
      sub: {
        text: ['{He} spends {usd}{b} on a book.', '{He} spends {usd}{b} on lunch.'],
        step: '{He} spends {usd}{b}, so {he} has {v} - {b} = {usd}{r}.',
      },
      mul: {
        text: ['Then {his} savings grow to {b} times as much.'],
        step: 'The savings grow {b} times, so {he} has {v} * {b} = {usd}{r}.',
      },
      div: {
        text: ['{He} shares the money equally among {b} jars and keeps one jar.'],
        step: 'One of {b} equal jars holds {v} / {b} = {usd}{r}.',
      },
    },
    question: ['How many dollars does {name} have now?', 'How much money does {name} have left?'],
  },
  {
    name: 'bakery',
    heldOut: false,
    items: ['cookies', 'muffins', 'rolls', 'cupcakes'],
    places: ['bakery', 'cafe', 'shop'],
    start: ['A {place} bakes {a} {item} in the morning.', 'A {place} has {a} {item} on a tray.'],
    ops: {
      add: {
        text: ['It bakes {b} more {item} at noon.'],
        step: 'It bakes {b} more, so it has {v} + {b} = {r} {item}.',
      },
      sub: {
        text: ['It sells {b} {item}.', 'The workers eat {b} {item}.'],
        step: '{b} are gone, so it has {v} - {b} = {r} {item}.',
      },
      mul: {
        text: ['Then the stock of {item} becomes {b} times as large.'],
        step: 'The stock grows {b} times, so it has {v} * {b} = {r} {item}.',
      },
      div: {
        text: ['The {item} are packed equally into {b} boxes, and one box stays in the {place}.'],
        step: 'One of {b} equal boxes holds {v} / {b} = {r} {item}.',
      },
    },
    question: ['How many {item} does the {place} have now?', 'How many {item} are left in the {place}?'],
  },
  {
    name: 'library',
    heldOut: false,
    items: ['books', 'comics', 'magazines'],
    places: ['library', 'school', 'club'],
    start: ['The {place} has {a} {item} on a shelf.'],
    ops: {
      add: {
        text: ['{name} adds {b} {item} to the shelf.'],
        step: '{name} adds {b}, so the shelf has {v} + {b} = {r} {item}.',
      },
      sub: {
        text: ['Readers borrow {b} {item}.', '{name} takes {b} {item} home.'],
        step: '{b} are taken, so the shelf has {v} - {b} = {r} {item}.',
      },
      mul: {
        text: ['Then the number of {item} grows to {b} times as many.'],
        step: 'The number grows {b} times, so the shelf has {v} * {b} = {r} {item}.',
      },
      div: {
        text: ['{name} moves the {item} equally onto {b} shelves and counts one shelf.'],
        step: 'One of {b} equal shelves has {v} / {b} = {r} {item}.',
      },
    },
    question: ['How many {item} are on the shelf now?'],
  },
  {
    name: 'tank',
    heldOut: true,
    items: ['water', 'juice', 'milk'],
    places: ['tank', 'barrel', 'tub'],
    start: ['A {place} holds {a} liters of {item}.'],
    ops: {
      add: {
        text: ['{name} pours in {b} more liters.'],
        step: 'Pouring in {b} liters gives {v} + {b} = {r} liters.',
      },
      sub: {
        text: ['{b} liters leak out of the {place}.'],
        step: 'A leak of {b} liters leaves {v} - {b} = {r} liters.',
      },
      mul: {
        text: ['Then the amount of {item} rises to {b} times as much.'],
        step: 'Rising {b} times gives {v} * {b} = {r} liters.',
      },
      div: {
        text: ['The {item} is poured equally into {b} buckets, and {name} keeps one bucket.'],
        step: 'One of {b} equal buckets holds {v} / {b} = {r} liters.',
      },
    },
    question: ['How many liters of {item} are there now?'],
  },
  {
    name: 'garden',
    heldOut: true,
    items: ['plants', 'flowers', 'trees'],
    places: ['garden', 'yard', 'park'],
    start: ['{name} grows {a} {item} in a {place}.'],
    ops: {
      add: {
        text: ['{He} plants {b} more {item}.'],
        step: 'After planting {b} more there are {v} + {b} = {r} {item}.',
      },
      sub: {
        text: ['A storm destroys {b} of the {item}.'],
        step: 'Losing {b} leaves {v} - {b} = {r} {item}.',
      },
      mul: {
        text: ['By summer the number of {item} is {b} times as large.'],
        step: 'Growing {b} times gives {v} * {b} = {r} {item}.',
      },
      div: {
        text: ['{He} divides the {item} into {b} equal rows and gives away all rows but one.'],
        step: 'One of {b} equal rows has {v} / {b} = {r} {item}.',
      },
    },
    question: ['How many {item} does {name} have now?', 'How many {item} are in the {place} now?'],
  },
];

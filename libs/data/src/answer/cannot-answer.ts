/**
 * Phrases that say a question cannot be answered (GSM-Plus "critical thinking" items, whose gold
 * answer is `"None"` because a needed premise was removed). Kept small and explicit: each was
 * seen in GSM-Plus gold solutions or is a common paraphrase of one. Matched case-insensitively
 * with `'` and `’` treated alike.
 */
export const CANNOT_ANSWER_PHRASES: readonly string[] = [
  "we don't know",
  'we do not know',
  'we are unaware',
  'unaware of',
  "don't know",
  'do not know',
  'cannot be determined',
  "can't be determined",
  'can not be determined',
  'cannot be answered',
  "can't be answered",
  'cannot be calculated',
  'cannot be computed',
  'cannot determine',
  "can't determine",
  'cannot calculate',
  "can't calculate",
  'cannot answer',
  "can't answer",
  'impossible to determine',
  'impossible to answer',
  'impossible to calculate',
  'impossible to know',
  'not enough information',
  'insufficient information',
  'missing information',
  'information is missing',
  'is not given',
  'are not given',
  'is not stated',
  'are not stated',
  'is not provided',
  'are not provided',
  'is not specified',
  'are not specified',
  'is not mentioned',
  'are not mentioned',
  'is unknown',
  'are unknown',
  'not known',
];

/** Answer strings that mean "no answer" when they are the whole final answer (`#### None`). */
const NONE_ANSWERS = new Set(['none', 'n/a', 'unknown', 'unanswerable', 'undetermined', 'no answer']);

const PHRASE_RE = new RegExp(
  CANNOT_ANSWER_PHRASES.map((p) => p.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  'gi',
);

function normalizeQuotes(text: string): string {
  return text.replaceAll('’', "'");
}

/** Whether a final-answer string (the text after `####`) means "cannot be answered". */
export function isNoneAnswer(answerText: string): boolean {
  const t = trimTrailingPunctuation(normalizeQuotes(answerText).trim()).toLowerCase();
  return NONE_ANSWERS.has(t) || lastCannotAnswerIndex(t) >= 0;
}

/**
 * `text` without its trailing `.`/`!` run. A loop, not `/[.!]+$/`: that regex is retried from every
 * position of a long run not at the end (`"....x"`), quadratic in client text (a 100 KB Score
 * completion blocked the process for seconds).
 */
function trimTrailingPunctuation(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === '.' || text[end - 1] === '!')) end -= 1;
  return text.slice(0, end);
}

/** Whether the text says the question cannot be answered anywhere in it. */
export function isCannotAnswer(text: string): boolean {
  return lastCannotAnswerIndex(text) >= 0;
}

/** Index of the last cannot-answer phrase in `text`, or -1. */
export function lastCannotAnswerIndex(text: string): number {
  const re = new RegExp(PHRASE_RE.source, 'gi');
  const t = normalizeQuotes(text);
  let last = -1;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) last = m.index;
  return last;
}

/**
 * Number tokens as they appear in math solutions: optional sign (not after a word or digit, so
 * `10-5` reads as 10 and 5), optional currency, thousands separators, decimals, exponents,
 * fractions (`3/4`) and mixed numbers (`2 1/2`). Percent signs and units after the number are
 * ignored: GSM8K writes `#### 50` for "50%" and "$50".
 */
const NUMBER_SOURCE =
  String.raw`(?<![\w.])([-−])?\s?[$€£]?\s?` +
  String.raw`(?:(\d+) (\d+)/(\d+)(?![\d/])|(\d+)/(\d+)(?![\d/,])|(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?([eE][-+]?\d+)?)`;

/** A fresh global regex over number tokens (fresh because global regexes carry `lastIndex`). */
export function numberPattern(): RegExp {
  return new RegExp(NUMBER_SOURCE, 'g');
}

/** A number token found in a text, with where it starts (used to pick the last one). */
export interface NumberToken {
  readonly value: number;
  readonly index: number;
  readonly raw: string;
}

/** Reads one match of `numberPattern()` into a value; `undefined` for a zero denominator. */
export function tokenValue(match: RegExpExecArray): number | undefined {
  const [, sign, mixedWhole, mixedNum, mixedDen, fracNum, fracDen, int, decimals, exponent] = match;
  const negative = sign !== undefined;
  let value: number;
  if (mixedWhole !== undefined && mixedNum !== undefined && mixedDen !== undefined) {
    const den = Number(mixedDen);
    if (den === 0) return undefined;
    value = Number(mixedWhole) + Number(mixedNum) / den;
  } else if (fracNum !== undefined && fracDen !== undefined) {
    const den = Number(fracDen);
    if (den === 0) return undefined;
    value = Number(fracNum) / den;
  } else if (int !== undefined) {
    value = Number(int.replaceAll(',', '') + (decimals ?? '') + (exponent ?? ''));
  } else {
    return undefined;
  }
  if (!Number.isFinite(value)) return undefined;
  return negative ? -value : value;
}

/** Every number token in `text`, in order. */
export function findNumbers(text: string): NumberToken[] {
  const out: NumberToken[] = [];
  const re = numberPattern();
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const value = tokenValue(m);
    if (value !== undefined) out.push({ value, index: m.index, raw: m[0] });
  }
  return out;
}

/**
 * Parses an answer string such as `"1,600"`, `"$18.50"`, `"50%"`, `"3/4"`, `"-2"`, `"12 inches"`,
 * `"4.33."`: the first number token in it. `undefined` when there is none.
 */
export function parseNumber(text: string): number | undefined {
  return findNumbers(text)[0]?.value;
}

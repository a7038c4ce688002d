// The edge values the generator draws from (generate.ts).

export const INT_EDGES: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n ** 31n - 1n,
  -(2n ** 31n),
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 64n - 1n,
];
export const FLOAT_EDGES: readonly number[] = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  -1,
  1,
  0.5,
  1e-12,
  2 ** 53,
  -1e9,
];

// Byte sequences that are not UTF-8: a lone continuation byte, 0xff, an overlong '/', a UTF-8
// encoded surrogate (CESU), a truncated 4-byte sequence, a code point above U+10FFFF.
export const INVALID_UTF8: readonly number[][] = [
  [0x80],
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf0, 0x9f, 0x98],
  [0xf4, 0x90, 0x80, 0x80],
  [0xfe, 0xfe, 0xff, 0xff],
];

// Texts that have hurt parsers and regexes before: answer markers followed by long runs, nested
// brackets, numbers out of range, paths, addresses, format strings.
export const BAIT: readonly ((n: number) => string)[] = [
  (n) => `#### ${'.'.repeat(n)}x`,
  (n) => `${'!'.repeat(n)}?`,
  (n) => `The answer is ${'9'.repeat(n)}`,
  (n) => `${'('.repeat(n)}1${')'.repeat(n)}`,
  (n) => `${' '.repeat(n)}\n`,
  (n) => `\\boxed{${'{'.repeat(n)}`,
  (n) => `${'1,'.repeat(n)}1`,
  (n) => `${'-'.repeat(n)}1e999`,
  () => '../../../../etc/passwd',
  () => '127.0.0.1:1',
  () => 'dns:///metadata.google.internal:80',
  () => '%s%s%s%n{0}$' + '{x}',
  () => '\u0000\u0001\u001b[31m',
  () => '\u202e\u0301\u{1f600}\ufeff',
  () => '\ud800',
];

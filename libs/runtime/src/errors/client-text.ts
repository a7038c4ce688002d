// Error messages are written for callers, and many of them name the value at fault. When that value
// is client text of any length, echoing it whole turns one bad request into a reply as large as the
// request (a 1 MB id answered with a 1 MB status stalls the HTTP/2 connection it shares with other
// calls). Every message that quotes client input goes through clientText(); toGrpcStatus() caps
// whatever still slips through (boundedStatusText) so no status is ever unbounded.

/** How many characters of client text an error message quotes. */
export const CLIENT_TEXT_MAX_CHARS = 64;

/** The longest status message, field trailer or details trailer the boundary sends (characters). */
export const STATUS_TEXT_MAX_CHARS = 1024;

/**
 * Client text as an error message may quote it: unchanged up to `maxChars` characters, otherwise
 * its first `maxChars` characters, an ellipsis and its full size (`"aaaa… (1048576 bytes)"`), so the
 * caller can still tell which value was meant. Never splits a surrogate pair; O(maxChars) apart from
 * the UTF-8 byte count (one linear pass, no copy).
 */
export function clientText(value: string, maxChars: number = CLIENT_TEXT_MAX_CHARS): string {
  if (value.length <= maxChars) return value;
  let end = maxChars;
  // A lone high surrogate at the cut would be invalid UTF-16 on the wire.
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${value.slice(0, end)}… (${Buffer.byteLength(value, 'utf8')} bytes)`;
}

/** Cap any status text at the boundary (the backstop behind clientText). */
export function boundedStatusText(value: string): string {
  return clientText(value, STATUS_TEXT_MAX_CHARS);
}

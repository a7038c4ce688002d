/**
 * Turns a growing list of generated ids into UTF-8-safe text deltas for streaming.
 *
 * Each update decodes the whole continuation (tokenizers may merge pieces across token
 * boundaries) and emits what is new, holding back:
 * - trailing U+FFFD: bytes of a character whose remaining bytes are in later tokens;
 * - the last `holdBackChars` characters, so that a stop string that is still being written is
 *   never streamed (the final text is cut before it).
 * The concatenated deltas plus `finish(finalText)` equal the final text whenever decoding is
 * prefix-stable; when it is not, nothing more is streamed until finish.
 */
export interface TextStream {
  /** Delta to send after the continuation became `ids`. */
  update(ids: readonly number[]): string;
  /** The rest of the final text (after the deltas sent so far). */
  finish(finalText: string): string;
  /** Text streamed so far. */
  readonly emitted: string;
}

export function createTextStream(
  decode: (ids: readonly number[]) => string,
  holdBackChars: number,
): TextStream {
  let emitted = '';
  let stable = true;
  return {
    get emitted() {
      return emitted;
    },
    update(ids) {
      if (!stable) return '';
      let text = decode(ids);
      let end = text.length;
      while (end > 0 && text.charCodeAt(end - 1) === 0xfffd) end--;
      text = text.slice(0, Math.max(0, end - holdBackChars));
      if (!text.startsWith(emitted)) {
        // A shorter prefix of what was sent is fine (held back again); a divergence is not.
        if (!emitted.startsWith(text)) stable = false;
        return '';
      }
      const delta = text.slice(emitted.length);
      emitted = text;
      return delta;
    },
    finish(finalText) {
      if (!finalText.startsWith(emitted)) return '';
      const delta = finalText.slice(emitted.length);
      emitted = finalText;
      return delta;
    },
  };
}

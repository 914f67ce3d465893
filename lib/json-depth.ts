/** JSON nesting checked on the text, before JSON.parse: the decoder and the routing parser both bound it. */

/**
 * Deepest bracket nesting of JSON text, without parsing it: the index where `maxDepth` is first
 * exceeded, or -1. Brackets inside strings do not count.
 */
export function jsonTooDeepAt(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return -1;
}

/**
 * A copy of a record as plain JSON data that never throws: what the registry hands its store. A
 * record may hold anything a flow or a device put in it (a function from a function node, a getter
 * that throws, a BigInt, a cycle, 4,000 levels of nesting), and one such value must not stop the
 * other devices' writes.
 */

export interface PlainCopyStats {
  /** Values left out or replaced: functions, symbols, throwing getters, cycles, non-finite numbers. */
  dropped: number;
  /** Subtrees cut at the depth limit. */
  truncated: number;
}

export const DEFAULT_COPY_DEPTH = 64;

/**
 * Copies own enumerable string-keyed properties of plain objects and arrays, recursively, to
 * `maxDepth` levels, each object once (a second reference becomes null). Numbers that JSON cannot hold become null, BigInts become strings, a
 * `"__proto__"` key stays data (defined, not assigned), and anything else is left out and counted.
 * An object with a `toJSON` method is copied as what it returns, as JSON.stringify (and so the
 * context store's file) would write it: fleet-health's compact records give their snapshot that way.
 * A `toJSON` that throws leaves the value out, counted.
 */
export function plainCopy(value: unknown, maxDepth = DEFAULT_COPY_DEPTH, stats: PlainCopyStats = { dropped: 0, truncated: 0 }): unknown {
  const seen = new Set<object>();
  // `key` is the property name, passed to toJSON as JSON.stringify passes it; `asIs`: toJSON already ran.
  const copy = (v: unknown, depth: number, key = '', asIs = false): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (Number.isFinite(v)) return v;
        stats.dropped++;
        return null;
      case 'bigint':
        return v.toString();
      case 'object':
        break;
      default:
        stats.dropped++;
        return undefined;
    }
    if (v === null) return null;
    if (depth >= maxDepth) { stats.truncated++; return null; }
    const obj = v as object;
    if (!asIs) {
      const toJSON = read(obj, 'toJSON');
      if (typeof toJSON === 'function') {
        let out: unknown;
        try { out = (toJSON as (k: string) => unknown).call(obj, key); } catch { stats.dropped++; return undefined; }
        return copy(out, depth, key, true);
      }
    }
    // Each object is copied once: a cycle, or a diamond of shared references nested 60 deep,
    // would otherwise loop or blow up exponentially.
    if (seen.has(obj)) { stats.dropped++; return null; }
    seen.add(obj);
    {
      if (Array.isArray(obj)) {
        const out: unknown[] = [];
        const len = obj.length;
        for (let i = 0; i < len; i++) {
          const k = String(i);
          const item = copy(read(obj, k), depth + 1, k);
          out.push(item === undefined ? null : item);
        }
        return out;
      }
      const out: Record<string, unknown> = {};
      let keys: string[];
      try { keys = Object.keys(obj); } catch { stats.dropped++; return null; } // a Proxy that refuses
      for (const k of keys) {
        const item = copy(read(obj, k), depth + 1, k);
        if (item === undefined) continue;
        // Assignment makes the same own data property as defineProperty, several times faster (the
        // flush copies every changed record); only "__proto__" would hit Object.prototype's setter.
        if (k === '__proto__') Object.defineProperty(out, k, { value: item, enumerable: true, writable: true, configurable: true });
        else out[k] = item;
      }
      return out;
    }
  };
  const read = (obj: object, k: string): unknown => {
    try { return (obj as Record<string, unknown>)[k]; } catch { stats.dropped++; return undefined; }
  };
  return copy(value, 0);
}

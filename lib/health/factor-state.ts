/**
 * Health's factor state in a compact form. A device scored with a configuration needs, per factor,
 * only its status and its value: the names, thresholds and costs are the configuration's, the same
 * for every device of a kind, so they live once in a layout; the statuses are two bits each in one
 * small integer; the values are doubles in typed-array pages shared by every device of a tracker.
 * Before this, each device held 13 objects repeating the thresholds, with boxed numbers (1.1 KB).
 */
import type { FactorConfig, FactorName } from './config';
import { EVENT_FACTORS, type FactorScore, type FactorStatus } from './factors';

/** Status codes, two bits a factor. `unknown` is 0: a factor without a value. */
export const STATUS_OF_CODE: readonly FactorStatus[] = ['unknown', 'ok', 'warning', 'critical'];
export const CODE_UNKNOWN = 0;
export const CODE_OK = 1;
export const CODE_WARNING = 2;
export const CODE_CRITICAL = 3;
const CODE_OF_STATUS: ReadonlyMap<string, number> = new Map(STATUS_OF_CODE.map((s, i) => [s, i]));

/** Every factor a configuration can have; the packed statuses need two bits each (26 of a small integer's 31). */
export const MAX_FACTORS = 13;

export const statusCode = (packed: number, i: number): number => (packed >>> (i << 1)) & 3;

/** The enabled factors of one (configuration, kind), in scoring order: what every device scored with them shares. */
export class FactorLayout {
  readonly size: number;
  readonly names: readonly FactorName[];
  readonly configs: readonly FactorConfig[];
  readonly warn: readonly number[];
  readonly crit: readonly number[];
  readonly warnCost: readonly number[];
  readonly critCost: readonly number[];
  readonly lower: readonly boolean[];
  /** Counted-event factors (rejects, OTA, Steel): known, but no sign of the device's condition. */
  readonly event: readonly boolean[];

  constructor(list: ReadonlyArray<readonly [FactorName, FactorConfig]>) {
    if (list.length > MAX_FACTORS) throw new Error(`at most ${MAX_FACTORS} factors, got ${list.length}`);
    this.size = list.length;
    this.names = list.map(([n]) => n);
    this.configs = list.map(([, fc]) => fc);
    this.warn = this.configs.map((fc) => fc.warn);
    this.crit = this.configs.map((fc) => fc.crit);
    this.warnCost = this.configs.map((fc) => fc.warnCost);
    this.critCost = this.configs.map((fc) => fc.critCost);
    this.lower = this.configs.map((fc) => fc.direction === 'lower');
    this.event = this.names.map((n) => EVENT_FACTORS.has(n));
  }

  /** What a status costs this factor, as scoreFactor charges it. */
  cost(i: number, code: number): number {
    return code === CODE_CRITICAL ? this.critCost[i] : code === CODE_WARNING ? this.warnCost[i] : 0;
  }

  /** The status code of a value, as scoreFactor decides it (null: unknown). */
  judge(i: number, v: number | null): number {
    if (v === null) return CODE_UNKNOWN;
    const crit = this.crit[i];
    const warn = this.warn[i];
    if (this.lower[i] ? v < crit : v >= crit) return CODE_CRITICAL;
    if (this.lower[i] ? v < warn : v >= warn) return CODE_WARNING;
    return CODE_OK;
  }

  /** The factor as the record used to hold it. */
  score(i: number, code: number, value: number): FactorScore {
    return { factor: this.names[i], status: STATUS_OF_CODE[code], cost: this.cost(i, code), value: code === CODE_UNKNOWN ? null : value, warn: this.warn[i], crit: this.crit[i] };
  }

  /**
   * The packed statuses of `factors` when they are exactly what this layout would hold (same names in
   * order, same thresholds and costs, a number for every known value), else null.
   */
  pack(factors: readonly FactorScore[], values: Float64Array): number | null {
    if (factors.length !== this.size) return null;
    let packed = 0;
    for (let i = 0; i < this.size; i++) {
      const f = factors[i];
      const code = CODE_OF_STATUS.get(f.status);
      if (code === undefined || f.factor !== this.names[i] || !Object.is(f.warn, this.warn[i]) || !Object.is(f.crit, this.crit[i]) || !Object.is(f.cost, this.cost(i, code))) return null;
      if (code === CODE_UNKNOWN ? f.value !== null : typeof f.value !== 'number') return null;
      values[i] = f.value ?? 0;
      packed |= code << (i << 1);
    }
    return packed;
  }
}

const LAYOUTS = new WeakMap<object, FactorLayout>();

/** The layout of an effective factor list (config.ts's effectiveFactors, one list per configuration and kind). */
export function layoutOf(list: ReadonlyArray<readonly [FactorName, FactorConfig]>): FactorLayout {
  let l = LAYOUTS.get(list);
  if (!l) {
    l = new FactorLayout(list);
    LAYOUTS.set(list, l);
  }
  return l;
}

/** Devices a page holds: 1,024 × 13 doubles, 104 KiB. */
const PAGE_DEVICES = 1024;
const PAGE_SHIFT = 10;
const PAGE_MASK = PAGE_DEVICES - 1;

/**
 * The factor values of a tracker's devices, MAX_FACTORS doubles a device, in pages of typed arrays:
 * no object and no boxed number per value, and growing never copies what is there.
 */
export class FactorValues {
  private readonly pages: Float64Array[] = [];
  private used = 0;

  /** A device's slot; slots are never given back (a tracker forgets no device). */
  alloc(): number {
    const slot = this.used++;
    if ((slot & PAGE_MASK) === 0) this.pages.push(new Float64Array(PAGE_DEVICES * MAX_FACTORS));
    return slot;
  }

  get(slot: number, i: number): number {
    return this.pages[slot >>> PAGE_SHIFT][(slot & PAGE_MASK) * MAX_FACTORS + i];
  }

  /** Copies the first `n` of `from` into the slot. */
  set(slot: number, from: Float64Array, n: number): void {
    const page = this.pages[slot >>> PAGE_SHIFT];
    const base = (slot & PAGE_MASK) * MAX_FACTORS;
    for (let i = 0; i < n; i++) page[base + i] = from[i];
  }

  /** Bytes held, for the bench. */
  get bytes(): number {
    return this.pages.length * PAGE_DEVICES * MAX_FACTORS * 8;
  }
}

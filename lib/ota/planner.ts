/**
 * Splits a rollout's targets into waves: the canary group first (those of its devices that are
 * targets), then the cumulative percentages of the rest. Deterministic for a rollout id: devices are
 * ordered by a hash of (rollout id, device id), so a wave is a spread sample of the fleet rather than
 * an alphabetical block, and the same rollout always plans the same way (after a restart too).
 */
import type { RolloutPlan } from './plan';

export interface PlannedWave {
  /** 0 is the canary group when there is one. */
  readonly index: number;
  /** `canary:<name>` or `wave <n>` (1-based, in the plan's numbering). */
  readonly name: string;
  readonly devices: readonly string[];
}

/** FNV-1a, 32 bits: fast, well spread, and the same on every platform. */
function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Max devices a plan takes (the index must fit beside the 32-bit hash in a double). */
export const MAX_PLANNED_DEVICES = 1 << 21;

/**
 * Indexes of `ids` ordered by hash, ties broken by id, so the order does not depend on the order the
 * targets came in. A typed-array sort of hash·2²¹+index is several times faster than a comparator sort.
 */
function spreadOrder(ids: readonly string[], seed: number): Int32Array {
  const n = ids.length;
  if (n > MAX_PLANNED_DEVICES) throw new Error(`a rollout plans at most ${MAX_PLANNED_DEVICES} devices`);
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) packed[i] = fnv1a(ids[i], seed) * MAX_PLANNED_DEVICES + i;
  packed.sort();
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = packed[i] % MAX_PLANNED_DEVICES;
  // Equal hashes (rare) are ordered by id.
  for (let i = 0; i < n;) {
    const h = Math.floor(packed[i] / MAX_PLANNED_DEVICES);
    let j = i + 1;
    while (j < n && Math.floor(packed[j] / MAX_PLANNED_DEVICES) === h) j++;
    if (j - i > 1) {
      const run = Array.from(order.subarray(i, j)).sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
      order.set(run, i);
    }
    i = j;
  }
  return order;
}

export function planWaves(rolloutId: string, targets: readonly string[], plan: RolloutPlan): PlannedWave[] {
  const seed = fnv1a(rolloutId, 0x811c9dc5);
  const unique = [...new Set(targets)];
  const waves: PlannedWave[] = [];
  let rest = unique;
  if (plan.canary) {
    const inTargets = new Set(unique);
    const canary = plan.canary.devices.filter((d) => inTargets.has(d));
    if (canary.length > 0) {
      waves.push({ index: 0, name: `canary:${plan.canary.name}`, devices: canary });
      const c = new Set(canary);
      rest = unique.filter((d) => !c.has(d));
    }
  }
  const order = spreadOrder(rest, seed);
  let taken = 0;
  plan.waves.forEach((pct, i) => {
    const upto = pct >= 100 ? rest.length : Math.ceil((pct / 100) * rest.length);
    if (upto <= taken) return;
    const devices = new Array<string>(upto - taken);
    for (let j = taken; j < upto; j++) devices[j - taken] = rest[order[j]];
    taken = upto;
    waves.push({ index: waves.length, name: `wave ${i + 1}`, devices });
  });
  return waves;
}

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
  const keys = new Uint32Array(rest.length);
  for (let i = 0; i < rest.length; i++) keys[i] = fnv1a(rest[i], seed);
  const order = Array.from({ length: rest.length }, (_, i) => i);
  order.sort((a, b) => keys[a] - keys[b] || (rest[a] < rest[b] ? -1 : rest[a] > rest[b] ? 1 : 0));
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

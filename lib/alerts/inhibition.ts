/**
 * Inhibition as Alertmanager's inhibit/inhibit.go does it, with its per-rule index of firing source
 * alerts keyed by the values of the rule's `equal` labels: finding whether an alert is inhibited is a
 * map lookup per rule, not a scan of every firing alert (which made the first flush of a 32,000-alert
 * outage quadratic).
 *
 * Two-sided alerts (matching both the source and the target side of a rule) follow inhibit.go: such
 * an alert never inhibits itself, and it is not inhibited by a source that is itself two-sided; a
 * source matching only the source side still inhibits it.
 */
import type { FleetAlert } from '../alert-shape';
import { matchesAll, type CompiledMatcher } from './matchers';

export interface InhibitRule {
  readonly source: readonly CompiledMatcher[];
  readonly target: readonly CompiledMatcher[];
  /** Labels that must be equal on source and target, e.g. [site]; a missing label counts as "". */
  readonly equal: readonly string[];
}

type Labels = Readonly<Record<string, string>>;

/** Sources in one rule's bucket: those matching only the source side, and the two-sided ones. */
interface Bucket {
  readonly oneSided: Set<string>;
  readonly twoSided: Set<string>;
}

/** Where a source alert sits in the index, so removing it is as cheap as adding it. */
interface Placement {
  readonly rule: number;
  readonly key: string;
  readonly twoSided: boolean;
}

function equalKey(rule: InhibitRule, labels: Labels): string {
  // JSON of the values: no separator character can make two different value lists collide.
  return JSON.stringify(rule.equal.map((l) => (Object.prototype.hasOwnProperty.call(labels, l) ? labels[l] : '')));
}

export class InhibitionIndex {
  private readonly buckets: Array<Map<string, Bucket>>;
  private readonly placed = new Map<string, Placement[]>();
  /** Source fingerprints to the alert name shown in "inhibited by …". */
  private readonly names = new Map<string, string>();

  constructor(private readonly rules: readonly InhibitRule[]) {
    this.buckets = rules.map(() => new Map());
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  /** Takes a firing alert as a possible source (again is a no-op: labels fix the fingerprint). */
  add(alert: FleetAlert): void {
    if (this.rules.length === 0 || this.placed.has(alert.fingerprint)) return;
    const where: Placement[] = [];
    this.rules.forEach((rule, i) => {
      if (!matchesAll(rule.source, alert.labels)) return;
      const key = equalKey(rule, alert.labels);
      const twoSided = matchesAll(rule.target, alert.labels);
      let b = this.buckets[i].get(key);
      if (!b) { b = { oneSided: new Set(), twoSided: new Set() }; this.buckets[i].set(key, b); }
      (twoSided ? b.twoSided : b.oneSided).add(alert.fingerprint);
      where.push({ rule: i, key, twoSided });
    });
    if (where.length > 0) {
      this.placed.set(alert.fingerprint, where);
      this.names.set(alert.fingerprint, alert.labels.alertname ?? alert.fingerprint);
    }
  }

  /** Drops a source (it resolved). */
  remove(fingerprint: string): void {
    const where = this.placed.get(fingerprint);
    if (!where) return;
    for (const p of where) {
      const b = this.buckets[p.rule].get(p.key);
      if (!b) continue;
      (p.twoSided ? b.twoSided : b.oneSided).delete(fingerprint);
      if (b.oneSided.size === 0 && b.twoSided.size === 0) this.buckets[p.rule].delete(p.key);
    }
    this.placed.delete(fingerprint);
    this.names.delete(fingerprint);
  }

  clear(): void {
    for (const b of this.buckets) b.clear();
    this.placed.clear();
    this.names.clear();
  }

  /** The fingerprint of a firing source that inhibits an alert with these labels, or null (inhibit.go's Mutes). */
  inhibitor(labels: Labels): string | null {
    for (const [i, rule] of this.rules.entries()) {
      if (!matchesAll(rule.target, labels)) continue;
      const b = this.buckets[i].get(equalKey(rule, labels));
      if (!b) continue;
      for (const fp of b.oneSided) return fp;
      // A target that is itself a source of this rule is not inhibited by two-sided sources (itself included).
      if (!matchesAll(rule.source, labels)) for (const fp of b.twoSided) return fp;
    }
    return null;
  }

  nameOf(fingerprint: string): string {
    return this.names.get(fingerprint) ?? fingerprint;
  }
}

/**
 * Every node's migrations: a node saved by the current version (the shipped flows, saved by today's
 * editors with configVersion 1) loads unchanged; one saved without configVersion is migrated to
 * what the runtime already read it as.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { parseDecodeConfig } from '../../lib/decode/config';
import { parseHealthConfig } from '../../lib/health/config';
import { parseAlertsConfig } from '../../lib/alerts/config';
import { defaultRouting } from '../../lib/alerts/defaults';
import { FLUSH_MS, parseFlushMs } from '../../lib/registry/defaults';
import { migrate, savedVersion, changedKeys, type Migration, type SavedDef } from '../../nodes/shared/migrations';
import * as decode from '../../nodes/fleet-decode/migrations';
import * as health from '../../nodes/fleet-health/migrations';
import * as alerts from '../../nodes/fleet-alerts/migrations';
import * as registry from '../../nodes/fleet-registry/migrations';

const root = path.resolve(__dirname, '..', '..', '..');
const NODES: Record<string, { migrations: readonly Migration[]; version: number }> = {
  'fleet-decode': { migrations: decode.migrations, version: decode.FLEET_DECODE_VERSION },
  'fleet-health': { migrations: health.migrations, version: health.FLEET_HEALTH_VERSION },
  'fleet-alerts': { migrations: alerts.migrations, version: alerts.FLEET_ALERTS_VERSION },
  'fleet-registry': { migrations: registry.migrations, version: registry.FLEET_REGISTRY_VERSION },
};

function shippedNodes(): SavedDef[] {
  const files = [...fs.readdirSync(path.join(root, 'flows')).map((f) => path.join(root, 'flows', f)), path.join(root, 'demo', 'fleet-dashboard.json')];
  return files.flatMap((f) => (JSON.parse(fs.readFileSync(f, 'utf8')) as SavedDef[]).filter((n) => typeof n.type === 'string' && n.type in NODES));
}

function run(def: SavedDef): SavedDef {
  const spec = NODES[def.type as string];
  const r = migrate(def, spec.migrations, spec.version);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.def;
}

describe('saved-flow migrations', () => {
  describe('the runner', () => {
    const steps: Migration[] = [
      { from: 0, to: 1, migrate: (d) => ({ ...d, a: 1 }) },
      { from: 1, to: 2, migrate: (d) => ({ ...d, b: Number(d.a) + 1 }) },
    ];
    it('reads a missing configVersion as 0 and a numeric string as its number', () => {
      assert.equal(savedVersion({}), 0);
      assert.equal(savedVersion({ configVersion: '2' }), 2);
      assert.equal(savedVersion({ configVersion: 'x' }), null);
    });
    it('applies each step in order and stamps the version', () => {
      const r = migrate({ keep: true }, steps, 2);
      assert.ok(r.ok);
      assert.deepEqual(r.def, { keep: true, a: 1, b: 2, configVersion: 2 });
      assert.equal(r.applied, 2);
    });
    it('refuses a newer version, a bad one and a missing step', () => {
      for (const [def, want] of [[{ configVersion: 3 }, /newer/], [{ configVersion: -1 }, /not a whole number/], [{ configVersion: 1 }, /no migration from configuration version 1/]] as const) {
        const r = migrate(def, steps.slice(0, 1), 2);
        assert.ok(!r.ok);
        assert.equal(r.field, 'configVersion');
        assert.match(r.reason, want);
      }
    });
    it('names the keys a migration changed, for the editor to write back', () => {
      assert.deepEqual(changedKeys({ a: 1, b: [1] }, { a: 1, b: [1, 2], c: 'x' }), ['b', 'c']);
    });
  });

  describe('a node saved by the current version (the shipped flows)', () => {
    const saved = shippedNodes();
    it('finds every node type in the shipped flows', () => {
      assert.deepEqual([...new Set(saved.map((n) => n.type))].sort(), Object.keys(NODES).sort());
    });
    for (const def of saved) {
      it(`${String(def.type)} ${String(def.id)} loads with configVersion ${String(def.configVersion)} and no change`, () => {
        assert.equal(def.configVersion, NODES[def.type as string].version);
        assert.deepEqual(run(def), def);
      });
    }
  });

  describe('a node saved without configVersion', () => {
    it('fleet-decode: fills the runtime\'s defaults; the decoder runs the same options', () => {
      const old = { id: 'd', type: 'fleet-decode', registry: 'r', rejects: 'both', prefixMap: '{"esp32":"bench"}' };
      const now = run(old);
      assert.equal(now.configVersion, 1);
      assert.deepEqual(now.profiles, ['standard', 'ti0162', 'ti0162-lib', 'whofi']);
      assert.equal(now.maxBytes, 16384);
      assert.equal(now.rejects, 'both', 'a saved value is kept');
      assert.deepEqual(parseDecodeConfig(now), parseDecodeConfig(old));
    });
    it('fleet-decode: keeps what was saved, even a bad value, for the parser to name', () => {
      const now = run({ type: 'fleet-decode', profiles: ['nope'], maxBytes: 10 });
      assert.deepEqual(now.profiles, ['nope']);
      const r = parseDecodeConfig(now);
      assert.ok(!r.ok);
      assert.equal(r.field, 'profiles');
    });
    it('fleet-health: an offline check every 5 s and no summary, as the runtime read the absent fields', () => {
      const now = run({ type: 'fleet-health', registry: 'r' });
      assert.deepEqual({ sweepS: now.sweepS, summaryS: now.summaryS, scoring: now.scoring, configVersion: now.configVersion }, { sweepS: 5, summaryS: 0, scoring: '', configVersion: 1 });
      assert.ok(parseHealthConfig(now.scoring || undefined).ok);
      assert.equal(run({ type: 'fleet-health', sweepS: 10, summaryS: 60 }).summaryS, 60);
    });
    it('fleet-alerts: an absent routing becomes the runtime\'s default routing for the receivers', () => {
      const now = run({ type: 'fleet-alerts', receivers: ['pager', 'mail'] });
      assert.deepEqual(JSON.parse(String(now.routing)), defaultRouting(['pager', 'mail']));
      assert.equal(now.outputs, 2);
      const a = parseAlertsConfig(now.receivers, now.routing);
      const b = parseAlertsConfig(['pager', 'mail'], undefined);
      assert.ok(a.ok && b.ok);
      assert.deepEqual(a.value.tree, b.value.tree);
    });
    it('fleet-registry: persisted, default store, written every second', () => {
      const now = run({ type: 'fleet-registry', name: 'fleet' });
      assert.deepEqual({ persist: now.persist, store: now.store, flushMs: now.flushMs }, { persist: true, store: '', flushMs: FLUSH_MS.default });
      assert.equal(run({ type: 'fleet-registry', persist: false }).persist, false);
      assert.ok(parseFlushMs(now.flushMs).ok);
      assert.ok(!parseFlushMs(50).ok);
    });
  });
});

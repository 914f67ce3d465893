/** fleet-ota's configuration, start request and target selection (lib/ota/node-config.ts). */
import assert from 'node:assert/strict';

import { generateSigningKey } from '../../lib/ota/keys';
import { parseOtaConfig, parseStartRequest, parseTargets, selectTargets } from '../../lib/ota/node-config';
import { defaultPlan } from '../../lib/ota/plan';

describe('fleet-ota configuration and start requests', () => {
  it('reads a saved configuration, with defaults, and names the field at fault', () => {
    const pem = generateSigningKey().publicPem;
    const ok = parseOtaConfig({ publicKeys: `${pem}\n${generateSigningKey('ecdsa-p256').publicPem}`, baseUrl: 'http://10.0.0.2:1880/', tickMs: '250' });
    assert.ok(ok.ok);
    assert.equal(ok.value.publicKeys.length, 2);
    assert.equal(ok.value.baseUrl, 'http://10.0.0.2:1880');
    assert.equal(ok.value.tickMs, 250);
    assert.equal(ok.value.folder, 'ota-images');
    const empty = parseOtaConfig({});
    assert.ok(empty.ok);
    assert.equal(empty.value.baseUrl, null, 'empty device URL: from the settings');
    const bad = (def: Record<string, unknown>): string => { const r = parseOtaConfig(def); return r.ok ? 'ok' : r.field; };
    assert.equal(bad({ publicKeys: 'not a key' }), 'publicKeys');
    assert.equal(bad({ publicKeys: generateSigningKey().privatePem }), 'publicKeys', 'a private key is refused');
    assert.equal(bad({ baseUrl: 'ftp://x' }), 'baseUrl');
    assert.equal(bad({ tokenTtlS: 5 }), 'tokenTtlS');
    assert.equal(bad({ tickMs: 5 }), 'tickMs');
    assert.equal(bad({ plan: '{"waves":[50,10]}' }), 'plan');
  });

  it('merges a start request\'s plan over the node\'s defaults, field by field', () => {
    const base = { ...defaultPlan(), concurrency: 7, healthGate: { windowSeconds: 60, margin: 5 } };
    const r = parseStartRequest({ image: 'env-1.3.0', targets: 'all', plan: { retries: 1, healthGate: { windowSeconds: 5 } } }, base);
    assert.ok(r.ok);
    assert.equal(r.value.plan.concurrency, 7);
    assert.deepEqual(r.value.plan.retries, { failed: 1, timedOut: 1 });
    assert.deepEqual(r.value.plan.healthGate, { windowSeconds: 5, margin: 5 });
    const field = (x: unknown): string => { const q = parseStartRequest(x, base); return q.ok ? 'ok' : q.field; };
    assert.equal(field({ image: '../etc/passwd', targets: 'all' }), 'image');
    assert.equal(field({ image: 'a', targets: 'all', plan: { concurrency: 0 } }), 'plan.concurrency');
    assert.equal(field({ image: 'a', targets: {} }), 'targets');
    assert.equal(field({ image: 'a', targets: 'all', surprise: 1 }), 'payload.surprise');
    assert.equal(field({ image: 'a', id: 'bad id' }), 'id');
  });

  it('selects targets from the registry by kind, labels (own properties only) and list', () => {
    const known = [
      { id: 'e1', kind: 'env-sensor', arch: 'sync', version: '1.2.0', labels: { site: 'north' } },
      { id: 'e2', kind: 'env-sensor', arch: 'full', version: '1.2.0', labels: { site: 'south' } },
      { id: 'c1', kind: 'csi-sensor', arch: null, version: '2.0.0', labels: { site: 'north' } },
    ];
    const ids = (sel: unknown): string[] => { const t = parseTargets(sel); assert.ok(t.ok); return selectTargets(t.value, 'env-sensor', known).map((d) => d.id).sort(); };
    assert.deepEqual(ids('all'), ['e1', 'e2'], 'every device of the image\'s kind');
    assert.deepEqual(ids({ kinds: ['csi-sensor'] }), ['c1']);
    assert.deepEqual(ids({ labels: { site: 'north' } }), ['c1', 'e1']);
    assert.deepEqual(ids({ kinds: ['env-sensor'], labels: { site: 'north' } }), ['e1']);
    assert.deepEqual(ids({ labels: { constructor: 'x' } }), [], 'an inherited property is no label');
    assert.deepEqual(ids(['e2', 'ghost']), ['e2', 'ghost'], 'a listed device the registry lacks is still a target');
    const ghost = selectTargets({ devices: ['ghost'] }, 'env-sensor', known)[0];
    assert.deepEqual([ghost.kind, ghost.version], ['env-sensor', null]);
  });
});

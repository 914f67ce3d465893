/**
 * The `mqtt in` subscriptions come from the topic map: subscriptionsFor() admits every topic its
 * options read and no topic of a route they leave out, and every flow we ship or build subscribes
 * to exactly what it gives for its fleet-decode node's configuration.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { filterMatches, subscriptionsFor, type SubscriptionOptions } from '../../firmware/contract/subscriptions';
import { DEVICE_KINDS, KIND, PROFILES, TOPIC_ROUTES, topicFor, type TopicRoute } from '../../firmware/contract/topics';
import { parseDecodeConfig, type SavedDecodeConfig } from '../../lib/decode/config';
import { TopicMatcher } from '../../lib/decode/topic-matcher';
import { flow as benchFlow } from '../../bench/broker';
import { e2eFlow } from '../support/flows';

const root = path.resolve(__dirname, '..', '..', '..');

type FlowNode = Record<string, unknown> & { id: string; type: string; wires?: unknown };

const sample = (r: TopicRoute, prefix?: string): string | null => {
  const p = prefix ?? r.defaultPrefix;
  if (r.pattern.startsWith('{prefix+}') && p === undefined) return null;
  return topicFor(r.id, { device: 'dev-1', arch: 'full', prefix: p });
};

function selected(r: TopicRoute, o: SubscriptionOptions): boolean {
  const profiles = o.profiles ?? PROFILES;
  const kinds = o.kinds ?? DEVICE_KINDS;
  return profiles.includes(r.profile) && (o.downlink !== false || r.direction === 'up') && (r.deviceKind === null || kinds.includes(r.deviceKind));
}

/** The filters a flow's `mqtt in` nodes feeding each fleet-decode node subscribe to, and what they should be. */
function checkFlow(name: string, flow: readonly FlowNode[]): number {
  const decoders = flow.filter((n) => n.type === 'fleet-decode');
  const inputs = flow.filter((n) => n.type === 'mqtt in');
  const feeds = (n: FlowNode, id: string): boolean => Array.isArray(n.wires) && n.wires.flat().includes(id);
  // An input that feeds no decoder (a test's control topic) must not listen on the contract's topics.
  const families = new Set(TOPIC_ROUTES.map((r) => r.pattern.split('/')[0]));
  for (const n of inputs.filter((x) => !decoders.some((d) => feeds(x, d.id)))) {
    const topic = String(n.topic);
    assert.ok(!families.has(topic.split('/')[0]) && !TOPIC_ROUTES.some((r) => sample(r) !== null && filterMatches(topic, sample(r) as string)), `${name}: mqtt in ${n.id} (${topic}) listens on the contract's topics but feeds no fleet-decode node`);
  }
  for (const d of decoders) {
    const parsed = parseDecodeConfig(d as SavedDecodeConfig);
    assert.ok(parsed.ok, `${name}: ${d.id} has a bad configuration`);
    if (!parsed.ok) continue;
    const want = subscriptionsFor({ profiles: parsed.value.decoder.profiles, kinds: parsed.value.decoder.deviceKinds, downlink: parsed.value.decoder.includeCommands });
    const got = inputs.filter((n) => feeds(n, d.id)).map((n) => String(n.topic)).sort();
    assert.deepEqual(got, want, `${name}: the mqtt in nodes of ${d.id}`);
  }
  return inputs.length;
}

describe('contract: mqtt in subscriptions', () => {
  describe('filterMatches follows MQTT 3.1.1 §4.7.1 (OASIS standard, its non-normative examples)', () => {
    const cases: Array<[string, string, boolean]> = [
      ['sport/tennis/player1/#', 'sport/tennis/player1', true],
      ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
      ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
      ['sport/#', 'sport', true],
      ['sport/tennis/+', 'sport/tennis/player1', true],
      ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
      ['sport/+', 'sport', false],
      ['sport/+', 'sport/', true],
      ['+/+', '/finance', true],
      ['/+', '/finance', true],
      ['+', '/finance', false],
    ];
    for (const [filter, topic, expected] of cases) {
      it(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () => assert.equal(filterMatches(filter, topic), expected));
    }
  });

  const optionSets: SubscriptionOptions[] = [
    {},
    { downlink: false },
    { profiles: ['standard'] },
    { profiles: ['standard'], downlink: false },
    { profiles: ['standard', 'ti0162', 'ti0162-lib'], downlink: true },
    { profiles: ['ti0162'], downlink: false },
    { profiles: ['whofi'], downlink: false },
    { profiles: ['ti0162-lib', 'whofi'] },
    { kinds: [KIND.envSensor, KIND.envMonitor], downlink: false },
    { kinds: [KIND.csiSensor] },
    { profiles: ['standard', 'ti0162'], prefixes: ['site/a', 'lab'], downlink: false },
  ];

  for (const o of optionSets) {
    const label = JSON.stringify(o);
    const filters = subscriptionsFor(o);
    const matcher = new TopicMatcher(o.profiles ?? PROFILES, o.downlink !== false);

    it(`${label}: every topic a wanted route carries is subscribed`, () => {
      for (const r of TOPIC_ROUTES.filter((x) => selected(x, o))) {
        const topic = sample(r, o.prefixes?.[0]);
        if (topic === null) continue;
        assert.ok(filters.some((f) => filterMatches(f, topic)), `${r.id}: ${topic} is under none of ${filters.join(', ')}`);
      }
    });

    it(`${label}: a topic of a route left out arrives only where a wanted route reads it too`, () => {
      for (const r of TOPIC_ROUTES.filter((x) => !selected(x, o))) {
        const topic = sample(r, o.prefixes?.[0]);
        if (topic === null || !filters.some((f) => filterMatches(f, topic))) continue;
        const readers = matcher.matchAll(topic).filter((m) => selected(m.route, o));
        assert.ok(readers.length > 0, `${r.id}: ${topic} is subscribed by ${filters.filter((f) => filterMatches(f, topic)).join(', ')} but no wanted route reads it`);
      }
    });

    it(`${label}: no filter is covered by another, and the list is sorted`, () => {
      assert.deepEqual([...filters].sort(), filters);
      assert.equal(new Set(filters).size, filters.length);
      for (const f of filters) {
        const probe = f.replace(/\+/g, 'x').replace(/#$/, 'x');
        for (const g of filters) if (g !== f && filterMatches(g, probe)) assert.fail(`${f} and ${g} overlap on ${probe}`);
      }
    });
  }

  it('without commands no filter subscribes to a downlink topic that no uplink route shares', () => {
    const filters = subscriptionsFor({ downlink: false });
    for (const r of TOPIC_ROUTES.filter((x) => x.direction === 'down')) {
      const topic = sample(r);
      if (topic === null) continue;
      const upReaders = new TopicMatcher(PROFILES, false).matchAll(topic);
      if (upReaders.length === 0) assert.ok(!filters.some((f) => filterMatches(f, topic)), `${topic} is subscribed`);
    }
  });

  it('commands and a whole family: with every route under a first segment wanted it is one filter', () => {
    assert.ok(subscriptionsFor({ profiles: ['standard', 'ti0162'] }).includes('esp32/#'));
    // TI0162-IOT's apps publish under esp32/ too (their default prefix): a standard-only decoder does not get them.
    assert.ok(!subscriptionsFor({ profiles: ['standard'] }).includes('esp32/#'));
    assert.ok(!subscriptionsFor({ profiles: ['standard'], downlink: false }).some((f) => f === 'esp32/#' || f === 'esp32/+/+'));
  });

  describe('every flow subscribes to what the contract gives for its decoder', () => {
    const shipped = [
      ...fs.readdirSync(path.join(root, 'flows')).filter((f) => f.endsWith('.json')).map((f) => path.join('flows', f)),
      ...fs.readdirSync(path.join(root, 'demo')).filter((f) => f.endsWith('.json')).map((f) => path.join('demo', f)),
    ];
    for (const file of shipped) {
      it(file, () => {
        const flow = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as FlowNode[];
        checkFlow(file, flow);
      });
    }
    it('the quick start has mqtt in nodes at all', () => {
      const flow = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'quick-start.json'), 'utf8')) as FlowNode[];
      assert.ok(checkFlow('quick-start', flow) > 0);
    });
    it('test support: the e2e flow', () => assert.ok(checkFlow('e2eFlow', e2eFlow(1883) as FlowNode[]) > 0));
    it('bench: the broker bench flow', () => assert.ok(checkFlow('bench/broker', benchFlow(1883) as FlowNode[]) > 0));
  });
});

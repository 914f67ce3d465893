/**
 * The dashboard tab hands the alerts of fleet-ota (which come in with its progress and summaries,
 * through the link `npm start` feeds from its outputs 2–4) and of its own fleet-steel to the quick
 * start's fleet-alerts, so they are routed, notified and listed on the Alerts page; fleet-ota's
 * progress and summaries do not go there. Walked over the shipped JSON: wires, link out → link in,
 * and the switch's own rules; a function node ends a walk (what it sends is its tests' business).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { alertTopic, makeAlert } from '../../lib/alert-shape';

interface FlowNode { id: string; type: string; wires?: string[][]; links?: string[]; property?: string; rules?: Array<{ t: string; v: string; case?: boolean }>; checkall?: string }

const root = path.join(__dirname, '..', '..', '..');
const read = (...p: string[]): FlowNode[] => JSON.parse(fs.readFileSync(path.join(root, ...p), 'utf8')) as FlowNode[];
const nodes = [...read('flows', 'quick-start.json'), ...read('demo', 'fleet-dashboard.json'), ...read('demo', 'fleet-dashboard-ota.json')];
const byId = new Map(nodes.map((n) => [n.id, n]));
const node = (id: string): FlowNode => { const n = byId.get(id); assert.ok(n, `no node ${id}`); return n; };
const alertsNode = nodes.find((n) => n.type === 'fleet-alerts')!;

/** A switch's outputs taken by `topic`, from its rules (only the kinds this tab uses are read). */
function switchPorts(n: FlowNode, topic: string): number[] {
  assert.equal(n.property, 'topic', `${n.id} switches on msg.topic`);
  const ports: number[] = [];
  for (const [i, r] of (n.rules ?? []).entries()) {
    assert.equal(r.t, 'regex', `${n.id}: rule ${i} is a regex`);
    if (new RegExp(r.v, r.case ? 'i' : '').test(topic)) { ports.push(i); if (n.checkall === 'false') break; }
  }
  return ports;
}

/** Every node a message with `topic` reaches from `from`'s output `port`, without passing a function. */
function reached(from: string, port: number, topic: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(node(from).wires?.[port] ?? [])];
  while (todo.length) {
    const id = todo.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = node(id);
    if (n.type === 'link out') todo.push(...(n.links ?? []));
    else if (n.type === 'link in') todo.push(...(n.wires?.[0] ?? []));
    else if (n.type === 'switch') for (const p of switchPorts(n, topic)) todo.push(...(n.wires?.[p] ?? []));
  }
  return seen;
}

/** The OTA tab's link out, as `npm start` feeds it from fleet-ota's outputs 2–4 (a link out has one input: port 0 of a stand-in). */
function fromOta(topic: string): Set<string> {
  const out = nodes.find((n) => n.type === 'link out' && n.id === 'ota-db-out')!;
  const standIn = 'test-ota-outputs';
  byId.set(standIn, { id: standIn, type: 'fleet-ota', wires: [[out.id]] });
  return reached(standIn, 0, topic);
}

describe('the dashboard tab: OTA and Steel alerts into the quick start\'s fleet-alerts', () => {
  it('has one fleet-alerts to reach (the quick start\'s)', () => {
    assert.equal(nodes.filter((n) => n.type === 'fleet-alerts').length, 1);
  });

  it('passes fleet-ota\'s alerts on to it, whatever the alert and device', () => {
    // The topics fleet-ota sends its alerts on (lib/ota/service.ts), for a rollout's and a device's.
    const ota = (name: string, device: string | null) => alertTopic(makeAlert({ name, severity: 'critical', device, summary: name, startsAt: 0, source: 'fleet-ota' }));
    for (const topic of [ota('OtaRolloutAborted', null), ota('OtaDeviceFailed', 'env-sensor-004'), ota('OtaSilentRollback', 'env-sensor-012'), ota('OtaRolloutPaused', null)]) {
      assert.ok(fromOta(topic).has(alertsNode.id), topic);
    }
  });

  it('keeps fleet-ota\'s progress, summaries and status to the Rollouts page', () => {
    for (const topic of ['fleet-ota/device/env-sensor-004', 'fleet-ota/rollout/r-1', 'fleet-ota/status', 'fleet-ota/image/env-sensor-1.3.0', 'start']) {
      const to = fromOta(topic);
      assert.ok(!to.has(alertsNode.id), `${topic} reached fleet-alerts`);
      assert.ok(to.has('db3-model'), `${topic} reaches the Rollouts page's model`);
    }
  });

  it('passes the dashboard\'s fleet-steel alerts (its 4th output) on to it, and nothing of its other outputs', () => {
    const steel = nodes.find((n) => n.type === 'fleet-steel' && n.id === 'db4-steel')!;
    assert.ok(reached(steel.id, 3, 'SteelProgramFailed').has(alertsNode.id));
    assert.ok(reached(steel.id, 3, 'SteelSuccessRateLow').has(alertsNode.id));
    for (const port of [0, 1, 2]) assert.ok(!reached(steel.id, port, 'steel').has(alertsNode.id), `output ${port + 1}`);
  });
});

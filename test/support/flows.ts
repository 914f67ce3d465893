/**
 * The quick-start pipeline with its debug nodes swapped for MQTT outputs, so a test outside the
 * Node-RED process can see what fleet-decode sent: e2e/decoded and e2e/rejects.
 */
import fs from 'node:fs';
import path from 'node:path';

import { subscriptionsFor, type SubscriptionOptions } from '../../firmware/contract/subscriptions';
import { KIND } from '../../firmware/contract/topics';

/**
 * The `mqtt in` nodes that feed a fleet-decode node: one per filter the contract gives for the
 * decoder's options (its defaults unless said), so a test flow listens where a shipped flow does.
 */
export function mqttInputs(idPrefix: string, tab: string, broker: string, target: string, options: SubscriptionOptions = {}): Array<Record<string, unknown>> {
  return subscriptionsFor(options).map((topic, i) => ({
    id: `${idPrefix}-${i}`, type: 'mqtt in', z: tab, topic, qos: '1', datatype: 'buffer', broker, nl: false, rap: true, rh: 0, inputs: 0, wires: [[target]],
  }));
}

export function e2eFlow(brokerPort: number, scoring: unknown = { silence: { multiple: 8, intervals: { [KIND.envSensor]: 1 } } }): unknown[] {
  const tab = 'e2e-tab';
  const inputs = mqttInputs('e2e-in', tab, 'e2e-broker', 'e2e-decode');
  return [
    { id: tab, type: 'tab', label: 'e2e' },
    { id: 'e2e-broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(brokerPort), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '15', cleansession: true },
    { id: 'e2e-registry', type: 'fleet-registry', name: 'fleet', persist: true, store: '', flushMs: 200 },
    ...inputs,
    { id: 'e2e-decode', type: 'fleet-decode', z: tab, registry: 'e2e-registry', rejects: 'output', wires: [['e2e-shape-ok', 'e2e-health'], ['e2e-shape-bad', 'e2e-health']] },
    { id: 'e2e-health', type: 'fleet-health', z: tab, registry: 'e2e-registry', scoring: JSON.stringify(scoring), sweepS: 1, summaryS: 0, wires: [['e2e-out-health'], ['e2e-out-alerts'], ['e2e-out-summary']] },
    { id: 'e2e-in-cmd', type: 'mqtt in', z: tab, topic: 'e2e/cmd', qos: '1', datatype: 'json', broker: 'e2e-broker', nl: false, rap: false, rh: 0, inputs: 0, wires: [['e2e-cmd']] },
    { id: 'e2e-cmd', type: 'change', z: tab, rules: [{ t: 'move', p: 'payload.command', pt: 'msg', to: 'command', tot: 'msg' }], wires: [['e2e-health']] },
    { id: 'e2e-out-health', type: 'mqtt out', z: tab, topic: 'e2e/health', qos: '1', retain: 'false', broker: 'e2e-broker', wires: [] },
    { id: 'e2e-out-alerts', type: 'mqtt out', z: tab, topic: 'e2e/alerts', qos: '1', retain: 'false', broker: 'e2e-broker', wires: [] },
    { id: 'e2e-out-summary', type: 'mqtt out', z: tab, topic: 'e2e/summary', qos: '1', retain: 'false', broker: 'e2e-broker', wires: [] },
    {
      id: 'e2e-shape-ok', type: 'change', z: tab,
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"kind": kind, "device": device.id, "online": device.online, "source": topic, "reading": payload}', tot: 'jsonata' }],
      wires: [['e2e-out-ok']],
    },
    {
      id: 'e2e-shape-bad', type: 'change', z: tab,
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'error', tot: 'msg' }],
      wires: [['e2e-out-bad']],
    },
    { id: 'e2e-out-ok', type: 'mqtt out', z: tab, topic: 'e2e/decoded', qos: '1', retain: 'false', broker: 'e2e-broker', wires: [] },
    { id: 'e2e-out-bad', type: 'mqtt out', z: tab, topic: 'e2e/rejects', qos: '1', retain: 'false', broker: 'e2e-broker', wires: [] },
  ];
}

/** A flow from flows/ as a user would import it, its mqtt-broker pointed at the test's broker port. */
export function shippedFlow(file: string, brokerPort: number): Array<Record<string, unknown>> {
  const flow = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'flows', file), 'utf8')) as Array<Record<string, unknown>>;
  return flow.map((n) => (n.type === 'mqtt-broker' ? { ...n, port: String(brokerPort) } : n));
}

/**
 * fleet-decode: MQTT or serial traffic in; output 1 validated, normalised readings; output 2 rejects.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';

import { parseDecodeConfig, type SavedDecodeConfig } from '../../lib/decode/config';
import { Decoder, type Decoded } from '../../lib/decode/decoder';
import { RejectError } from '../../lib/decode/reject';
import { registryOf } from '../shared/registry-node';
import { ThrottledStatus } from '../shared/status';

interface FleetDecodeDef extends NodeDef, SavedDecodeConfig {
  registry: string;
}

type InMessage = NodeMessageInFlow & { deviceId?: unknown; retain?: unknown };
type Send = (msg: Array<NodeMessageInFlow | null>) => void;

/** msg.contract says which rule read the message; one frozen object per rule, not one per message. */
const CONTRACTS = new Map<string, Readonly<Record<string, unknown>>>();
function contractOf(d: Decoded): Readonly<Record<string, unknown>> {
  const key = `${d.contractVersion}|${d.route}|${d.target ?? ''}`;
  let c = CONTRACTS.get(key);
  if (!c) {
    c = Object.freeze({ version: d.contractVersion, route: d.route, profile: d.profile, direction: d.direction, target: d.target });
    CONTRACTS.set(key, c);
  }
  return c;
}

export = function register(RED: NodeAPI): void {
  function FleetDecode(this: Node, def: FleetDecodeDef): void {
    RED.nodes.createNode(this, def);
    const status = new ThrottledStatus(this);
    const config = parseDecodeConfig(def);
    if (!config.ok) {
      this.error(RED._('fleet-decode.errors.config', { field: config.field, reason: config.reason }));
      status.now({ fill: 'red', shape: 'ring', text: RED._('fleet-decode.status.badConfig', { field: config.field }) });
      this.on('input', (_msg: InMessage, _send: Send, done: (err?: Error) => void) => done(new Error(`fleet-decode: ${config.field}: ${config.reason}`)));
      return;
    }
    const { rejects } = config.value;
    const decoder = new Decoder(config.value.decoder);
    const fleet = registryOf(RED, def.registry);
    let decoded = 0;
    let rejected = 0;
    const showCounts = (): void => status.set(() => ({
      fill: rejected > 0 ? 'yellow' : 'green', shape: 'dot',
      text: RED._('fleet-decode.status.counts', { decoded, rejected }),
    }));
    status.now({ fill: 'grey', shape: 'ring', text: RED._('fleet-decode.status.waiting') });

    this.on('input', (msg: InMessage, send: Send, done: (err?: Error) => void) => {
      const result = decoder.decode({ topic: msg.topic, payload: msg.payload, deviceId: msg.deviceId, receivedAt: Date.now(), retained: msg.retain === true });
      const out = msg as InMessage & Record<string, unknown>;
      if (result.ok) {
        const d = result.value;
        decoded++;
        fleet?.record(d);
        const rec = d.device.id !== null ? fleet?.get(d.device.id) : undefined;
        const ref = d.device;
        out.payload = d.payload;
        out.kind = d.kind;
        out.device = rec
          ? { id: ref.id, kind: ref.kind ?? rec.kind, arch: ref.arch ?? rec.arch, firmware: ref.firmware ?? rec.firmware, identified: ref.identified, source: ref.source, online: rec.online, labels: rec.labels }
          : ref;
        out.contract = contractOf(d);
        showCounts();
        send([out, null]);
        done();
        return;
      }
      rejected++;
      out.error = result.reject;
      showCounts();
      if (rejects !== 'error') send([null, out]);
      done(rejects === 'output' ? undefined : new RejectError(result.reject));
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      status.close();
      done();
    });
  }

  RED.nodes.registerType('fleet-decode', FleetDecode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

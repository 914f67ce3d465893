/**
 * fleet-decode: MQTT or serial traffic in; output 1 validated, normalised readings; output 2 rejects.
 */
import type { NodeMessageInFlow } from 'node-red';

import { parseDecodeConfig, type DecodeConfig } from '../../lib/decode/config';
import { Decoder, type Decoded } from '../../lib/decode/decoder';
import { RejectError } from '../../lib/decode/reject';
import { defineNode } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { FLEET_DECODE_VERSION, migrations } from './migrations';

type InMessage = NodeMessageInFlow & { deviceId?: unknown; retain?: unknown };

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

export = defineNode<DecodeConfig, InMessage>({
  type: 'fleet-decode',
  version: FLEET_DECODE_VERSION,
  migrations,
  parse: (def) => parseDecodeConfig(def),
  create({ RED, config, def, status, t }) {
    const decoder = new Decoder(config.decoder);
    const fleet = registryOf(RED, typeof def.registry === 'string' ? def.registry : undefined);
    let decoded = 0;
    let rejected = 0;
    const showCounts = (): void => status.set(() => ({ fill: rejected > 0 ? 'yellow' : 'green', shape: 'dot', text: t('status.counts', { decoded, rejected }) }));
    status.now({ fill: 'grey', shape: 'ring', text: t('status.waiting') });

    return {
      input(msg, send) {
        const result = decoder.decode({ topic: msg.topic, payload: msg.payload, deviceId: msg.deviceId, receivedAt: Date.now(), retained: msg.retain === true });
        const out = msg as InMessage & Record<string, unknown>;
        if (!result.ok) {
          rejected++;
          out.error = result.reject;
          showCounts();
          if (config.rejects !== 'error') send([null, out]);
          if (config.rejects !== 'output') throw new RejectError(result.reject);
          return;
        }
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
      },
    };
  },
});

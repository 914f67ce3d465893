/**
 * fleet-decode: MQTT or serial traffic in; output 1 validated, normalised readings; output 2 rejects.
 */
import type { NodeMessageInFlow, NodeStatus } from 'node-red';

import { parseDecodeConfig, type DecodeConfig } from '../../lib/decode/config';
import { Decoder } from '../../lib/decode/decoder';
import { RejectError } from '../../lib/decode/reject';
import { defineNode } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { FLEET_DECODE_VERSION, migrations } from './migrations';
import { writeDecoded } from './output';

type InMessage = NodeMessageInFlow & { deviceId?: unknown; retain?: unknown; error?: unknown };

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
    // One function for the status text, built only when the throttled badge shows it (not per message).
    const counts = (): NodeStatus => ({ fill: rejected > 0 ? 'yellow' : 'green', shape: 'dot', text: t('status.counts', { decoded, rejected }) });
    const showCounts = (): void => status.set(counts);
    status.now({ fill: 'grey', shape: 'ring', text: t('status.waiting') });

    return {
      input(msg, send) {
        const result = decoder.decode({ topic: msg.topic, payload: msg.payload, deviceId: msg.deviceId, receivedAt: Date.now(), retained: msg.retain === true });
        if (!result.ok) {
          rejected++;
          msg.error = result.reject;
          showCounts();
          if (config.rejects !== 'error') send([null, msg]);
          if (config.rejects !== 'output') throw new RejectError(result.reject);
          return;
        }
        decoded++;
        fleet?.record(result.value);
        const id = result.value.device.id;
        showCounts();
        send([writeDecoded(msg, result.value, id !== null ? fleet?.get(id) : undefined), null]);
      },
    };
  },
});

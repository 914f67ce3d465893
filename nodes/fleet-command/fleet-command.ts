/**
 * fleet-command: configuration pushes from a fleet file, resets and emergency stops, with their
 * acknowledgements. Output 1 is for a core `mqtt out` (the only place a secret value appears),
 * output 2 per-device results and summaries, output 3 alerts in the shared shape. The logic is
 * lib/command/controller.ts; the audit trail is the chosen registry's (lib/registry/audit.ts).
 */
import type { Node, NodeAPI, NodeMessageInFlow } from 'node-red';

import { CommandController, validateFleetRequest, type CommandCredentials, type CommandRegistry } from '../../lib/command/controller';
import { parseCommandConfig, type CommandNodeConfig } from '../../lib/command/node-config';
import type { BrokerConnection } from '../../lib/command/secrets';
import { AuditLog } from '../../lib/registry/audit';
import { defineNode, type NodeKit, type Outputs } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { FLEET_COMMAND_VERSION, migrations } from './migrations';

type InMessage = NodeMessageInFlow & Record<string, unknown>;
interface BrokerNode extends Node { brokerurl?: unknown; usetls?: unknown; broker?: unknown; port?: unknown }

/** The broker connection the `mqtt out` uses: from the named mqtt-broker node, else the node's own fields. */
function brokerOf(RED: NodeAPI, config: CommandNodeConfig): BrokerConnection {
  const b = config.broker ? RED.nodes.getNode(config.broker) as BrokerNode | null : null;
  if (b) {
    const url = typeof b.brokerurl === 'string' && b.brokerurl ? b.brokerurl
      : typeof b.broker === 'string' ? (/^[a-z]+:\/\//.test(b.broker) ? b.broker : `mqtt://${b.broker}:${String(b.port ?? 1883)}`) : undefined;
    return { ...(url ? { url } : {}), tls: b.usetls === true };
  }
  return { ...(config.brokerUrl ? { url: config.brokerUrl } : {}), tls: config.brokerTls };
}

/** The chosen registry's devices and audit trail; null when none is chosen or it is not deployed. */
function registryFor(RED: NodeAPI, id: string, warn: (text: string) => void): () => CommandRegistry | null {
  let warned = false;
  return () => {
    const fleet = registryOf(RED, id || undefined);
    if (!fleet) return null;
    return {
      devices: () => fleet.records(),
      audit: () => {
        try {
          const log = (RED.nodes.getNode(id) as (Node & { audit?: unknown }) | null)?.audit;
          return log instanceof AuditLog ? log : null;
        } catch (err) {
          // The registry's journal did not open: this node keeps its own trail meanwhile.
          if (!warned) { warned = true; warn(`fleet-command: the registry's audit trail is unavailable (${(err as Error).message}); keeping this node's own`); }
          return null;
        }
      },
    };
  };
}

function create(kit: NodeKit<CommandNodeConfig>) {
  const { RED, node, config, status, t } = kit;
  const ctl = new CommandController({
    config, store: kit.state, broker: brokerOf(RED, config),
    credentials: ((node as Node & { credentials?: CommandCredentials }).credentials ?? {}),
    env: (name) => process.env[name],
    node: { id: node.id, ...(node.name ? { name: node.name } : {}) },
    registry: registryFor(RED, config.registry, (text) => node.warn(text)),
  });

  const showStatus = () => status.set(() => {
    const s = ctl.status();
    return { fill: s.fill, shape: 'dot', text: t('status.counts', s.counts) };
  });
  const send = (fn: (o: Outputs) => void) => (o: Outputs) => { fn(o); showStatus(); };

  kit.every(1000, () => {
    const out = ctl.tick();
    if (out) send(kit.send)(out);
  });

  return {
    ready() {
      const warning = ctl.restore();
      if (warning) node.warn(warning);
      if (config.registry && !registryOf(RED, config.registry)) node.warn(t('errors.noRegistry'));
      status.now({ fill: 'grey', shape: 'ring', text: t('status.ready', { mode: config.mode }) });
    },
    input(msg: InMessage, out: (o: Outputs) => void): void {
      ctl.input(msg, send(out));
    },
    close() { ctl.close(); },
  };
}

export = defineNode<CommandNodeConfig, InMessage>({
  type: 'fleet-command',
  version: FLEET_COMMAND_VERSION,
  migrations,
  parse: (def) => parseCommandConfig(def),
  state: { mode: 'durable' },
  credentials: { wifiPassword: { type: 'password' }, mqttPassword: { type: 'password' } },
  create,
  admin(routes) {
    routes.post('/validate', (req, res) => {
      const a = validateFleetRequest(req.body, (name) => process.env[name]);
      res.status(a.status).json(a.body);
    });
  },
});

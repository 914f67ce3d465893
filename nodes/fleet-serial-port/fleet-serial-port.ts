/**
 * fleet-serial-port: the config node for one serial port (path and line settings). fleet-serial nodes
 * lease its connection from the pool, so several nodes share one open port; its admin endpoint lists
 * the machine's ports for the editor's picker.
 */
import { parsePortSettings, type PortSettings } from '../../lib/serial/config';
import { listPorts } from '../../lib/serial/port-list';
import { defineNode } from '../shared/kit';
import { FLEET_SERIAL_PORT_VERSION, migrations } from './migrations';
import { lease, type Lease } from './pool';

export = defineNode<PortSettings>({
  type: 'fleet-serial-port',
  version: FLEET_SERIAL_PORT_VERSION,
  migrations,
  parse: (def) => parsePortSettings(def),
  create({ node, config }) {
    Object.assign(node, {
      serialSettings: config,
      lease: (path?: string): Lease => lease(path === undefined || path === config.path ? config : { ...config, path }),
    });
    return { input() { /* a config node receives no messages */ } };
  },
  admin(routes) {
    routes.get('/ports', (_req, res) => {
      listPorts().then(
        (ports) => res.json({ ports }),
        (err: unknown) => res.status(500).json({ error: err instanceof Error ? err.message : String(err) }),
      );
    });
  },
});

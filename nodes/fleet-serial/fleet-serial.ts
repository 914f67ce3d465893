/**
 * fleet-serial: a device's serial console as messages (console mode), or its configuration written
 * over serial and acknowledged (provision mode). The port is a fleet-serial-port config node, shared
 * with other nodes; secrets come from the node's credentials or environment variables only.
 */
import type { NodeMessageInFlow } from 'node-red';

import { checkSecrets, type ProvisioningSecrets } from '../../firmware/contract/provisioning';
import { parseSerialConfig, type SerialNodeConfig } from '../../lib/serial/config';
import type { ConnectionState, SerialConnection } from '../../lib/serial/connection';
import { readProvisionRequest } from '../../lib/serial/provision-request';
import { provision, provisionBatch, type ChannelLease, type ProvisionResult } from '../../lib/serial/provisioning';
import { Redactor } from '../../lib/serial/redact';
import type { Lease } from '../fleet-serial-port/pool';
import { isSerialPortNode } from '../fleet-serial-port/port-node';
import { defineNode, type NodeKit } from '../shared/kit';
import { FLEET_SERIAL_VERSION, migrations } from './migrations';
import { CONSOLE_TOPIC, consoleTopic } from '../../firmware/contract/topics';

type InMessage = NodeMessageInFlow & { port?: unknown };
interface Credentials { wifiPassword?: string; mqttPassword?: string }

const WARN_EVERY_MS = 10_000;


/** Secrets: the node's credentials first, else the named environment variables. */
function secretsOf(kit: NodeKit<SerialNodeConfig>): { ok: true; value: ProvisioningSecrets } | { ok: false; reason: string } {
  const creds = ((kit.node as unknown as { credentials?: Credentials }).credentials ?? {});
  const pick = (cred: string | undefined, env: string): string | undefined => (cred ? cred : process.env[env]);
  const r = checkSecrets({ wifi_password: pick(creds.wifiPassword, kit.config.wifiPasswordEnv), mqtt_password: pick(creds.mqttPassword, kit.config.mqttPasswordEnv) });
  return r.ok ? r : { ok: false, reason: `${r.field}: ${r.reason}` };
}

export = defineNode<SerialNodeConfig, InMessage>({
  type: 'fleet-serial',
  version: FLEET_SERIAL_VERSION,
  migrations,
  parse: (def) => parseSerialConfig(def),
  credentials: { wifiPassword: { type: 'password' }, mqttPassword: { type: 'password' } },
  create(kit) {
    const { RED, node, config, def, status, t } = kit;
    const portNode = RED.nodes.getNode(typeof def.serial === 'string' ? def.serial : '');
    const redactor = new Redactor();
    const secrets = secretsOf(kit);
    if (secrets.ok) redactor.add(secrets.value.wifi_password, secrets.value.mqtt_password);
    let seq = Math.floor(Date.now() / 1000) % 1_000_000;
    let lastWarn = 0;
    let lines = 0;

    if (!isSerialPortNode(portNode)) {
      status.now({ fill: 'red', shape: 'ring', text: t('status.noPort') });
      return { input() { throw new Error(`fleet-serial: serial: ${t('errors.noPort')}`); } };
    }
    const own_lease: Lease = portNode.lease();
    const conn: SerialConnection = own_lease.connection;

    const warn = (text: string): void => {
      const now = Date.now();
      if (now - lastWarn < WARN_EVERY_MS) return;
      lastWarn = now;
      node.warn(redactor.redact(text));
    };
    const showState = (state: ConnectionState, reason: string | null): void => {
      const where = conn.deviceId ? `${conn.path} · ${conn.deviceId}` : conn.path;
      if (state === 'open') status.now({ fill: 'green', shape: 'dot', text: config.mode === 'console' ? t('status.lines', { where, lines }) : t('status.open', { where }) });
      else if (state === 'connecting') status.now({ fill: 'yellow', shape: 'ring', text: t('status.connecting', { where }) });
      else if (state === 'disconnected') status.now({ fill: 'red', shape: 'ring', text: redactor.redact(t('status.disconnected', { where, reason: reason ?? '' })) });
    };
    const onState = (state: ConnectionState, reason: string | null): void => {
      showState(state, reason);
      if (state === 'disconnected') warn(t('errors.disconnected', { port: conn.path, reason: reason ?? '' }));
    };
    const onTooLong = (dropped: number, limit: number): void => warn(t('errors.tooLong', { port: conn.path, dropped, limit }));
    const onLine = (line: string, at: number): void => {
      lines++;
      const device = conn.deviceId;
      kit.send([{ topic: device ? consoleTopic(device) : CONSOLE_TOPIC, payload: redactor.redact(line), port: conn.path, deviceId: device ?? undefined, timestamp: at }]);
      status.set(() => ({ fill: 'green', shape: 'dot', text: t('status.lines', { where: device ? `${conn.path} · ${device}` : conn.path, lines }) }));
    };
    conn.on('state', onState);
    conn.on('too-long', onTooLong);
    if (config.mode === 'console') conn.on('line', onLine);
    showState(conn.state, conn.reason);

    const channelFor = async (path: string): Promise<ChannelLease> => {
      const l = path === conn.path ? portNode.lease() : portNode.lease(path);
      try {
        await l.connection.waitOpen(Math.min(config.timeoutMs, 5000));
      } catch (err) {
        await l.release();
        throw err;
      }
      return { channel: l.connection, release: () => { void l.release(); } };
    };

    const report = (results: readonly ProvisionResult[]): void => {
      const ok = results.filter((r) => r.ok).length;
      const last = results[results.length - 1];
      const text = results.length === 1
        ? (last.ok ? t('status.provisioned', { device: last.device_id }) : t('status.failed', { device: last.device_id ?? '?', code: last.code }))
        : t('status.batch', { ok, total: results.length });
      status.now({ fill: ok === results.length ? 'green' : 'red', shape: 'dot', text: redactor.redact(text) });
    };
    const clean = (r: ProvisionResult): ProvisionResult => (r.ok ? r : { ...r, reason: redactor.redact(r.reason) });

    return {
      async input(msg, send) {
        if (config.mode === 'console') {
          if (typeof msg.payload !== 'string') throw new Error(`fleet-serial: payload: ${t('errors.consoleInput')}`);
          await conn.write(msg.payload.endsWith('\n') ? msg.payload : `${msg.payload}\n`);
          return;
        }
        if (!secrets.ok) throw new Error(`fleet-serial: credentials: ${secrets.reason}`);
        const req = readProvisionRequest(msg.payload, msg.port, config.defaults, conn.path);
        if (!req.ok) throw new Error(`fleet-serial: ${req.field}: ${req.reason ?? t(`errors.${req.code}`)}`);
        const first = seq;
        if (req.kind === 'batch') {
          seq += req.items.length;
          const results = (await provisionBatch(req.items, channelFor, secrets.value, { firstSeq: first, timeoutMs: config.timeoutMs })).map(clean);
          report(results);
          send([Object.assign(msg, { payload: results, topic: 'provision/batch' })]);
          return;
        }
        const { port: path, config: device } = req;
        seq++;
        status.now({ fill: 'yellow', shape: 'ring', text: t('status.provisioning', { device: device.device_id }) });
        let result: ProvisionResult;
        try {
          const ch = await channelFor(path);
          try {
            result = await provision(ch.channel, device, secrets.value, { seq: first, timeoutMs: config.timeoutMs });
          } finally {
            ch.release();
          }
        } catch (err) {
          result = { ok: false, port: path, device_id: device.device_id, code: 'port-gone', reason: err instanceof Error ? err.message : String(err), seq: first, ms: 0 };
        }
        result = clean(result);
        report([result]);
        send([Object.assign(msg, { payload: result, topic: `provision/${device.device_id}` })]);
      },
      async close() {
        conn.off('state', onState);
        conn.off('too-long', onTooLong);
        conn.off('line', onLine);
        await own_lease.release();
      },
    };
  },
});

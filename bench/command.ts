/**
 * fleet-command figures: reading and resolving a large fleet file, and planning a push against
 * the last pushed state. Baseline: the `yaml` package parsing the same text, in the same run.
 * Hook: `await section('command', () => commandFigures(repeat, quick ? 10_000 : 10_000));` in bench/run.ts.
 */
import YAML from 'yaml';

import { parseFleetFile, type FleetModel } from '../lib/command/fleet-file';
import { buildPushMessages, planPush, type PushedState } from '../lib/command/plan';
import { FleetResolver } from '../lib/command/resolve';
import { secretSource } from '../lib/command/secrets';
import { figure, millis, table, type Figure } from './measure';

/** A fleet file like the guide's, scaled: `devices` devices over 50 sites, a rule per site, one device in five overridden. */
export function fleetFileText(devices: number, intervalFor: (i: number) => number = (i) => 30 + (i % 5) * 30): string {
  const lines = ['fleet:', '  name: "bench fleet"', '  devices:'];
  for (let i = 0; i < devices; i++) {
    lines.push(`    - device_id: "env_${String(i).padStart(6, '0')}"`, `      location: "Building ${i % 50} - Room ${i % 400}"`, `      site: "site-${i % 50}"`);
    if (i % 10 === 0) lines.push('      overrides:', '        log_level: debug');
  }
  lines.push('  configuration:', '    base:',
    '      network: { wifi_ssid: "IoT_Production", wifi_password: "${PROD_WIFI_PASSWORD}", mqtt_broker: "${PROD_MQTT_BROKER}", mqtt_port: 8883, device_id_prefix: prod_esp32, tls_enabled: true }',
    '      sensor: { bme280_address: 0x76, measurement_interval_seconds: 300, calibration_offset_temp: 0.0 }',
    '      system: { log_level: info, heartbeat_interval_minutes: 15, status_report_interval_minutes: 60, watchdog_timeout_seconds: 600 }',
    '    overrides:');
  for (let s = 0; s < 50; s++) lines.push(`      - site: "site-${s}"`, `        heartbeat_interval_minutes: ${5 + (s % 10)}`);
  for (let i = 0; i < devices; i += 5) lines.push(`      - device: "env_${String(i).padStart(6, '0')}"`, `        measurement_interval: ${intervalFor(i)}`);
  return lines.join('\n') + '\n';
}

export function commandFigures(repeat: number, devices = 10_000): Figure[] {
  const text = fleetFileText(devices);
  const env = secretSource({ PROD_WIFI_PASSWORD: 'correct horse battery', PROD_MQTT_BROKER: 'broker.example.com' });
  let fleet: FleetModel | null = null;
  let sink = 0;
  const yamlOnly = millis(repeat, () => { sink += (YAML.parse(text) as { fleet: { devices: unknown[] } }).fleet.devices.length; });
  const parse = millis(repeat, () => {
    const r = parseFleetFile(text);
    if (!r.ok) throw new Error(r.errors[0].message);
    fleet = r.fleet;
  });
  const model = fleet as FleetModel | null;
  if (!model) throw new Error('no fleet');
  let resolved = new FleetResolver(model).resolveAll(env);
  const resolve = millis(repeat, () => { resolved = new FleetResolver(model).resolveAll(env); });
  if (resolved.some((r) => r.errors.length)) throw new Error(resolved.find((r) => r.errors.length)!.errors[0].message);

  // Last push: the same file with one device in fifty on a different interval, so 1 in 50 changes.
  const before = parseFleetFile(fleetFileText(devices, (i) => (i % 50 === 0 ? 45 : 30 + (i % 5) * 30)));
  if (!before.ok) throw new Error('no previous fleet');
  const last = new Map<string, PushedState>(new FleetResolver(before.fleet).resolveAll(env).map((r) => [r.device, { version: 1, hash: r.hash!, config: r.config! }]));
  let pushes = 0;
  const plan = millis(repeat, () => {
    const p = planPush(resolved, last);
    pushes = p.summary.push;
    sink += buildPushMessages(p, new Map(resolved.map((r) => [r.device, r])), env, { broker: { url: 'mqtts://broker:8883' } }).messages.length;
  });
  if (sink < 0) console.log(sink);
  const n = devices.toLocaleString('en');
  const base = figure('command', `baseline: YAML.parse of a ${n}-device fleet file (${(text.length / 1048576).toFixed(1)} MiB)`, 'ms', yamlOnly);
  const parsed = figure('command', `fleet file read and checked (${n} devices)`, 'ms', parse);
  return [
    base,
    { ...parsed, ratio: { to: 'YAML.parse', value: parsed.median / base.median } },
    figure('command', `effective configuration resolved and validated (${n} devices)`, 'ms', resolve),
    figure('command', `push planned against last push, ${pushes} changed, messages built`, 'ms', plan),
  ];
}

if (require.main === module) {
  console.log(table(commandFigures(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 10_000))));
}

/**
 * Each device's effective configuration from a fleet model. Precedence, lowest first:
 *   1. the base (base_config, then configuration.base)
 *   2. label overrides (location, site, labels), in file order
 *   3. device overrides (device / devices), in file order
 *   4. the device entry's own `overrides`
 *   5. run-time overrides from the message (all devices, then per device)
 * A later layer replaces a field; null unsets it. Every field remembers the path that set it,
 * so an invalid value is reported where it was written.
 */
import { configHash, deviceConfigErrors, DEVICE_CONFIG_SECTIONS, type ConfigScalar, type DeviceConfig } from '../../firmware/contract/device-config';
import { ruleMatches, type FleetDevice, type FleetModel, type OverrideRule, type Patch } from './fleet-file';
import { resolvePlainReferences, type SecretProblem, type SecretSource } from './secrets';

export interface DeviceProblem {
  readonly device: string;
  /** Dotted configuration path, e.g. `sensor.measurement_interval_seconds`. */
  readonly field: string;
  readonly reason: string;
  /** Where in the fleet file (or message) the value came from, when it was set. */
  readonly setBy?: string;
  readonly message: string;
}

export interface ResolvedDevice {
  readonly device: string;
  readonly labels: ReadonlyMap<string, string>;
  /** Present when valid. */
  readonly config: DeviceConfig | null;
  readonly hash: string | null;
  /** Field (dotted) → path that set it. */
  readonly sources: ReadonlyMap<string, string>;
  readonly errors: readonly DeviceProblem[];
  readonly warnings: readonly DeviceProblem[];
}

export interface RuntimeOverrides {
  readonly all?: Patch;
  readonly byDevice?: ReadonlyMap<string, Patch>;
}

const problem = (device: string, field: string, reason: string, setBy?: string): DeviceProblem => ({
  device, field, reason, ...(setBy ? { setBy } : {}),
  message: `device ${device}: ${field ? `${field} ` : ''}${reason}${setBy ? ` (set at ${setBy})` : ''}`,
});

function crossFieldWarnings(device: string, c: DeviceConfig, sources: ReadonlyMap<string, string>): DeviceProblem[] {
  const out: DeviceProblem[] = [];
  const wd = c.system?.watchdog_timeout_seconds;
  const mi = c.sensor.measurement_interval_seconds;
  if (typeof wd === 'number' && typeof mi === 'number' && wd <= mi) {
    out.push(problem(device, 'system.watchdog_timeout_seconds', `(${wd} s) is not longer than sensor.measurement_interval_seconds (${mi} s); a watchdog fed by the measurement loop would restart the device between readings`, sources.get('system.watchdog_timeout_seconds')));
  }
  if (c.network.mqtt_password !== undefined && c.network.tls_enabled !== true) {
    out.push(problem(device, 'network.tls_enabled', 'is off while network.mqtt_password is set: the device would send its broker password in clear text', sources.get('network.tls_enabled')));
  }
  return out;
}

/** Precomputed lookups so a 10,000-device file resolves in one pass. */
export class FleetResolver {
  private readonly byDevice = new Map<string, OverrideRule[]>();
  private readonly byLabel: OverrideRule[] = [];
  private readonly ids: ReadonlyMap<string, FleetDevice>;

  constructor(private readonly fleet: FleetModel) {
    this.ids = new Map(fleet.devices.map((d) => [d.id, d]));
    for (const rule of fleet.rules) {
      if (rule.devices === null) { this.byLabel.push(rule); continue; }
      for (const d of rule.devices) {
        let list = this.byDevice.get(d);
        if (!list) this.byDevice.set(d, (list = []));
        list.push(rule);
      }
    }
  }

  resolveAll(source: SecretSource, runtime: RuntimeOverrides = {}): ResolvedDevice[] {
    return this.fleet.devices.map((d) => this.resolveDevice(d, source, runtime));
  }

  resolveOne(id: string, source: SecretSource, runtime: RuntimeOverrides = {}): ResolvedDevice | null {
    const device = this.ids.get(id);
    return device ? this.resolveDevice(device, source, runtime) : null;
  }

  private resolveDevice(device: FleetDevice, source: SecretSource, runtime: RuntimeOverrides): ResolvedDevice {
    const id = device.id;
    const values = new Map<string, { section: string; leaf: string; value: ConfigScalar; path: string }>();
    const sources = new Map<string, string>();
    const apply = (patch: Patch | undefined) => {
      for (const e of patch ?? []) {
        const key = `${e.field.section}.${e.field.name}`;
        if (e.value === null) { values.delete(key); sources.set(key, e.path); continue; }
        values.set(key, { section: e.field.section, leaf: e.field.name, value: e.value, path: e.path });
        sources.set(key, e.path);
      }
    };
    apply(this.fleet.base);
    for (const rule of this.byLabel) if (ruleMatches(rule, device)) apply(rule.patch);
    // Label conditions on a device rule still have to hold.
    for (const rule of this.byDevice.get(id) ?? []) if (ruleMatches(rule, device)) apply(rule.patch);
    apply(device.overrides);
    apply(runtime.all);
    apply(runtime.byDevice?.get(id));

    const sections: Record<string, Record<string, unknown>> = {};
    for (const s of DEVICE_CONFIG_SECTIONS) sections[s] = {};
    for (const v of values.values()) sections[v.section][v.leaf] = v.value;

    const refProblems: SecretProblem[] = [];
    const resolved: Record<string, unknown> = { device_id: id };
    for (const s of DEVICE_CONFIG_SECTIONS) {
      const r = resolvePlainReferences(sections[s], s, source, refProblems);
      if (s !== 'system' || Object.keys(r).length > 0) resolved[s] = r;
    }
    const errors: DeviceProblem[] = refProblems.map((p) => problem(id, p.field, p.reason, sources.get(p.field)));
    if (errors.length === 0) {
      for (const e of deviceConfigErrors(resolved)) errors.push(problem(id, e.field, e.reason, sources.get(e.field)));
    }
    if (errors.length) return { device: id, labels: device.labels, config: null, hash: null, sources, errors, warnings: [] };
    const config = resolved as unknown as DeviceConfig;
    return { device: id, labels: device.labels, config, hash: configHash(config), sources, errors, warnings: crossFieldWarnings(id, config, sources) };
  }
}

export function resolveFleet(fleet: FleetModel, source: SecretSource, runtime: RuntimeOverrides = {}): ResolvedDevice[] {
  return new FleetResolver(fleet).resolveAll(source, runtime);
}

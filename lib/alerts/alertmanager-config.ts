/**
 * The one way from an Alertmanager configuration to what fleet-alerts runs: import the YAML
 * (alertmanager-yaml.ts), then check it as a saved configuration would be (config.ts). For a
 * function node, another package, and the editor's import endpoint alike.
 */
import { importAlertmanagerYaml, type RoutingConfig } from './alertmanager-yaml';
import { parseAlertsConfig, type AlertsConfig } from './config';

export type AlertmanagerConfigResult =
  | {
    ok: true;
    /** The checked configuration, ready for an AlertDispatcher. */
    value: AlertsConfig;
    /** What fleet-alerts saves: receivers by name and the routing document (JSON). */
    receivers: string[];
    routing: { route: RoutingConfig['route']; inhibit_rules: RoutingConfig['inhibit_rules']; time_intervals: RoutingConfig['time_intervals'] };
    /** What Alertmanager has that fleet-alerts does not carry over, by path. */
    unsupported: string[];
  }
  | { ok: false; path: string; field: string; reason: string };

export function loadAlertmanagerConfig(yaml: string): AlertmanagerConfigResult {
  const imported = importAlertmanagerYaml(yaml);
  if (!imported.ok) return { ok: false, path: imported.path ?? 'yaml', field: '', reason: imported.reason };
  const { route, receivers, inhibit_rules, time_intervals } = imported.config;
  const routing = { route, inhibit_rules, time_intervals };
  const checked = parseAlertsConfig(receivers, routing);
  if (!checked.ok) return checked;
  return { ok: true, value: checked.value, receivers, routing, unsupported: imported.unsupported };
}

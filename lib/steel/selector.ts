/**
 * Registry label selectors for Steel targets: Alertmanager-style matcher lines over a device's
 * labels plus its id, kind, arch, firmware and online state. Kept apart from push-config.ts so the
 * editor's bundle does not carry the RE2 engine the matchers compile with.
 */
import { steelDeviceIdProblem } from '../../firmware/contract/steel';
import { compileMatcherList, matchesAll, type CompiledMatcher } from '../alerts/matchers';
import type { SelectorCompiler } from './push-config';

export const compileSelector: SelectorCompiler = (lines) => compileMatcherList(lines);

/** A registry record as the selector sees it: its labels plus id, kind, arch and firmware. */
export interface SelectableDevice {
  readonly id: string;
  readonly kind: string | null;
  readonly arch: string | null;
  readonly firmware: string | null;
  readonly online: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export function selectDevices(matchers: readonly CompiledMatcher[], devices: Iterable<SelectableDevice>): string[] {
  const out: string[] = [];
  for (const d of devices) {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.labels)) Object.defineProperty(labels, k, { value: v, enumerable: true, writable: true, configurable: true });
    labels.id = d.id;
    labels.device = d.id;
    if (d.kind) labels.kind = d.kind;
    if (d.arch) labels.arch = d.arch;
    if (d.firmware) labels.firmware = d.firmware;
    labels.online = String(d.online);
    if (matchesAll(matchers, labels) && steelDeviceIdProblem(d.id) === null) out.push(d.id);
  }
  return out.sort();
}

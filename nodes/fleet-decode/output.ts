/** fleet-decode's output message: the decoded reading written onto the incoming message, as the help describes it. */
import type { NodeMessageInFlow } from 'node-red';

import { CONTRACT_VERSION } from '../../firmware/contract/schemas';
import type { Decoded } from '../../lib/decode/decoder';
import type { DeviceRecord } from '../../lib/registry/device-table';

/** msg.contract says which rule read the message; one frozen object per rule, not one per message. */
const CONTRACTS = new Map<string, Readonly<Record<string, unknown>>>();
/** The usual case (this contract version, no broadcast target) by route id alone: no key built per message. */
const CURRENT = new Map<string, Readonly<Record<string, unknown>>>();
function contractOf(d: Decoded): Readonly<Record<string, unknown>> {
  const usual = d.contractVersion === CONTRACT_VERSION && d.target === null;
  if (usual) {
    const c = CURRENT.get(d.route);
    if (c) return c;
  }
  const key = `${d.contractVersion}|${d.route}|${d.target ?? ''}`;
  let c = CONTRACTS.get(key);
  if (!c) {
    c = Object.freeze({ version: d.contractVersion, route: d.route, profile: d.profile, direction: d.direction, target: d.target });
    CONTRACTS.set(key, c);
  }
  if (usual) CURRENT.set(d.route, c);
  return c;
}

/** Sets payload, kind, device (with the registry's view when it has the device) and contract on `msg`. */
export function writeDecoded(msg: NodeMessageInFlow, d: Decoded, rec: DeviceRecord | undefined): NodeMessageInFlow {
  const out = msg as NodeMessageInFlow & Record<string, unknown>;
  const ref = d.device;
  out.payload = d.payload;
  out.kind = d.kind;
  out.device = rec
    ? { id: ref.id, kind: ref.kind ?? rec.kind, arch: ref.arch ?? rec.arch, firmware: ref.firmware ?? rec.firmware, identified: ref.identified, source: ref.source, online: rec.online, labels: rec.labels }
    : ref;
  out.contract = contractOf(d);
  return out;
}

/**
 * Fuzz targets for fleet-serial: the line splitter (any bytes in any chunks: bounded, newline-free
 * lines, nothing lost when no line is too long) and the provisioning parsers (the device's reading of
 * the line, the host's reading of the ack, the config check), whose results must be plain data.
 */
import fc from 'fast-check';

import type { FuzzTarget } from '../harness';
import { checkProvisioningConfig, identityOf, parseAckLine, parseProvisionLine, provisionLine } from '../../../firmware/contract/provisioning';
import { LineSplitter } from '../../../lib/serial/line-splitter';

const LIMIT = 256;

const chunk = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.string({ maxLength: 80 }).map((s) => Buffer.from(s)),
  fc.constantFrom(Buffer.from('\r\n'), Buffer.from('\n'), Buffer.from('[PERF] Memory: Heap=46KB'), Buffer.alloc(300, 0x41)),
);

const linesTarget: FuzzTarget<Uint8Array[]> = {
  name: 'serial-lines',
  arbitrary: fc.array(chunk, { maxLength: 20 }),
  check(chunks) {
    const s = new LineSplitter(LIMIT);
    const lines: string[] = [];
    let tooLong = 0;
    for (const c of chunks) {
      for (const ev of s.push(c)) {
        if (ev.type === 'line') lines.push(ev.line);
        else tooLong++;
      }
      if (s.pending > LIMIT) return `holds ${s.pending} bytes over its ${LIMIT}-byte limit`;
    }
    for (const l of lines) {
      if (l.includes('\n')) return 'a line contains a newline';
      // A byte becomes at most one replacement character: a kept line is never longer than the limit.
      if (l.length > LIMIT) return `a ${l.length}-character line passed a ${LIMIT}-byte limit`;
    }
    const all = Buffer.concat(chunks);
    const ascii = all.every((b) => b < 0x80);
    if (tooLong === 0 && ascii) {
      const text = all.toString('latin1');
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      const expected = complete === '' ? [] : complete.slice(0, -1).split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
      if (JSON.stringify(expected) !== JSON.stringify(lines)) return 'lines differ from the input split at newlines';
    }
    return null;
  },
};

const VALID = provisionLine(
  { device_id: 'esp32-c3-101', client_id: 'esp32-c3-101', broker: '192.168.1.100', port: 1883, tls: false, username: 'u', wifi_ssid: 'lab', measurement_s: 30, heartbeat_s: 60, status_s: 120 },
  { wifi_password: 'pw', mqtt_password: 'mp' }, 7,
);
const valid = VALID.ok ? VALID.value : '';

/** Lines near the valid one: a character replaced, cut short, or a field's value swapped for anything. */
const mutated = fc.tuple(fc.nat(valid.length), fc.string({ maxLength: 8 }), fc.boolean()).map(([at, s, cut]) => (cut ? valid.slice(0, at) : valid.slice(0, at) + s + valid.slice(at + 1)));
const jsonish = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null');
const ackish = fc.record({ ack: fc.constantFrom('provision', 'other'), seq: fc.oneof(fc.nat(), fc.string()), ok: fc.oneof(fc.boolean(), fc.string()), device_id: fc.oneof(fc.string({ maxLength: 70 }), fc.constant('dev-1')), reason: fc.string() }, { requiredKeys: [] }).map((o) => JSON.stringify(o));

function isPlain(x: unknown, depth = 0): boolean {
  if (depth > 10) return false;
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return true;
  if (typeof x === 'number') return Number.isFinite(x);
  if (Array.isArray(x)) return x.every((v) => isPlain(v, depth + 1));
  if (typeof x === 'object') return Object.getPrototypeOf(x) === Object.prototype && Object.values(x as object).every((v) => v !== undefined && isPlain(v, depth + 1));
  return false;
}

const provisioningTarget: FuzzTarget<string> = {
  name: 'provisioning',
  arbitrary: fc.oneof(mutated, jsonish, ackish, fc.string({ maxLength: 200 }), fc.constant('x'.repeat(5000))),
  check(line) {
    const p = parseProvisionLine(line);
    if (p.ok) {
      if (!isPlain(p.value)) return 'provision line parsed to non-plain data';
      // What the device accepts, the host can write again: same configuration, same line.
      const again = provisionLine(p.value.config, p.value.secrets, p.value.seq);
      if (!again.ok) return `an accepted line cannot be rebuilt: ${again.reason}`;
      const back = parseProvisionLine(again.value);
      if (!back.ok || JSON.stringify(back.value) !== JSON.stringify(p.value)) return 'rebuilt line reads differently';
    } else if (!p.field || !p.reason) return 'provision line refused without field and reason';
    const a = parseAckLine(line);
    if (a !== null) {
      if (a.ok && !isPlain(a.value)) return 'ack parsed to non-plain data';
      if (!a.ok && !a.reason) return 'malformed ack without a reason';
    }
    const id = identityOf(line);
    if (id !== null && (typeof id !== 'string' || id.length === 0 || id.length > 64)) return `bad identity ${String(id)}`;
    let obj: unknown = null;
    try { obj = JSON.parse(line); } catch { /* not JSON: checked as text below */ }
    const c = checkProvisioningConfig(obj ?? line);
    if (c.ok ? !isPlain(c.value) : !c.field || !c.reason) return 'config check broke its result shape';
    return null;
  },
};

export const targets: FuzzTarget[] = [linesTarget as FuzzTarget, provisioningTarget as FuzzTarget];

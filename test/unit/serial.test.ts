/**
 * lib/serial and the provisioning contract: the bounded line splitter, the provisioning line and ack,
 * the protocol over a fake channel and clock, batch provisioning, redaction, the parsers, the port
 * list's fallback, and the shared connection over serialport's mock binding.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';

import { MockBinding } from '@serialport/binding-mock';
import { SerialPortStream } from '@serialport/stream';

import { ackLine, checkProvisioningConfig, identityOf, parseAckLine, parseProvisionLine, provisionLine, type ProvisioningConfig } from '../../firmware/contract/provisioning';
import { parsePortSettings, parseSerialConfig, type PortSettings } from '../../lib/serial/config';
import { SerialConnection, type PortLike } from '../../lib/serial/connection';
import { LineSplitter } from '../../lib/serial/line-splitter';
import { listDevFiles, listPorts } from '../../lib/serial/port-list';
import { provision, provisionBatch, type Clock, type LineChannel } from '../../lib/serial/provisioning';
import { Redactor } from '../../lib/serial/redact';
import { waitFor } from '../support/ports';

const CONFIG: ProvisioningConfig = {
  device_id: 'esp32-c3-101', client_id: 'esp32-c3-101', broker: '192.168.1.100', port: 1883, tls: false, username: null,
  wifi_ssid: 'lab', measurement_s: 30, heartbeat_s: 60, status_s: 120,
};
const SECRETS = { wifi_password: 'correct horse "battery"', mqtt_password: 'mqtt-pw-42' };

/** A clock a test steps by hand. */
class ManualClock implements Clock {
  t = 1_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 0;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown { const id = this.next++; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown): void { this.timers = this.timers.filter((x) => x.id !== h); }
  advance(ms: number): void {
    this.t += ms;
    for (const x of this.timers.filter((y) => y.at <= this.t)) { this.clearTimeout(x.id); x.fn(); }
  }
}

/** A device at the other end of a channel: answers each written line with `answer(line)`. */
class FakeChannel extends EventEmitter implements LineChannel {
  readonly written: string[] = [];
  constructor(readonly path: string, private readonly answer: (line: string) => string[] = () => [], private readonly failWrite: Error | null = null) { super(); }
  write(text: string): Promise<void> {
    this.written.push(text);
    if (this.failWrite) return Promise.reject(this.failWrite);
    queueMicrotask(() => { for (const l of this.answer(text)) this.emit('line', l); });
    return Promise.resolve();
  }
  onLine(fn: (line: string) => void): () => void { this.on('line', fn); return () => { this.off('line', fn); }; }
  onGone(fn: (reason: string) => void): () => void { this.on('gone', fn); return () => { this.off('gone', fn); }; }
}

const seqOf = (line: string): number => (JSON.parse(line) as { seq: number }).seq;
const acking = (extra: Record<string, unknown> = {}) => (line: string): string[] => [
  `[CONFIG] Received: ${line.trim()}`,
  ackLine({ ack: 'provision', seq: seqOf(line), ok: true, device_id: (JSON.parse(line) as { device_id: string }).device_id, ...extra } as never).trim(),
];

describe('serial line splitter', () => {
  it('joins partial lines across chunks and strips CR', () => {
    const s = new LineSplitter(64);
    assert.deepEqual(s.push(Buffer.from('[PERF] Mem')), []);
    assert.deepEqual(s.push(Buffer.from('ory: Heap=46KB\r\n[SYS')), [{ type: 'line', line: '[PERF] Memory: Heap=46KB' }]);
    assert.deepEqual(s.push(Buffer.from('TEM] x\n\n')), [{ type: 'line', line: '[SYSTEM] x' }, { type: 'line', line: '' }]);
    assert.equal(s.pending, 0);
  });

  it('drops a 1 MB line without newline with one error, holds at most its limit, and reads the next line', () => {
    const s = new LineSplitter(4096);
    const events = [];
    const junk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 16; i++) {
      events.push(...s.push(junk));
      assert.ok(s.pending <= 4096, `holds ${s.pending} bytes`);
    }
    assert.deepEqual(events, [{ type: 'too-long', droppedBytes: 64 * 1024, limit: 4096 }]);
    assert.deepEqual(s.push(Buffer.from('tail\nnext line\n')), [{ type: 'line', line: 'next line' }]);
  });

  it('turns garbage bytes (a wrong baud rate) into replacement characters, not a throw', () => {
    const s = new LineSplitter(256);
    const out = s.push(Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0a]));
    assert.equal(out.length, 1);
    assert.equal(out[0].type, 'line');
    assert.ok(out[0].type === 'line' && out[0].line.includes('\ufffd'));
  });

  it('gives the partial line left at the end of the stream on flush', () => {
    const s = new LineSplitter(64);
    s.push(Buffer.from('half a li'));
    assert.deepEqual(s.flush(), [{ type: 'line', line: 'half a li' }]);
    assert.deepEqual(s.flush(), []);
  });
});

describe('provisioning line and acknowledgement (contract)', () => {
  it('round-trips a configuration and its secrets through the line the firmware reads', () => {
    const line = provisionLine(CONFIG, SECRETS, 7);
    assert.ok(line.ok);
    assert.ok(line.value.endsWith('\n') && !line.value.slice(0, -1).includes('\n'));
    const back = parseProvisionLine(line.value);
    assert.ok(back.ok, JSON.stringify(back));
    assert.deepEqual(back.value, { seq: 7, config: CONFIG, secrets: SECRETS });
  });

  it('reads a mqtts:// broker URL for host, port and TLS, and defaults client id and intervals', () => {
    const r = checkProvisioningConfig({ device_id: 'dev-1', broker: 'mqtts://broker.example.com:8884', wifi_ssid: 'lab' });
    assert.ok(r.ok);
    assert.deepEqual([r.value.broker, r.value.port, r.value.tls, r.value.client_id, r.value.measurement_s], ['broker.example.com', 8884, true, 'dev-1', 30]);
  });

  it('refuses a bad field by name', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ device_id: 'a/b', broker: 'h', wifi_ssid: 's' }, 'device_id'],
      [{ device_id: 'd', broker: 'http://x', wifi_ssid: 's' }, 'broker'],
      [{ device_id: 'd', broker: 'h', wifi_ssid: 's', port: 70000 }, 'port'],
      [{ device_id: 'd', broker: 'h', wifi_ssid: 'x'.repeat(33) }, 'wifi_ssid'],
      [{ device_id: 'd', broker: 'h', wifi_ssid: 's', heartbeat_s: 0 }, 'heartbeat_s'],
      [{ device_id: 'd', broker: 'h', wifi_ssid: 's', tls: 'yes' }, 'tls'],
    ];
    for (const [raw, field] of cases) {
      const r = checkProvisioningConfig(raw);
      assert.equal(r.ok, false, JSON.stringify(raw));
      assert.equal(!r.ok && r.field, field);
    }
  });

  it('refuses a line that would not fit the firmware buffer', () => {
    const r = provisionLine(CONFIG, { wifi_password: 'p', mqtt_password: 'x'.repeat(1100) }, 1);
    assert.equal(r.ok, false);
  });

  it('tells console output from an ack, and a malformed ack from both', () => {
    assert.equal(parseAckLine('[PERF] Memory: Heap=46KB'), null);
    assert.equal(parseAckLine('{"temperature": 21}'), null);
    assert.deepEqual(parseAckLine('{"ack":"provision","seq":3,"ok":false,"device_id":"d1","reason":"ssid not found"}'), { ok: true, value: { ack: 'provision', seq: 3, ok: false, device_id: 'd1', reason: 'ssid not found' } });
    assert.equal(parseAckLine('{"ack":"provision","seq":"x","ok":true}')?.ok, false);
    assert.equal(parseAckLine('{"ack":"provision","seq":1,"ok":true,"device_id":"a/b"}')?.ok, false);
  });

  it('learns the device from its Device ID line or an ack', () => {
    assert.equal(identityOf('[SYSTEM] Device ID: esp32-c3-007\r'), 'esp32-c3-007');
    assert.equal(identityOf('{"ack":"provision","seq":1,"ok":true,"device_id":"esp32-c3-101"}'), 'esp32-c3-101');
    assert.equal(identityOf('[SYSTEM] Device ID: ../etc'), null);
    assert.equal(identityOf('[SYSTEM] ESP32-C3 IoT System Starting'), null);
  });
});

describe('provisioning protocol', () => {
  it('writes the line and succeeds on the ack with its seq, ignoring an older attempt\'s ack', async () => {
    const clock = new ManualClock();
    const ch = new FakeChannel('/dev/ttyUSB0', (line) => [
      ackLine({ ack: 'provision', seq: seqOf(line) - 1, ok: false, device_id: 'x', reason: 'stale' }).trim(),
      ...acking()(line),
    ]);
    const r = await provision(ch, CONFIG, SECRETS, { seq: 11, clock, timeoutMs: 5000 });
    assert.deepEqual(r, { ok: true, port: '/dev/ttyUSB0', device_id: 'esp32-c3-101', seq: 11, ms: 0 });
    assert.equal(seqOf(ch.written[0]), 11);
    assert.equal(ch.listenerCount('line'), 0, 'unsubscribed');
  });

  it('reports a rejection with the device\'s reason', async () => {
    const ch = new FakeChannel('/dev/ttyUSB0', (line) => [ackLine({ ack: 'provision', seq: seqOf(line), ok: false, device_id: 'esp32-c3-101', reason: 'wifi ssid lab not found' }).trim()]);
    const r = await provision(ch, CONFIG, SECRETS, { seq: 2, clock: new ManualClock() });
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && [r.code, r.reason], ['rejected', 'wifi ssid lab not found']);
  });

  it('times out when no ack comes, on the clock it was given', async () => {
    const clock = new ManualClock();
    const ch = new FakeChannel('/dev/ttyUSB0', () => ['{"ack":"provision","seq":"bad"}', '[PERF] Memory: Heap=46KB']);
    const p = provision(ch, CONFIG, SECRETS, { seq: 3, clock, timeoutMs: 2000 });
    await new Promise((r) => setImmediate(r));
    clock.advance(1999);
    clock.advance(1);
    const r = await p;
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'timeout');
    assert.match(!r.ok ? r.reason : '', /2000 ms.*malformed/);
    assert.equal(r.ms, 2000);
  });

  it('reports the port gone while waiting, and a failed write', async () => {
    const ch = new FakeChannel('/dev/ttyUSB0');
    const p = provision(ch, CONFIG, SECRETS, { seq: 4, clock: new ManualClock() });
    ch.emit('gone', 'unplugged');
    const r = await p;
    assert.deepEqual(!r.ok && [r.code, r.reason], ['port-gone', 'unplugged']);
    const w = await provision(new FakeChannel('/dev/ttyUSB0', undefined, new Error('EIO')), CONFIG, SECRETS, { seq: 5, clock: new ManualClock() });
    assert.deepEqual(!w.ok && [w.code, w.reason], ['write-failed', 'EIO']);
  });

  it('provisions a batch, one port each, with a result per device in order', async () => {
    const channels = new Map<string, FakeChannel>();
    const released: string[] = [];
    const open = (port: string) => {
      if (port === '/dev/ttyUSB9') return Promise.reject(new Error('no such port'));
      const ch = new FakeChannel(port, port === '/dev/ttyUSB1' ? () => [] : acking());
      channels.set(port, ch);
      return Promise.resolve({ channel: ch, release: () => { released.push(port); } });
    };
    const clock = new ManualClock();
    const p = provisionBatch([
      { port: '/dev/ttyUSB0', config: { device_id: 'dev-100', broker: 'h', wifi_ssid: 's' } },
      { port: '/dev/ttyUSB1', config: { device_id: 'dev-101', broker: 'h', wifi_ssid: 's' } },
      { port: '/dev/ttyUSB2', config: { device_id: 'dev/102', broker: 'h', wifi_ssid: 's' } },
      { port: '/dev/ttyUSB9', config: { device_id: 'dev-103', broker: 'h', wifi_ssid: 's' } },
      { port: '/dev/ttyUSB3', config: { device_id: 'dev-104', broker: 'h', wifi_ssid: 's' } },
      { port: '/dev/ttyUSB3', config: { device_id: 'dev-105', broker: 'h', wifi_ssid: 's' } },
    ], open, SECRETS, { firstSeq: 100, timeoutMs: 1000, clock });
    await new Promise((r) => setImmediate(r));
    clock.advance(1000);
    const results = await p;
    assert.deepEqual(results.map((r) => [r.device_id, r.ok ? 'ok' : r.code]), [
      ['dev-100', 'ok'], ['dev-101', 'timeout'], ['dev/102', 'invalid'], ['dev-103', 'port-gone'], ['dev-104', 'invalid'], ['dev-105', 'invalid'],
    ]);
    assert.deepEqual(results.map((r) => r.seq), [100, 101, 102, 103, 104, 105]);
    assert.deepEqual(released.sort(), ['/dev/ttyUSB0', '/dev/ttyUSB1']);
  });
});

describe('redaction', () => {
  it('hides known secrets, their JSON-escaped form, and any password field of an echoed line', () => {
    const r = new Redactor();
    r.add(SECRETS.wifi_password, SECRETS.mqtt_password, '', 'x');
    const line = provisionLine(CONFIG, SECRETS, 1);
    assert.ok(line.ok);
    const out = r.redact(`[CONFIG] Received: ${line.value}`);
    assert.ok(!out.includes('battery') && !out.includes('mqtt-pw-42'), out);
    assert.match(out, /"password":"\*\*\*"/);
    assert.equal(new Redactor().redact('{"wifi":{"ssid":"a","password":"unknown-to-us"}}'), '{"wifi":{"ssid":"a","password":"***"}}');
    assert.equal(r.redact('plain text x'), 'plain text x', 'one-character secrets are not blanked');
  });
});

describe('serial node configuration', () => {
  it('reads port settings with 115200 8N1 defaults, and names a bad field', () => {
    const r = parsePortSettings({ path: '/dev/ttyUSB0' });
    assert.ok(r.ok);
    assert.deepEqual([r.value.baudRate, r.value.dataBits, r.value.parity, r.value.stopBits], [115200, 8, 'none', 1]);
    assert.ok(parsePortSettings({ path: 'COM3', baudRate: '9600', stopBits: '2' }).ok);
    for (const [def, field] of [[{ path: '' }, 'path'], [{ path: '/dev/x', baudRate: 'fast' }, 'baudRate'], [{ path: '/dev/x', dataBits: 9 }, 'dataBits'], [{ path: '/dev/x', parity: 'weird' }, 'parity'], [{ path: '/dev/x', lineMaxBytes: 10 }, 'lineMaxBytes']] as const) {
      const p = parsePortSettings(def);
      assert.equal(!p.ok && p.field, field);
    }
  });

  it('refuses a password saved in the flow', () => {
    const r = parseSerialConfig({ mode: 'provision', wifiPassword: 'oops' });
    assert.equal(!r.ok && r.field, 'wifiPassword');
    const ok = parseSerialConfig({ mode: 'provision', broker: 'h', ssid: 'lab', brokerPort: '1884' });
    assert.ok(ok.ok);
    assert.deepEqual([ok.value.defaults.broker, ok.value.defaults.port, ok.value.defaults.wifi_ssid], ['h', '1884', 'lab']);
  });
});

describe('serial port list', () => {
  it('falls back to /dev entries when udevadm is absent, without spawning it', async () => {
    const ports = await listPorts('linux', () => false);
    assert.ok(ports.every((p) => p.source === 'dev' && p.path.startsWith('/dev/')));
    assert.deepEqual(ports.map((p) => p.path), listDevFiles().map((p) => p.path));
  });
});

describe('shared serial connection (mock binding)', () => {
  const settings: PortSettings = { path: '/dev/MOCK0', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1, lineMaxBytes: 128 };
  const streams: SerialPortStream[] = [];
  const factory = (s: PortSettings): PortLike => {
    const stream = new SerialPortStream({ binding: MockBinding, path: s.path, baudRate: s.baudRate, autoOpen: false });
    streams.push(stream);
    return stream as unknown as PortLike;
  };
  const binding = (s: SerialPortStream) => s.port as unknown as { emitData(d: Buffer | string): void; recording: Buffer };
  let conn: SerialConnection | null = null;

  beforeEach(() => { MockBinding.reset(); MockBinding.createPort('/dev/MOCK0', { record: true }); streams.length = 0; });
  afterEach(async () => { await conn?.close(); conn = null; });

  it('emits lines, drops an overlong one with an event, learns the device, and writes', async () => {
    conn = new SerialConnection(settings, factory, { minMs: 20, maxMs: 100 });
    const lines: string[] = [];
    const tooLong: number[] = [];
    conn.on('line', (l) => lines.push(l));
    conn.on('too-long', (n) => tooLong.push(n));
    conn.start();
    await conn.waitOpen(2000);
    binding(streams[0]).emitData('[SYSTEM] Device ID: esp32-c3-009\r\n[PERF] Memo');
    binding(streams[0]).emitData(`ry: Heap=46KB\n${'Z'.repeat(500)}\nok\n`);
    await waitFor('lines', () => lines.length >= 3, 2000, 10);
    assert.deepEqual(lines, ['[SYSTEM] Device ID: esp32-c3-009', '[PERF] Memory: Heap=46KB', 'ok']);
    assert.equal(tooLong.length, 1);
    assert.equal(conn.deviceId, 'esp32-c3-009');
    await conn.write('hello\n');
    assert.equal(binding(streams[0]).recording.toString(), 'hello\n');
  });

  it('reports disconnected when the port goes, retries with back-off, and reopens', async () => {
    conn = new SerialConnection(settings, factory, { minMs: 20, maxMs: 100 });
    const states: string[] = [];
    conn.on('state', (s) => states.push(s));
    const gone: string[] = [];
    conn.onGone((r) => gone.push(r));
    conn.start();
    await conn.waitOpen(2000);
    MockBinding.reset(); // the device is unplugged: reopening fails until it is back
    (streams[0] as unknown as { _disconnected(e: Error): void })._disconnected(new Error('device unplugged'));
    await waitFor('disconnected', () => conn?.state === 'disconnected', 2000, 10);
    await new Promise((r) => setTimeout(r, 150));
    assert.ok(streams.length >= 3, `retried (${streams.length} opens)`);
    MockBinding.createPort('/dev/MOCK0', { record: true });
    await conn.waitOpen(2000);
    assert.equal(conn.reconnects, 1);
    assert.deepEqual(gone.slice(0, 1), ['device unplugged']);
    assert.deepEqual(states.slice(0, 3), ['connecting', 'open', 'disconnected']);
    await assert.rejects(new SerialConnection({ ...settings, path: '/dev/NONE' }, factory).write('x'), /not open/);
  });
});

describe('fleet-serial saved-flow migrations', () => {
  it('fill a hand-written version 0 node with the defaults the parsers use', async () => {
    const { migrate } = await import('../../nodes/shared/migrations');
    const port = await import('../../nodes/fleet-serial-port/migrations');
    const serial = await import('../../nodes/fleet-serial/migrations');
    const p = migrate({ id: 'p', type: 'fleet-serial-port', path: '/dev/ttyUSB0' }, port.migrations, port.FLEET_SERIAL_PORT_VERSION);
    assert.ok(p.ok);
    assert.deepEqual([p.def.baudRate, p.def.dataBits, p.def.parity, p.def.stopBits, p.def.configVersion], [115200, 8, 'none', 1, 1]);
    const s = migrate({ id: 's', type: 'fleet-serial', serial: 'p', baudRate: 9600 }, serial.migrations, serial.FLEET_SERIAL_VERSION);
    assert.ok(s.ok);
    assert.deepEqual([s.def.mode, s.def.timeoutS, s.def.wifiPasswordEnv], ['console', 10, 'FLEET_WIFI_PASSWORD']);
    const kept = migrate({ id: 'p', type: 'fleet-serial-port', path: '/dev/x', baudRate: 9600 }, port.migrations, 1);
    assert.ok(kept.ok);
    assert.equal(kept.def.baudRate, 9600);
  });
});

describe('provisioning JSON Schemas (schemas/v1/provisioning-*.json)', () => {
  it('accept what the contract writes and its examples, and refuse what its parsers refuse', async () => {
    const { default: Ajv } = await import('ajv');
    const ajv = new Ajv({ strict: false });
    const lineSchema = (await import('../../firmware/contract/schemas/v1/provisioning-line.json')).default as Record<string, unknown> & { examples: unknown[] };
    const ackSchema = (await import('../../firmware/contract/schemas/v1/provisioning-ack.json')).default as Record<string, unknown> & { examples: unknown[] };
    const line = ajv.compile(lineSchema);
    const ack = ajv.compile(ackSchema);
    const written = provisionLine({ ...CONFIG, username: 'u' }, SECRETS, 9);
    assert.ok(written.ok);
    assert.ok(line(JSON.parse(written.value)), JSON.stringify(line.errors));
    for (const e of lineSchema.examples) {
      assert.ok(line(e));
      assert.ok(parseProvisionLine(JSON.stringify(e)).ok);
    }
    for (const e of ackSchema.examples) {
      assert.ok(ack(e));
      assert.equal(parseAckLine(JSON.stringify(e))?.ok, true);
    }
    assert.equal(ack({ ack: 'provision', seq: 1, ok: false }), false, 'a rejection needs its reason');
    assert.equal(line({ ...JSON.parse(written.value), device_id: 'a/b' }), false);
  });
});

/**
 * The downlink builders: each puts its body on the route's topic, and what it sends is what the
 * schema accepts (checked by the schema again here, and by the decoder reading it back).
 */
import assert from 'node:assert/strict';

import * as downlink from '../../firmware/contract/downlink';
import { DownlinkError, type Downlink } from '../../firmware/contract/downlink';
import { buildLoadMessage, buildRequest } from '../../firmware/contract/steel';
import { SchemaBook, type SchemaName } from '../../firmware/contract/schemas';
import { TOPIC_ROUTES } from '../../firmware/contract/topics';
import { Decoder } from '../../lib/decode/decoder';

const book = new SchemaBook();
const decoder = new Decoder();

interface Case {
  readonly name: string;
  readonly build: () => Downlink;
  readonly route: string;
  readonly topic: string;
}

// Bodies are the schemas' own examples (firmware/contract/schemas/v1/*.json).
const CASES: readonly Case[] = [
  {
    name: 'otaUpdate', route: 'ota.update', topic: 'ota/update/dev-1',
    build: () => downlink.otaUpdate('dev-1', { job_id: 'rollout-7-wave-1', firmware_version: '1.3.0', url: 'http://127.0.0.1:1880/fleet/firmware/1.3.0.bin', size: 286720, sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', signature: 'MEUCIQD', slot: 'ota_1' }),
  },
  { name: 'otaCancel', route: 'ota.cancel', topic: 'ota/cancel/dev-1', build: () => downlink.otaCancel('dev-1', { job_id: 'rollout-7-wave-1', v: 1 }) },
  { name: 'configUpdate', route: 'config.update', topic: 'config/update/dev-1', build: () => downlink.configUpdate('dev-1', { config_version: 4, config: { reading_interval: 30, log_level: 'info' } }) },
  { name: 'command', route: 'esp32.command', topic: 'esp32/dev-1/command', build: () => downlink.command('dev-1', { command: 'reset', reason: 'operator request', request_id: 'r-19' }) },
  { name: 'emergency', route: 'esp32.emergency', topic: 'esp32/dev-1/emergency', build: () => downlink.emergency('dev-1', { action: 'shutdown', reason: 'smoke detected in plant room' }) },
  // The device's ProgramMessage (aws-iot-steel types.rs); the guide's two-field example is refused by it.
  { name: 'steelLoad', route: 'steel.load', topic: 'steel-programs/dev-1/load', build: () => downlink.steelLoad('dev-1', buildLoadMessage({ programId: 'my-program', steelCode: '(led-on)', version: '1.0.0', autoStart: true })) },
  { name: 'steelLoad to every device', route: 'steel.load', topic: 'steel-programs/broadcast/load', build: () => downlink.steelLoad('broadcast', buildLoadMessage({ programId: 'my-program', steelCode: '(led-on)', version: '1.0.0' })) },
  { name: 'steelRequest execute', route: 'steel.execute', topic: 'steel-programs/dev-1/execute', build: () => downlink.steelRequest('execute', 'dev-1', buildRequest('execute', 'my-program')) },
  { name: 'steelRequest stop', route: 'steel.stop', topic: 'steel-programs/dev-1/stop', build: () => downlink.steelRequest('stop', 'dev-1', buildRequest('stop', 'my-program')) },
  { name: 'steelRequest remove', route: 'steel.remove', topic: 'steel-programs/dev-1/remove', build: () => downlink.steelRequest('remove', 'dev-1', buildRequest('remove', 'my-program')) },
  { name: 'steelRequest status', route: 'steel.status', topic: 'steel-programs/dev-1/status', build: () => downlink.steelRequest('status', 'dev-1', buildRequest('status', 'my-program')) },
  { name: 'whofiCommand', route: 'whofi.idf.command', topic: 'devices/dev-1/command', build: () => downlink.whofiCommand('dev-1', { command: 'set_channel', params: { channel: 6 } }) },
  { name: 'whofiConfig', route: 'whofi.idf.config', topic: 'devices/dev-1/config', build: () => downlink.whofiConfig('dev-1', { position: { x: 1.5, y: 2, z: 0.8 } }) },
  { name: 'csiConfig', route: 'csi.config', topic: 'csi/dev-1/config', build: () => downlink.csiConfig('dev-1', { csi: { enabled: true, sample_rate: 100 } }) },
];

describe('contract: downlink builders', () => {
  for (const c of CASES) {
    it(`${c.name}: topic from the map, body valid under its schema, decoded back as the same route`, () => {
      const d = c.build();
      assert.equal(d.topic, c.topic);
      assert.equal(d.qos, 1);
      assert.equal(d.retain, false);
      const route = TOPIC_ROUTES.find((r) => r.id === c.route);
      assert.ok(route && route.schema);
      const body: unknown = JSON.parse(d.payload);
      assert.equal(book.validator(route.schema as SchemaName, 'reject')(body), null);
      const r = decoder.decode({ topic: d.topic, payload: d.payload, receivedAt: 1_800_000_000_000 });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.reject));
      assert.equal(r.value.route, c.route);
      assert.equal(r.value.direction, 'down');
    });
  }

  it('every downlink route of the core map with a schema has a builder', () => {
    const covered = new Set(CASES.map((c) => c.route));
    const core = TOPIC_ROUTES.filter((r) => r.direction === 'down' && r.schema !== null && !r.pattern.startsWith('{prefix+}'));
    for (const r of core) assert.ok(covered.has(r.id), `no builder for ${r.id}`);
  });

  it('a body the schema refuses is a DownlinkError naming the field', () => {
    // The type system stops this in TypeScript; JavaScript callers and values from a flow can still send it.
    const bad = { job_id: 'j', firmware_version: '1.3.0', url: 'http://x/y.bin', size: 2_000_000, sha256: 'f'.repeat(64), signature: 's' };
    assert.throws(() => downlink.otaUpdate('dev-1', bad), (e: unknown) => e instanceof DownlinkError && e.path === '/size' && /ota\.update: \/size/.test(e.message));
    const unknownCommand = JSON.parse('{"command":"format-flash"}') as Parameters<typeof downlink.command>[1];
    assert.throws(() => downlink.command('dev-1', unknownCommand), (e: unknown) => e instanceof DownlinkError && e.path === '/command');
  });

  it('a device id the contract refuses is a DownlinkError, and only Steel load takes broadcast', () => {
    assert.throws(() => downlink.command('a/b', { command: 'reset' }), (e: unknown) => e instanceof DownlinkError && e.path === 'device');
    assert.throws(() => downlink.emergency('+', { action: 'resume' }), DownlinkError);
    assert.equal(downlink.steelLoad('broadcast', buildLoadMessage({ programId: 'p', steelCode: '(led-on)', version: '1' })).topic, 'steel-programs/broadcast/load');
  });
});

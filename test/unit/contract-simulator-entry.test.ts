/**
 * The simulator is its own entry (`./simulator`), and the domain API does not load it (nor `mqtt`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { FLEET_USAGE, parseFleetArgs } from '../../firmware/simulator/cli-args';
import { simFaultTopic } from '../../firmware/contract/topics';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, string> };

describe('simulator entry', () => {
  it('./simulator exports the fleet, the device, the faults and the CLI helpers', () => {
    assert.equal(pkg.exports['./simulator'], './dist/firmware/simulator/index.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sim = require(path.join(root, pkg.exports['./simulator'])) as Record<string, unknown>;
    for (const name of ['VirtualFleet', 'VirtualDevice', 'fleetSpecs', 'parseFleetArgs']) assert.equal(typeof sim[name], 'function', name);
    assert.ok(Array.isArray(sim.FAULTS) && sim.FAULTS.includes('offline'));
    assert.equal(typeof sim.FLEET_USAGE, 'string');
  });

  it('the domain entry loads neither the simulator nor mqtt', () => {
    const script = `require(${JSON.stringify(path.join(root, pkg.exports['.']))});
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify(loaded.filter((f) => f.includes('/simulator/') || /node_modules[\\\\/]mqtt[\\\\/]/.test(f))));`;
    const found = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
    assert.deepEqual(found, []);
  });

  it('parseFleetArgs reads the command line and refuses bad values with the usage', () => {
    const r = parseFleetArgs(['--devices', '12', '--speed', '5', '--connection', 'shared', '--control', '--qos', '1'], {});
    assert.ok(r.ok && !r.help);
    assert.deepEqual(r.options, { brokerUrl: 'mqtt://127.0.0.1:1883', devices: 12, seed: 1, speed: 5, connection: 'shared', controlTopic: true, qos: 1 });
    const env = parseFleetArgs([], { FLEET_MQTT_URL: 'mqtt://127.0.0.1:2883' });
    assert.ok(env.ok && !env.help && env.options.brokerUrl === 'mqtt://127.0.0.1:2883');
    assert.deepEqual(parseFleetArgs(['--help'], {}), { ok: true, help: true });
    for (const bad of [['--devices', '0'], ['--speed', '-1'], ['--connection', 'mesh'], ['--bogus']]) {
      assert.deepEqual(parseFleetArgs(bad, {}), { ok: false, usage: FLEET_USAGE }, bad.join(' '));
    }
    assert.ok(FLEET_USAGE.includes(simFaultTopic('{device|all}')));
  });
});

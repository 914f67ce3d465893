/** The esp32-fleet-ota CLI, spawned as a user runs it. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'lib', 'ota', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('esp32-fleet-ota CLI', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-cli-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keygen, sign, verify: good image exits 0, tampered exits 1 with the reason, bad usage exits 2', () => {
    const kg = run('keygen', '--out', path.join(dir, 'keys'));
    assert.equal(kg.status, 0, kg.stderr);
    const key = path.join(dir, 'keys', 'ota-signing.key');
    const pub = path.join(dir, 'keys', 'ota-signing.pub');
    assert.equal(fs.statSync(key).mode & 0o077, 0, 'private key readable by its owner only');
    assert.equal(run('keygen', '--out', path.join(dir, 'keys')).status, 1, 'never overwrites a key');

    const img = path.join(dir, 'fw.bin');
    fs.writeFileSync(img, Buffer.alloc(5000, 0x5a));
    const sign = run('sign', '--key', key, '--image', img, '--version', '1.4.0', '--kind', 'env-sensor', '--arch', 'sync');
    assert.equal(sign.status, 0, sign.stderr);
    const manifest = JSON.parse(sign.stdout) as { version: string; size: number; arch: string; signer: string };
    assert.equal(manifest.version, '1.4.0');
    assert.equal(manifest.size, 5000);
    assert.equal(manifest.signer, (JSON.parse(kg.stdout) as { keyId: string }).keyId);
    const mf = path.join(dir, 'fw.manifest.json');
    fs.writeFileSync(mf, sign.stdout);

    const good = run('verify', '--pub', pub, '--manifest', mf, '--image', img);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /good: env-sensor\/sync 1\.4\.0/);

    const bad = path.join(dir, 'bad.bin');
    fs.writeFileSync(bad, Buffer.alloc(5000, 0x5b));
    const tampered = run('verify', '--pub', pub, '--manifest', mf, '--image', bad);
    assert.equal(tampered.status, 1);
    assert.match(tampered.stderr, /checksum mismatch/);

    const older = run('verify', '--pub', pub, '--manifest', mf, '--image', img, '--kind', 'env-sensor', '--current', '1.5.0');
    assert.equal(older.status, 1);
    assert.match(older.stderr, /not newer/);

    const wrongKey = run('verify', '--pub', key, '--manifest', mf, '--image', img);
    assert.equal(wrongKey.status, 1);
    assert.match(wrongKey.stderr, /private key/);

    assert.equal(run('sign', '--key', key, '--image', img, '--version', 'nope', '--kind', 'env-sensor').status, 1);
    const usage = run('verify', '--pub', pub);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--manifest is required/);
    assert.equal(run('frobnicate').status, 2);
    assert.equal(run().status, 2);
  });
});

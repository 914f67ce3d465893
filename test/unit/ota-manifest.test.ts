import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';

import { MAX_IMAGE_BYTES } from '../../firmware/contract/ota';
import { generateSigningKey, readPrivateKey, readPublicKey, trustedKeys } from '../../lib/ota/keys';
import { checkTarget, parseManifest, signImage, verifyImage, type Manifest } from '../../lib/ota/manifest';
import { ImageRepository, imageNameProblem } from '../../lib/ota/repository';

const image = (n: number, seed = 7): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe('ota manifest and signing', () => {
  const ed = generateSigningKey('ed25519');
  const ec = generateSigningKey('ecdsa-p256');
  const trusted = trustedKeys([ed.publicPem, ec.publicPem]).keys;
  const img = image(4096);
  const manifest = signImage(img, createPrivateKey(ed.privatePem), { version: '1.3.0', kind: 'env-sensor', arch: 'sync' });

  it('signs with Ed25519 and verifies against the trusted keys', () => {
    assert.equal(manifest.algorithm, 'ed25519');
    assert.equal(manifest.signer, ed.keyId);
    assert.equal(manifest.size, 4096);
    assert.deepEqual(verifyImage(img, manifest, trusted), { ok: true });
  });

  it('signs with ECDSA P-256 as the second choice', () => {
    const m = signImage(img, createPrivateKey(ec.privatePem), { version: '2.0.0', kind: 'csi-sensor' });
    assert.equal(m.algorithm, 'ecdsa-p256');
    assert.deepEqual(verifyImage(img, m, trusted), { ok: true });
  });

  const refusal = (v: ReturnType<typeof verifyImage>): string => (v.ok ? 'ok' : v.code);

  it('refuses a size, checksum or signature that does not match, naming which', () => {
    const bigger = Buffer.concat([img, Buffer.from([1])]);
    const r1 = verifyImage(bigger, manifest, trusted);
    assert.equal(refusal(r1), 'size');
    assert.match((r1 as { reason: string }).reason, /4097 bytes.*4096/);
    const flipped = Buffer.from(img);
    flipped[100] ^= 1;
    assert.equal(refusal(verifyImage(flipped, manifest, trusted)), 'sha256');
    const other = signImage(image(4096, 9), createPrivateKey(ed.privatePem), { version: '1.3.0', kind: 'env-sensor' });
    const forged: Manifest = { ...manifest, signature: other.signature };
    const r3 = verifyImage(img, forged, trusted);
    assert.equal(refusal(r3), 'signature');
    assert.match((r3 as { reason: string }).reason, /signature mismatch/);
  });

  it('signs only with Ed25519 or P-256 keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    assert.throws(() => signImage(img, rsa, { version: '1.0.0', kind: 'env-sensor' }), /a rsa key cannot sign/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    assert.throws(() => signImage(img, p384, { version: '1.0.0', kind: 'env-sensor' }), /cannot sign/);
  });

  it('refuses an unknown signer', () => {
    const stranger = generateSigningKey();
    const m = signImage(img, createPrivateKey(stranger.privatePem), { version: '1.3.0', kind: 'env-sensor' });
    const r = verifyImage(img, m, trusted);
    assert.equal(refusal(r), 'unknown-signer');
    assert.match((r as { reason: string }).reason, new RegExp(stranger.keyId));
  });

  it('refuses an image over one OTA slot, at signing and at verification', () => {
    const huge = Buffer.alloc(MAX_IMAGE_BYTES + 1);
    assert.throws(() => signImage(huge, createPrivateKey(ed.privatePem), { version: '1.0.0', kind: 'env-sensor' }), /over one OTA slot \(1310720 bytes\)/);
    assert.equal(refusal(verifyImage(huge, { ...manifest, size: MAX_IMAGE_BYTES }, trusted)), 'too-large');
    const atLimit = Buffer.alloc(MAX_IMAGE_BYTES, 1);
    const m = signImage(atLimit, createPrivateKey(ed.privatePem), { version: '1.0.0', kind: 'env-sensor' });
    assert.deepEqual(verifyImage(atLimit, m, trusted), { ok: true });
  });

  it('checks the target: kind, architecture, newer version unless downgrades are allowed', () => {
    assert.deepEqual(checkTarget(manifest, { kind: 'env-sensor', arch: 'sync', version: '1.2.9' }), { ok: true });
    assert.equal(refusal(checkTarget(manifest, { kind: 'csi-sensor', version: '1.0.0' })), 'kind');
    assert.equal(refusal(checkTarget(manifest, { kind: 'env-sensor', arch: 'async', version: '1.0.0' })), 'arch');
    const same = checkTarget(manifest, { kind: 'env-sensor', version: '1.3.0' });
    assert.equal(refusal(same), 'not-newer');
    assert.match((same as { reason: string }).reason, /1\.3\.0 is not newer than the device's 1\.3\.0/);
    assert.equal(refusal(checkTarget(manifest, { kind: 'env-sensor', version: '2.0.0' })), 'not-newer');
    assert.deepEqual(checkTarget(manifest, { kind: 'env-sensor', version: '2.0.0' }, true), { ok: true });
    assert.deepEqual(checkTarget(manifest, { kind: 'env-sensor', version: 'v1.2.0' }), { ok: true }, 'a v prefix reads as semver');
    assert.deepEqual(checkTarget(manifest, { kind: 'env-sensor', version: null }), { ok: true }, 'unknown version: cannot be a downgrade');
    assert.equal(refusal(checkTarget(manifest, { kind: 'env-sensor', version: 'banana' })), 'version');
    // prerelease orders before its release (semver)
    const rc = { ...manifest, version: '1.3.0-rc.1' };
    assert.deepEqual(checkTarget(manifest, { kind: 'env-sensor', version: '1.3.0-rc.1' }), { ok: true });
    assert.equal(refusal(checkTarget(rc, { kind: 'env-sensor', version: '1.3.0' })), 'not-newer');
  });

  it('parses manifests without throwing, naming the field at fault', () => {
    assert.equal(parseManifest(JSON.stringify(manifest)).ok, true);
    const cases: Array<[unknown, string]> = [
      ['{', 'manifest'], [[], 'manifest'], [{ ...manifest, extra: 1 }, 'extra'], [{ ...manifest, version: '1.x' }, 'version'],
      [{ ...manifest, size: 0 }, 'size'], [{ ...manifest, size: MAX_IMAGE_BYTES + 1 }, 'size'], [{ ...manifest, sha256: 'ABC' }, 'sha256'],
      [{ ...manifest, signer: 'zz' }, 'signer'], [{ ...manifest, algorithm: 'rsa' }, 'algorithm'], [{ ...manifest, kind: 'Env Sensor' }, 'kind'],
      [{ ...manifest, signature: '***' }, 'signature'], [{ ...manifest, v: 2 }, 'v'],
    ];
    for (const [input, field] of cases) {
      const r = parseManifest(input);
      assert.equal(r.ok, false, JSON.stringify(input).slice(0, 60));
      assert.equal((r as { field: string }).field, field);
    }
    assert.equal((parseManifest({ ...manifest, version: 'v1.3.0' }) as { value: Manifest }).value.version, '1.3.0');
  });

  it('reads keys and refuses a private key where a public one belongs', () => {
    assert.equal(readPublicKey(ed.publicPem).ok, true);
    assert.match((readPublicKey(ed.privatePem) as { reason: string }).reason, /private key/);
    assert.equal(readPrivateKey(ed.privatePem).ok, true);
    assert.equal(readPublicKey('nonsense').ok, false);
    assert.deepEqual(trustedKeys(['nonsense']).problems.length, 1);
  });
});

describe('ota image repository', () => {
  const ed = generateSigningKey();
  const trusted = trustedKeys([ed.publicPem]).keys;
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-repo-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds, lists and gets images; refuses bad ones with the reason', () => {
    const repo = new ImageRepository(dir, trusted);
    const img = image(1000);
    const m = signImage(img, createPrivateKey(ed.privatePem), { version: '1.1.0', kind: 'env-sensor' });
    assert.equal(repo.add('env-1.1.0', img, m).ok, true);
    assert.deepEqual(repo.list().images.map((x) => x.name), ['env-1.1.0']);
    assert.deepEqual(repo.get('env-1.1.0')?.image, img);
    const bad = repo.add('env-bad', image(1000, 3), m);
    assert.equal(bad.ok, false);
    assert.equal((bad as { code: string }).code, 'sha256');
    assert.equal(fs.existsSync(path.join(dir, 'env-bad.bin')), false, 'nothing stored for a refused image');
    const other = signImage(image(1000, 5), createPrivateKey(ed.privatePem), { version: '1.1.0', kind: 'env-sensor' });
    assert.equal((repo.add('env-1.1.0', image(1000, 5), other) as { code: string }).code, 'exists');
  });

  it('refuses names that could leave the folder, and a hand-edited image', () => {
    for (const name of ['../x', 'a/b', '..', '.hidden', 'a\\b', '', 'x.manifest.json', 'a..b', 'é']) assert.notEqual(imageNameProblem(name), null, name);
    const repo = new ImageRepository(dir, trusted);
    const img = image(1000);
    const m = signImage(img, createPrivateKey(ed.privatePem), { version: '1.1.0', kind: 'env-sensor' });
    assert.equal((repo.add('../escape', img, m) as { code: string }).code, 'name');
    assert.equal(repo.get('../escape'), null);
    repo.add('ok', img, m);
    fs.writeFileSync(path.join(dir, 'ok.bin'), image(1000, 8));
    assert.equal(repo.get('ok'), null, 'a tampered image is not served');
    fs.writeFileSync(path.join(dir, 'junk.manifest.json'), '{');
    assert.equal(repo.list().problems.length, 1);
  });
});

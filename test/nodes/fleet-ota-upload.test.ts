/**
 * fleet-ota's upload endpoint in the test helper: POST <httpAdminRoot>/fleet-ota/<id>/images with an
 * image and its manifest, verified with the node's trusted keys as a rollout's image is, and stored
 * under a name derived from the manifest. (Permissions under adminAuth: test/e2e/ota-editor.)
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import helper from 'node-red-node-test-helper';

import otaNode = require('../../nodes/fleet-ota/fleet-ota');
import { MAX_IMAGE_BYTES } from '../../firmware/contract/ota';
import { KIND } from '../../firmware/contract/topics';
import { generateSigningKey } from '../../lib/ota/keys';
import { signImage, type Manifest } from '../../lib/ota/manifest';
import { multipart, type FormPart } from '../support/multipart';

helper.init(require.resolve('node-red'));

interface Answer { status: number; body: { ok?: boolean; field?: string; reason?: string; name?: string; manifest?: Manifest; images?: Array<{ name: string }> } }

describe('fleet-ota image upload (admin endpoint)', function () {
  this.timeout(20_000);
  let dir: string;
  const keys = generateSigningKey();
  const stranger = generateSigningKey();
  const image = Buffer.alloc(200_000);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7) & 0xff;
  const manifest = signImage(image, createPrivateKey(keys.privatePem), { version: '1.4.0', kind: KIND.envSensor });
  const folder = () => path.join(dir, 'images');

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-ota-upload-node-'));
    process.env.FLEET_STATE_DIR = path.join(dir, 'state');
    const flow = [
      { id: 'f1', type: 'tab' },
      { id: 'ota', type: 'fleet-ota', z: 'f1', folder: folder(), publicKeys: keys.publicPem, baseUrl: 'http://127.0.0.1:1880', wires: [[], [], [], []] },
    ];
    await helper.load([otaNode], flow, { ota: { secret: 'a-test-secret-of-enough-bytes' } });
    // The endpoints answer once the node is ready (its journal restored).
    for (let i = 0; i < 100 && (await helper.request().get('/fleet-ota/ota/images')).status !== 200; i++) await new Promise((r) => setTimeout(r, 20));
  });
  afterEach(async () => {
    await helper.unload();
    delete process.env.FLEET_STATE_DIR;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const upload = async (parts: readonly FormPart[], id = 'ota'): Promise<Answer> => {
    const { contentType, body } = multipart(parts);
    const res = await helper.request().post(`/fleet-ota/${id}/images`).set('Content-Type', contentType).send(body);
    return { status: res.status, body: res.body as Answer['body'] };
  };
  const parts = (m: unknown, img: Buffer = image, filename = 'firmware.bin'): FormPart[] =>
    [{ name: 'image', filename, data: img }, { name: 'manifest', filename: 'firmware.manifest.json', data: typeof m === 'string' ? m : JSON.stringify(m) }];

  it('stores a good image under its derived name, answers its manifest, and the picker lists it', async () => {
    const a = await upload(parts(manifest));
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(a.body.name, `${KIND.envSensor}-1.4.0`);
    assert.deepEqual(a.body.manifest, manifest);
    assert.deepEqual(fs.readFileSync(path.join(folder(), `${KIND.envSensor}-1.4.0.bin`)), image);
    const list = await helper.request().get('/fleet-ota/ota/images');
    assert.deepEqual((list.body as Answer['body']).images?.map((i) => i.name), [`${KIND.envSensor}-1.4.0`]);
    // A pasted manifest (a text field) works the same, and the same image again is 200.
    const again = await upload([{ name: 'image', filename: 'x.bin', data: image }, { name: 'manifest', data: JSON.stringify(manifest) }]);
    assert.equal(again.status, 200);
  });

  it('refuses a bad signature and an unknown signer with 400 naming the field, storing nothing', async () => {
    const other = signImage(image, createPrivateKey(stranger.privatePem), { version: '1.4.0', kind: KIND.envSensor });
    const bad = await upload(parts({ ...manifest, signature: other.signature }));
    assert.deepEqual([bad.status, bad.body.field], [400, 'signature']);
    assert.match(String(bad.body.reason), /signature/);
    const unknown = await upload(parts(other));
    assert.deepEqual([unknown.status, unknown.body.field], [400, 'signer']);
    const kind = await upload(parts({ ...manifest, kind: 'ENV/../x' }));
    assert.deepEqual([kind.status, kind.body.field], [400, 'kind']);
    const version = await upload(parts({ ...manifest, version: '1.4' }));
    assert.deepEqual([version.status, version.body.field], [400, 'version']);
    const broken = await upload(parts('{"v": 1,'));
    assert.deepEqual([broken.status, broken.body.field], [400, 'manifest']);
    assert.deepEqual(fs.readdirSync(folder()), []);
  });

  it('answers 413 for an image over one OTA slot and for a body over the limit', async () => {
    const big = Buffer.alloc(MAX_IMAGE_BYTES + 1, 1);
    const a = await upload(parts(manifest, big));
    assert.deepEqual([a.status, a.body.field], [413, 'image']);
    const huge = await upload(parts(manifest, Buffer.alloc(MAX_IMAGE_BYTES + 64 * 1024, 1)));
    assert.equal(huge.status, 413);
    assert.deepEqual(fs.readdirSync(folder()), []);
  });

  it('takes no file name from the client: a traversal in the file name or a form field goes nowhere', async () => {
    const outside = [path.resolve(folder(), '../evil.bin'), path.resolve(folder(), '../../evil.bin')];
    const a = await upload(parts(manifest, image, '../../evil.bin'));
    assert.equal(a.status, 201);
    assert.equal(a.body.name, `${KIND.envSensor}-1.4.0`);
    for (const f of outside) assert.equal(fs.existsSync(f), false, f);
    const named = await upload([...parts(manifest), { name: 'name', data: '../evil' }]);
    assert.deepEqual([named.status, named.body.field], [400, 'name']);
    assert.deepEqual(fs.readdirSync(folder()).sort(), [`${KIND.envSensor}-1.4.0.bin`, `${KIND.envSensor}-1.4.0.manifest.json`]);
  });

  it('refuses a body that is not a form, and a node that is not deployed', async () => {
    const json = await helper.request().post('/fleet-ota/ota/images').send({ image: 'AAAA', manifest });
    assert.deepEqual([json.status, (json.body as Answer['body']).field], [400, 'body']);
    const gone = await upload(parts(manifest), 'no-such-node');
    assert.equal(gone.status, 404);
  });
});

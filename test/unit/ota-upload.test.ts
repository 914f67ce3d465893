/** The upload's parts: multipart reading, the derived image name, the size limit, and the verdicts by field. */
import * as assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { MAX_IMAGE_BYTES } from '../../firmware/contract/ota';
import { KIND } from '../../firmware/contract/topics';
import { generateSigningKey, trustedKeys } from '../../lib/ota/keys';
import { signImage } from '../../lib/ota/manifest';
import { ImageRepository } from '../../lib/ota/repository';
import { acceptUpload, imageNameFor, MAX_UPLOAD_BYTES, readMultipart, readUploadBody } from '../../lib/ota/upload';
import { multipart } from '../support/multipart';

/** The refusal's body, or a failure when the read succeeded. */
const refusal = (r: { ok: true } | { ok: false; answer: { body: Readonly<Record<string, unknown>> } }): Readonly<Record<string, unknown>> => (r.ok ? assert.fail('accepted') : r.answer.body);

async function* pieces(total: number, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 1);
}

describe('ota upload: multipart/form-data (RFC 7578)', () => {
  it('reads a file part and a text part, with the file name as sent', () => {
    const { contentType, body } = multipart([{ name: 'image', filename: 'fw.bin', data: Buffer.from([0, 13, 10, 45, 45, 255]) }, { name: 'manifest', data: '{"v":1}' }]);
    const r = readMultipart(contentType, body);
    assert.ok(r.ok);
    assert.deepEqual(r.value.get('image'), { filename: 'fw.bin', data: Buffer.from([0, 13, 10, 45, 45, 255]) });
    assert.deepEqual(r.value.get('manifest'), { filename: null, data: Buffer.from('{"v":1}') });
  });

  it('takes a quoted boundary and a preamble', () => {
    const { body } = multipart([{ name: 'manifest', data: 'x' }], 'b0und');
    const r = readMultipart('multipart/form-data; boundary="b0und"', Buffer.concat([Buffer.from('preamble\r\n'), body]));
    assert.ok(r.ok && r.value.get('manifest')?.data.toString() === 'x');
  });

  it('refuses what is not one well-formed form, naming the part', () => {
    const { contentType, body } = multipart([{ name: 'image', data: 'a' }, { name: 'image', data: 'b' }]);
    const twice = readMultipart(contentType, body);
    assert.deepEqual(!twice.ok && twice.answer.body, { ok: false, field: 'image', reason: 'is sent twice' });
    assert.equal(refusal(readMultipart('application/json', body)).field, 'body');
    const open = readMultipart(contentType, body.subarray(0, body.length - 30));
    assert.match(String(!open.ok && open.answer.body.reason), /not closed/);
    const many = multipart(['a', 'b', 'c', 'd', 'e'].map((name) => ({ name, data: name })));
    assert.match(String(refusal(readMultipart(many.contentType, many.body)).reason), /more than 4 parts/);
  });
});

describe('ota upload: the stored name comes from the manifest', () => {
  it('is kind, arch and version, whatever the client called the file', () => {
    assert.equal(imageNameFor({ kind: KIND.envSensor, version: '1.4.0' }), `${KIND.envSensor}-1.4.0`);
    assert.equal(imageNameFor({ kind: KIND.envSensor, arch: 'full', version: '1.4.0-rc.1+build.7' }), `${KIND.envSensor}-full-1.4.0-rc.1_build.7`);
    assert.equal(imageNameFor({ kind: 'a'.repeat(32), arch: 'b'.repeat(32), version: '1.0.0' }), null, 'over 64 characters');
  });
});

describe('ota upload: size', () => {
  it('reads a body up to one slot and its manifest', async () => {
    const r = await readUploadBody(pieces(MAX_UPLOAD_BYTES), String(MAX_UPLOAD_BYTES));
    assert.ok(r.ok && r.value.length === MAX_UPLOAD_BYTES);
  });

  it('answers 413 for a larger body, read to its end so the client sees the answer', async () => {
    const r = await readUploadBody(pieces(MAX_UPLOAD_BYTES + 1), undefined);
    assert.ok(!r.ok);
    assert.equal(r.answer.status, 413);
    assert.equal(r.answer.close, undefined);
  });

  it('does not read a body declared or sent far over the limit: 413 and close', async () => {
    const declared = await readUploadBody(pieces(0), String(100 * 1024 * 1024));
    assert.deepEqual(!declared.ok && [declared.answer.status, declared.answer.close], [413, true]);
    const sent = await readUploadBody(pieces(5 * MAX_UPLOAD_BYTES), undefined);
    assert.deepEqual(!sent.ok && [sent.answer.status, sent.answer.close], [413, true]);
  });
});

describe('ota upload: verdicts', () => {
  let dir: string;
  let repo: ImageRepository;
  const keys = generateSigningKey();
  const stranger = generateSigningKey();
  const image = Buffer.alloc(4096, 3);
  const manifest = signImage(image, createPrivateKey(keys.privatePem), { version: '1.4.0', kind: KIND.envSensor });
  const send = (m: unknown, img: Buffer = image) => {
    const { contentType, body } = multipart([{ name: 'image', filename: 'any.bin', data: img }, { name: 'manifest', data: typeof m === 'string' ? m : JSON.stringify(m) }]);
    return acceptUpload(repo, contentType, body);
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-ota-upload-'));
    repo = new ImageRepository(path.join(dir, 'images'), trustedKeys([keys.publicPem]).keys);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('stores a good image under its derived name (201), and the same again is 200', () => {
    const a = send(manifest);
    assert.equal(a.status, 201);
    assert.equal(a.body.name, `${KIND.envSensor}-1.4.0`);
    assert.deepEqual(repo.get(`${KIND.envSensor}-1.4.0`)?.image, image);
    assert.equal(send(manifest).status, 200);
  });

  it('names the field of each refusal', () => {
    const flipped = Buffer.from(image);
    flipped[7] ^= 1;
    const other = signImage(image, createPrivateKey(stranger.privatePem), { version: '1.4.0', kind: KIND.envSensor });
    const cases: Array<[unknown, Buffer, number, string]> = [
      [{ ...manifest, signature: other.signature }, image, 400, 'signature'],
      [other, image, 400, 'signer'],
      [manifest, flipped, 400, 'sha256'],
      [{ ...manifest, kind: 'Env Sensor' }, image, 400, 'kind'],
      [{ ...manifest, version: 'latest' }, image, 400, 'version'],
      [{ ...manifest, size: 1 }, image, 400, 'size'],
      ['{not json', image, 400, 'manifest'],
      [{ ...manifest, extra: 1 }, image, 400, 'extra'],
    ];
    for (const [m, img, status, field] of cases) {
      const a = send(m, img);
      assert.deepEqual([a.status, a.body.field], [status, field], JSON.stringify(m).slice(0, 80));
      assert.equal(typeof a.body.reason, 'string');
    }
    assert.deepEqual(fs.readdirSync(path.join(dir, 'images')), [], 'nothing stored');
  });

  it('refuses an image over one OTA slot with 413', () => {
    const big = Buffer.alloc(MAX_IMAGE_BYTES + 1);
    assert.deepEqual([send(manifest, big).status, send(manifest, big).body.field], [413, 'image']);
  });

  it('refuses a different image under a name already taken with 409', () => {
    assert.equal(send(manifest).status, 201);
    const img2 = Buffer.alloc(4096, 4);
    const a = send(signImage(img2, createPrivateKey(keys.privatePem), { version: '1.4.0', kind: KIND.envSensor }), img2);
    assert.deepEqual([a.status, a.body.field], [409, 'image']);
  });

  it('refuses unknown and missing parts', () => {
    const { contentType, body } = multipart([{ name: 'image', filename: 'a.bin', data: image }, { name: 'name', data: '../../x' }]);
    assert.deepEqual(acceptUpload(repo, contentType, body).body.field, 'name');
    const only = multipart([{ name: 'image', filename: 'a.bin', data: image }]);
    assert.deepEqual(acceptUpload(repo, only.contentType, only.body).body.field, 'manifest');
  });
});

import * as assert from 'node:assert/strict';

import { parseRange } from '../../lib/ota/range';
import { makeToken, verifyToken } from '../../lib/ota/token';

const SECRET = 'a-secret-of-enough-bytes';

describe('ota download tokens', () => {
  const now = Date.UTC(2026, 11, 2, 12);
  const token = makeToken({ device: 'env-001', image: 'env-1.3.0', expiresAt: now + 3_600_000 }, SECRET);

  it('accepts the device it was issued for, until it expires', () => {
    const v = verifyToken(token, { device: 'env-001', image: 'env-1.3.0', now }, SECRET);
    assert.equal(v.ok, true);
  });

  it('tells a wrong, an expired and another device\'s token apart', () => {
    const refusal = (t: unknown, req: { device: string; image: string; now: number }, secret = SECRET) => {
      const v = verifyToken(t, req, secret);
      return v.ok ? 'ok' : `${v.refusal}/${v.status}`;
    };
    assert.equal(refusal(token, { device: 'env-001', image: 'env-1.3.0', now }, 'another-secret-entirely'), 'bad-signature/401');
    assert.equal(refusal(token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA'), { device: 'env-001', image: 'env-1.3.0', now }), 'bad-signature/401');
    assert.equal(refusal(token, { device: 'env-001', image: 'env-1.3.0', now: now + 3_600_000 }), 'expired/403');
    assert.equal(refusal(token, { device: 'env-002', image: 'env-1.3.0', now }), 'other-device/403');
    assert.equal(refusal(token, { device: 'env-001', image: 'env-1.2.0', now }), 'other-image/403');
    assert.equal(refusal(undefined, { device: 'env-001', image: 'env-1.3.0', now }), 'missing/401');
    assert.equal(refusal('v1.x.y', { device: 'env-001', image: 'env-1.3.0', now }), 'malformed/401');
    // a token re-labelled for another device no longer verifies
    const parts = token.split('.');
    parts[1] = Buffer.from('env-002').toString('base64url');
    assert.equal(refusal(parts.join('.'), { device: 'env-002', image: 'env-1.3.0', now }), 'bad-signature/401');
  });

  it('refuses a short secret', () => {
    assert.throws(() => makeToken({ device: 'a', image: 'b', expiresAt: 1 }, 'short'), /at least 16 bytes/);
  });
});

describe('ota Range header', () => {
  const size = 1000;
  const part = (h: string | undefined) => {
    const r = parseRange(h, size);
    return r.kind === 'partial' ? `${r.start}-${r.end} ${r.contentRange}` : r.kind;
  };

  it('reads first-last, open-ended and suffix ranges', () => {
    assert.equal(part(undefined), 'full');
    assert.equal(part('bytes=0-99'), '0-99 bytes 0-99/1000');
    assert.equal(part('bytes=500-'), '500-999 bytes 500-999/1000');
    assert.equal(part('bytes=-100'), '900-999 bytes 900-999/1000');
    assert.equal(part('bytes=-5000'), '0-999 bytes 0-999/1000', 'a suffix longer than the image is the whole image');
    assert.equal(part('bytes=990-5000'), '990-999 bytes 990-999/1000', 'an end past the image is clamped');
    assert.equal(part('Bytes = 10-19'), '10-19 bytes 10-19/1000');
    assert.equal(part('items=0-5'), 'full', 'another unit is ignored (RFC 9110)');
  });

  it('answers 416 for multiple, invalid and unsatisfiable ranges', () => {
    for (const h of ['bytes=0-1,5-6', 'bytes=1000-', 'bytes=5-1', 'bytes=-0', 'bytes=abc', 'bytes=', 'bytes=-', 'garbage']) {
      const r = parseRange(h, size);
      assert.equal(r.kind, 'unsatisfiable', h);
      assert.equal((r as { contentRange: string }).contentRange, 'bytes */1000');
    }
    assert.equal(parseRange(['bytes=0-1', 'bytes=2-3'], size).kind, 'unsatisfiable');
  });
});

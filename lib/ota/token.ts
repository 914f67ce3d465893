/**
 * Download tokens: each download is authorised for one device, one image and until an expiry, by an
 * HMAC-SHA256 with a secret kept in Node-RED credentials. The device and image travel in the token
 * (signed), so a valid token presented for another device is told apart from a forged one.
 *
 * Format: `v1.<device b64url>.<image b64url>.<expiry, unix seconds>.<mac b64url>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  readonly device: string;
  /** Image name in the repository. */
  readonly image: string;
  /** Unix milliseconds; stored rounded down to the second. */
  readonly expiresAt: number;
}

/** 401: not ours (malformed, forged). 403: ours, but not for this request or no longer. */
export type TokenRefusal = 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'other-device' | 'other-image';

export type TokenVerdict = { ok: true; claims: TokenClaims } | { ok: false; refusal: TokenRefusal; status: 401 | 403; reason: string };

const MIN_SECRET_BYTES = 16;
const MAX_TOKEN_LENGTH = 1024;

function mac(secret: string | Buffer, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

function checkSecret(secret: string | Buffer): void {
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw new Error(`the download token secret must be at least ${MIN_SECRET_BYTES} bytes`);
}

export function makeToken(claims: TokenClaims, secret: string | Buffer): string {
  checkSecret(secret);
  const body = `v1.${Buffer.from(claims.device).toString('base64url')}.${Buffer.from(claims.image).toString('base64url')}.${Math.floor(claims.expiresAt / 1000)}`;
  return `${body}.${mac(secret, body).toString('base64url')}`;
}

const refuse = (refusal: TokenRefusal, reason: string): TokenVerdict =>
  ({ ok: false, refusal, status: refusal === 'missing' || refusal === 'malformed' || refusal === 'bad-signature' ? 401 : 403, reason });

/** Checks a token presented by `device` for `image` at `now` (unix ms). */
export function verifyToken(token: unknown, request: { device: string; image: string; now: number }, secret: string | Buffer): TokenVerdict {
  checkSecret(secret);
  if (token === undefined || token === null || token === '') return refuse('missing', 'no download token');
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return refuse('malformed', 'the token is not a string of at most 1024 characters');
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1' || !/^\d{1,12}$/.test(parts[3])) return refuse('malformed', 'the token is not v1.<device>.<image>.<expiry>.<mac>');
  const body = parts.slice(0, 4).join('.');
  const given = Buffer.from(parts[4], 'base64url');
  const want = mac(secret, body);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return refuse('bad-signature', 'the token was not issued with this secret');
  const claims: TokenClaims = {
    device: Buffer.from(parts[1], 'base64url').toString('utf8'),
    image: Buffer.from(parts[2], 'base64url').toString('utf8'),
    expiresAt: Number(parts[3]) * 1000,
  };
  if (claims.device !== request.device) return refuse('other-device', `the token is for device ${JSON.stringify(claims.device)}, not ${JSON.stringify(request.device)}`);
  if (claims.image !== request.image) return refuse('other-image', `the token is for image ${JSON.stringify(claims.image)}, not ${JSON.stringify(request.image)}`);
  if (request.now >= claims.expiresAt) return refuse('expired', `the token expired at ${new Date(claims.expiresAt).toISOString()}`);
  return { ok: true, claims };
}

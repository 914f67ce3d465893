/**
 * Firmware image manifests: what the image is for (device kind, architecture), its semantic version,
 * size, SHA-256 and a signature over the image bytes by a named key. Parsed without throwing; verified
 * against the image and a set of trusted keys, and checked against a target device, each refusal
 * naming what failed.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

import semver from 'semver';

import { MAX_IMAGE_BYTES, OTA_VERSION_MAX_LENGTH } from '../../firmware/contract/ota';
import { SIGNATURE_ALGORITHMS, keyIdOf, type SignatureAlgorithm } from './keys';

export const MANIFEST_VERSION = 1;

export interface Manifest {
  readonly v: number;
  /** Device kind the image is built for (fleet words: env-sensor, csi-sensor, ...). */
  readonly kind: string;
  /** Architecture or firmware variant where it matters (e.g. sync | async | full for ESP32-C3). */
  readonly arch?: string;
  /** Semantic version, normalised (`v1.2.0` reads as `1.2.0`). */
  readonly version: string;
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
  readonly algorithm: SignatureAlgorithm;
  /** Base64 signature over the image bytes. */
  readonly signature: string;
  /** Key id of the signing key (see keys.ts). */
  readonly signer: string;
}

export type FieldResult<T> = { ok: true; value: T } | { ok: false; field: string; reason: string };

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KNOWN = new Set(['v', 'kind', 'arch', 'version', 'size', 'sha256', 'algorithm', 'signature', 'signer']);

/** Reads a manifest (object or JSON text); never throws. Unknown fields are refused so typos show. */
export function parseManifest(input: unknown): FieldResult<Manifest> {
  let raw = input;
  if (typeof raw === 'string') {
    if (raw.length > 16_384) return { ok: false, field: 'manifest', reason: 'longer than 16 KiB' };
    try { raw = JSON.parse(raw); } catch (err) { return { ok: false, field: 'manifest', reason: `not valid JSON: ${(err as Error).message}` }; }
  }
  if (!isObj(raw)) return { ok: false, field: 'manifest', reason: 'must be an object' };
  for (const k of Object.keys(raw)) if (!KNOWN.has(k)) return { ok: false, field: k === '' ? '""' : k, reason: 'is not a manifest field (v, kind, arch, version, size, sha256, algorithm, signature, signer)' };
  const v = raw.v ?? MANIFEST_VERSION;
  if (v !== MANIFEST_VERSION) return { ok: false, field: 'v', reason: `manifest version ${JSON.stringify(v)} is not one this package reads (${MANIFEST_VERSION})` };
  if (typeof raw.kind !== 'string' || !NAME.test(raw.kind)) return { ok: false, field: 'kind', reason: 'must be a device kind: lower-case letters, digits, . _ -, at most 32' };
  if (raw.arch !== undefined && (typeof raw.arch !== 'string' || !NAME.test(raw.arch))) return { ok: false, field: 'arch', reason: 'must be lower-case letters, digits, . _ -, at most 32' };
  if (typeof raw.version !== 'string' || raw.version.length > OTA_VERSION_MAX_LENGTH) return { ok: false, field: 'version', reason: `must be a semantic version of at most ${OTA_VERSION_MAX_LENGTH} characters` };
  const version = semver.valid(raw.version);
  if (version === null || version.length > OTA_VERSION_MAX_LENGTH) return { ok: false, field: 'version', reason: `${JSON.stringify(raw.version)} is not a semantic version (e.g. 1.3.0)` };
  if (typeof raw.size !== 'number' || !Number.isInteger(raw.size) || raw.size < 1) return { ok: false, field: 'size', reason: 'must be a whole number of bytes, at least 1' };
  if (raw.size > MAX_IMAGE_BYTES) return { ok: false, field: 'size', reason: `${raw.size} bytes is over one OTA slot (${MAX_IMAGE_BYTES} bytes)` };
  if (typeof raw.sha256 !== 'string' || !HEX64.test(raw.sha256)) return { ok: false, field: 'sha256', reason: 'must be 64 lower-case hex digits' };
  const algorithm = raw.algorithm ?? 'ed25519';
  if (typeof algorithm !== 'string' || !(SIGNATURE_ALGORITHMS as readonly string[]).includes(algorithm)) return { ok: false, field: 'algorithm', reason: `must be one of ${SIGNATURE_ALGORITHMS.join(', ')}` };
  if (typeof raw.signature !== 'string' || raw.signature.length === 0 || raw.signature.length > 1024 || !BASE64.test(raw.signature)) return { ok: false, field: 'signature', reason: 'must be base64, at most 1024 characters' };
  if (typeof raw.signer !== 'string' || !KEY_ID.test(raw.signer)) return { ok: false, field: 'signer', reason: 'must be a key id: 16 lower-case hex digits' };
  return {
    ok: true,
    value: {
      v: MANIFEST_VERSION, kind: raw.kind, ...(raw.arch !== undefined ? { arch: raw.arch as string } : {}),
      version, size: raw.size, sha256: raw.sha256, algorithm: algorithm as SignatureAlgorithm, signature: raw.signature, signer: raw.signer,
    },
  };
}

export interface SignOptions {
  readonly version: string;
  readonly kind: string;
  readonly arch?: string;
}

/** Builds and signs the manifest of an image. Throws on a bad version, kind or oversized image (an operator error at the CLI). */
export function signImage(image: Buffer, privateKey: KeyObject, options: SignOptions): Manifest {
  if (image.length > MAX_IMAGE_BYTES) throw new Error(`image is ${image.length} bytes, over one OTA slot (${MAX_IMAGE_BYTES} bytes)`);
  const type = privateKey.asymmetricKeyType;
  if (type !== 'ed25519' && !(type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1')) throw new Error(`a ${String(type)} key cannot sign: use Ed25519 or ECDSA P-256`);
  const algorithm: SignatureAlgorithm = type === 'ed25519' ? 'ed25519' : 'ecdsa-p256';
  const signature = sign(algorithm === 'ed25519' ? null : 'sha256', image, privateKey).toString('base64');
  const draft = {
    v: MANIFEST_VERSION, kind: options.kind, ...(options.arch !== undefined ? { arch: options.arch } : {}),
    version: options.version, size: image.length, sha256: createHash('sha256').update(image).digest('hex'),
    algorithm, signature, signer: keyIdOf(createPublicKey(privateKey)),
  };
  const parsed = parseManifest(draft);
  if (!parsed.ok) throw new Error(`${parsed.field} ${parsed.reason}`);
  return parsed.value;
}

export type RefusalCode = 'too-large' | 'size' | 'sha256' | 'signature' | 'unknown-signer' | 'algorithm' | 'not-newer' | 'kind' | 'arch' | 'version';

export type Verdict = { ok: true } | { ok: false; code: RefusalCode; reason: string };

/** Checks an image against its manifest and the trusted keys: size, checksum, signer, signature. */
export function verifyImage(image: Buffer, manifest: Manifest, trusted: ReadonlyMap<string, KeyObject>): Verdict {
  if (image.length > MAX_IMAGE_BYTES) return { ok: false, code: 'too-large', reason: `image is ${image.length} bytes, over one OTA slot (${MAX_IMAGE_BYTES} bytes)` };
  if (image.length !== manifest.size) return { ok: false, code: 'size', reason: `size mismatch: the image is ${image.length} bytes, the manifest says ${manifest.size}` };
  const sha = createHash('sha256').update(image).digest('hex');
  if (sha !== manifest.sha256) return { ok: false, code: 'sha256', reason: `checksum mismatch: the image's SHA-256 is ${sha}, the manifest says ${manifest.sha256}` };
  const key = trusted.get(manifest.signer);
  if (!key) return { ok: false, code: 'unknown-signer', reason: `unknown signer: key ${manifest.signer} is not among the ${trusted.size} trusted public key(s)` };
  const keyAlg: SignatureAlgorithm = key.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'ecdsa-p256';
  if (keyAlg !== manifest.algorithm) return { ok: false, code: 'algorithm', reason: `the manifest says ${manifest.algorithm} but key ${manifest.signer} is ${keyAlg}` };
  let good: boolean;
  try {
    good = verify(keyAlg === 'ed25519' ? null : 'sha256', image, key, Buffer.from(manifest.signature, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, code: 'signature', reason: `signature mismatch: the signature does not verify with key ${manifest.signer}` };
  return { ok: true };
}

export interface TargetDevice {
  readonly kind: string;
  readonly arch?: string | null;
  /** Version the device runs now; null when unknown (then it cannot be a downgrade). */
  readonly version?: string | null;
}

/** Checks that an image may go to a device: kind, architecture, and a newer version unless downgrades are allowed. */
export function checkTarget(manifest: Manifest, device: TargetDevice, allowDowngrade = false): Verdict {
  if (device.kind !== manifest.kind) return { ok: false, code: 'kind', reason: `kind mismatch: the image is for ${manifest.kind}, the device is ${device.kind}` };
  if (manifest.arch !== undefined && device.arch !== undefined && device.arch !== null && device.arch !== manifest.arch) {
    return { ok: false, code: 'arch', reason: `architecture mismatch: the image is for ${manifest.arch}, the device is ${device.arch}` };
  }
  if (device.version !== undefined && device.version !== null && !allowDowngrade) {
    const current = semver.valid(semver.coerce(device.version, { includePrerelease: true }) ?? '') ?? null;
    const exact = semver.valid(device.version);
    const have = exact ?? current;
    if (have === null) return { ok: false, code: 'version', reason: `the device's version ${JSON.stringify(device.version)} is not a semantic version, so the update cannot be shown to be newer` };
    if (!semver.gt(manifest.version, have)) return { ok: false, code: 'not-newer', reason: `version ${manifest.version} is not newer than the device's ${have} (allow a downgrade in the plan to send it)` };
  }
  return { ok: true };
}

/** Same version, read as semver where both parse (1.2.0 = v1.2.0), else as strings. */
export function sameVersion(a: string, b: string): boolean {
  const x = semver.valid(a);
  const y = semver.valid(b);
  return x !== null && y !== null ? semver.eq(x, y) : a === b;
}

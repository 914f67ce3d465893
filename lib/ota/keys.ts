/**
 * Signing keys for firmware images: Ed25519 (the default) or ECDSA P-256. A key is named by its
 * key id, the first 16 hex digits of the SHA-256 of its public key (SPKI DER), so a manifest can say
 * who signed it without carrying the key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256';
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = ['ed25519', 'ecdsa-p256'];

export interface KeyPairPem {
  readonly algorithm: SignatureAlgorithm;
  readonly keyId: string;
  readonly privatePem: string;
  readonly publicPem: string;
}

export type KeyResult = { ok: true; value: KeyObject; algorithm: SignatureAlgorithm; keyId: string } | { ok: false; reason: string };

export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

export function generateSigningKey(algorithm: SignatureAlgorithm = 'ed25519'): KeyPairPem {
  const pair = algorithm === 'ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    algorithm,
    keyId: keyIdOf(pair.publicKey),
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function algorithmOf(key: KeyObject): SignatureAlgorithm | null {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  return null;
}

/** Reads a PEM public key (a private key is refused: it has no business where public keys are configured). */
export function readPublicKey(pem: string): KeyResult {
  if (/PRIVATE KEY/.test(pem)) return { ok: false, reason: 'this is a private key; give the public key (.pub)' };
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    return { ok: false, reason: `not a PEM public key: ${(err as Error).message}` };
  }
  const algorithm = algorithmOf(key);
  if (!algorithm) return { ok: false, reason: `key type ${String(key.asymmetricKeyType)} is not Ed25519 or ECDSA P-256` };
  return { ok: true, value: key, algorithm, keyId: keyIdOf(key) };
}

export function readPrivateKey(pem: string): KeyResult {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    return { ok: false, reason: `not a PEM private key: ${(err as Error).message}` };
  }
  const algorithm = algorithmOf(key);
  if (!algorithm) return { ok: false, reason: `key type ${String(key.asymmetricKeyType)} is not Ed25519 or ECDSA P-256` };
  return { ok: true, value: key, algorithm, keyId: keyIdOf(createPublicKey(key)) };
}

/** Trusted public keys by key id, built from PEM texts; a bad key is reported, not skipped silently. */
export function trustedKeys(pems: readonly string[]): { keys: Map<string, KeyObject>; problems: string[] } {
  const keys = new Map<string, KeyObject>();
  const problems: string[] = [];
  pems.forEach((pem, i) => {
    const r = readPublicKey(pem);
    if (r.ok) keys.set(r.keyId, r.value);
    else problems.push(`key ${i + 1}: ${r.reason}`);
  });
  return { keys, problems };
}

#!/usr/bin/env node
/**
 * esp32-fleet-ota: key pairs, signed manifests and verification, outside any flow (the private key
 * never goes near Node-RED).
 *   keygen --out DIR [--algorithm ed25519|ecdsa-p256]
 *   sign --key KEY --image FILE --version V --kind K [--arch A]      prints the manifest JSON
 *   verify --pub PUB --manifest M --image FILE [--kind K --arch A --current V]
 * Exit codes: 0 good, 1 refused or failed (reason on stderr), 2 usage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { SIGNATURE_ALGORITHMS, generateSigningKey, readPrivateKey, readPublicKey, type SignatureAlgorithm } from './keys';
import { checkTarget, parseManifest, signImage, verifyImage } from './manifest';

const USAGE = `usage:
  esp32-fleet-ota keygen --out DIR [--algorithm ed25519|ecdsa-p256]
  esp32-fleet-ota sign --key KEY --image FILE --version V --kind K [--arch A]
  esp32-fleet-ota verify --pub PUB --manifest M --image FILE [--kind K] [--arch A] [--current V]`;

class Usage extends Error {}
class Refused extends Error {}

function options(args: string[], allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    if (!flag.startsWith('--') || !allowed.includes(flag.slice(2))) throw new Usage(`unknown option ${flag}`);
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Usage(`${flag} needs a value`);
    out.set(flag.slice(2), value);
  }
  return out;
}

function need(o: Map<string, string>, name: string): string {
  const v = o.get(name);
  if (v === undefined) throw new Usage(`--${name} is required`);
  return v;
}

function read(file: string, what: string): Buffer {
  try { return fs.readFileSync(file); } catch (err) { throw new Refused(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); }
}

function keygen(args: string[]): void {
  const o = options(args, ['out', 'algorithm']);
  const out = need(o, 'out');
  const algorithm = o.get('algorithm') ?? 'ed25519';
  if (!(SIGNATURE_ALGORITHMS as readonly string[]).includes(algorithm)) throw new Usage(`--algorithm must be one of ${SIGNATURE_ALGORITHMS.join(', ')}`);
  const pair = generateSigningKey(algorithm as SignatureAlgorithm);
  fs.mkdirSync(out, { recursive: true });
  const key = path.join(out, 'ota-signing.key');
  const pub = path.join(out, 'ota-signing.pub');
  if (fs.existsSync(key)) throw new Refused(`${key} exists; not overwriting a signing key`);
  // wx: never replace a key; 0600: the private key is readable by its owner only.
  fs.writeFileSync(key, pair.privatePem, { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(pub, pair.publicPem, { mode: 0o644 });
  process.stdout.write(`${JSON.stringify({ keyId: pair.keyId, algorithm: pair.algorithm, privateKey: key, publicKey: pub })}\n`);
}

function signCmd(args: string[]): void {
  const o = options(args, ['key', 'image', 'version', 'kind', 'arch']);
  const key = readPrivateKey(read(need(o, 'key'), 'key').toString('utf8'));
  if (!key.ok) throw new Refused(`key: ${key.reason}`);
  const image = read(need(o, 'image'), 'image');
  let manifest;
  try {
    manifest = signImage(image, key.value, { version: need(o, 'version'), kind: need(o, 'kind'), ...(o.has('arch') ? { arch: o.get('arch') as string } : {}) });
  } catch (err) {
    if (err instanceof Usage) throw err;
    throw new Refused((err as Error).message);
  }
  process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
}

function verifyCmd(args: string[]): void {
  const o = options(args, ['pub', 'manifest', 'image', 'kind', 'arch', 'current']);
  const pub = readPublicKey(read(need(o, 'pub'), 'public key').toString('utf8'));
  if (!pub.ok) throw new Refused(`public key: ${pub.reason}`);
  const parsed = parseManifest(read(need(o, 'manifest'), 'manifest').toString('utf8'));
  if (!parsed.ok) throw new Refused(`manifest: ${parsed.field} ${parsed.reason}`);
  const image = read(need(o, 'image'), 'image');
  const verdict = verifyImage(image, parsed.value, new Map([[pub.keyId, pub.value]]));
  if (!verdict.ok) throw new Refused(verdict.reason);
  if (o.has('kind')) {
    const t = checkTarget(parsed.value, { kind: o.get('kind') as string, arch: o.get('arch') ?? null, version: o.get('current') ?? null });
    if (!t.ok) throw new Refused(t.reason);
  }
  process.stdout.write(`good: ${parsed.value.kind}${parsed.value.arch ? `/${parsed.value.arch}` : ''} ${parsed.value.version}, ${parsed.value.size} bytes, signed by ${parsed.value.signer}\n`);
}

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    if (command === 'keygen') keygen(rest);
    else if (command === 'sign') signCmd(rest);
    else if (command === 'verify') verifyCmd(rest);
    else if (command === undefined || command === '--help' || command === 'help') { process.stdout.write(`${USAGE}\n`); return command === undefined ? 2 : 0; }
    else throw new Usage(`unknown command ${command}`);
    return 0;
  } catch (err) {
    if (err instanceof Usage) { process.stderr.write(`esp32-fleet-ota: ${err.message}\n${USAGE}\n`); return 2; }
    process.stderr.write(`esp32-fleet-ota: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

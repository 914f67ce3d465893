/**
 * What fleet-ota reads from its surroundings at deploy, kept out of the editor's bundle (it touches
 * files): the keys file, the URL devices reach Node-RED at, and the token secret.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { OTA_HTTP } from '../../firmware/contract/ota';
import { trustedKeys } from './keys';
import type { FieldResult } from './manifest';
import { splitPem, type OtaConfig } from './node-config';

/** The node's configuration with the keys file's public keys added; a missing, empty or bad file names `keysFile`. */
export function withKeysFile(config: OtaConfig, userDir: string): FieldResult<OtaConfig> {
  if (config.keysFile === null) return { ok: true, value: config };
  const file = path.resolve(userDir, config.keysFile);
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) { return { ok: false, field: 'keysFile', reason: `cannot read ${file}: ${(err as Error).message}` }; }
  const pems = splitPem(text);
  if (pems.length === 0) return { ok: false, field: 'keysFile', reason: `${file} holds no PEM public key` };
  const bad = trustedKeys(pems).problems[0];
  if (bad) return { ok: false, field: 'keysFile', reason: bad };
  return { ok: true, value: { ...config, publicKeys: [...config.publicKeys, ...pems] } };
}

/** The parts of Node-RED's settings the device URL is made of. */
export interface HttpSettings {
  readonly uiHost?: unknown;
  readonly uiPort?: unknown;
  readonly httpNodeRoot?: unknown;
  readonly https?: unknown;
}

/**
 * Node-RED's own address from its settings, for devices on the same host (the simulator); real
 * devices need the configured Device URL.
 */
export function ownUrl(s: HttpSettings): string {
  const host = typeof s.uiHost === 'string' && s.uiHost !== '' && s.uiHost !== '0.0.0.0' && s.uiHost !== '::' ? s.uiHost : '127.0.0.1';
  const port = typeof s.uiPort === 'number' ? s.uiPort : 1880;
  const root = typeof s.httpNodeRoot === 'string' ? s.httpNodeRoot.replace(/\/+$/, '') : '';
  return `${s.https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${root}`;
}

/** Where a command's URL points: the download endpoint under the configured or the own base URL. */
export function downloadUrlOf(config: Pick<OtaConfig, 'baseUrl'>, settings: HttpSettings): string {
  return `${config.baseUrl ?? ownUrl(settings)}${OTA_HTTP.download.replace('/:image', '')}`;
}

/**
 * The HMAC secret of the download tokens: the credential when it has 16 bytes or more, else the one
 * kept in the node's journal, else a new one (`keep` says to journal it, so tokens survive a restart).
 */
export function tokenSecret(credential: unknown, kept: unknown): { secret: string; keep: boolean } {
  if (typeof credential === 'string' && Buffer.byteLength(credential) >= 16) return { secret: credential, keep: false };
  if (typeof kept === 'string' && kept.length >= 32) return { secret: kept, keep: false };
  return { secret: randomBytes(32).toString('base64url'), keep: true };
}

/** A userDir from Node-RED's settings, else the working directory. */
export function userDirOf(settings: { readonly userDir?: unknown }): string {
  return typeof settings.userDir === 'string' && settings.userDir !== '' ? settings.userDir : process.cwd();
}

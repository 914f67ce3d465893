/**
 * Turns a rollout's command effect into the ota/update/{device} message for a core `mqtt out`.
 * The download token rides in the URL (the contract's ota-update has no token field), so any HTTP
 * client on the device sends it back unchanged.
 */
import { topicFor } from '../../firmware/contract/topics';
import type { RolloutEffect } from './rollout';
import { makeToken } from './token';

export interface UpdateCommand {
  readonly topic: string;
  readonly payload: {
    readonly job_id: string;
    readonly firmware_version: string;
    readonly url: string;
    readonly size: number;
    readonly sha256: string;
    readonly signature: string;
    readonly v: 1;
  };
}

/** `baseUrl` is where the download endpoint is reached, e.g. http://192.168.1.10:1880/fleet/ota/firmware. */
export function updateCommand(effect: Extract<RolloutEffect, { type: 'command' }>, baseUrl: string, secret: string | Buffer, tokenExpiresAt: number): UpdateCommand {
  const token = makeToken({ device: effect.device, image: effect.image.name, expiresAt: tokenExpiresAt }, secret);
  const url = `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(effect.image.name)}?device=${encodeURIComponent(effect.device)}&token=${encodeURIComponent(token)}`;
  return {
    topic: topicFor('ota.update', { device: effect.device }),
    payload: { job_id: effect.jobId, firmware_version: effect.image.version, url, size: effect.image.size, sha256: effect.image.sha256, signature: effect.image.signature, v: 1 },
  };
}

/**
 * fleet-ota: staged, health-gated firmware rollouts. Input: start/pause/resume/abort/image/status
 * messages, device progress from fleet-decode, fleet-health's state changes (output 1). Outputs: 1
 * commands for a core mqtt out, 2 per-device progress, 3 wave and rollout summaries, 4 alerts. The
 * domain is lib/ota/service.ts; the rollout lives in the kit's durable store (a journal synced per
 * commit), and each step is committed before this adapter sends what it caused.
 */
import * as path from 'node:path';

import type { NodeAPI, NodeMessageInFlow } from 'node-red';
import type { Response } from 'express';

import { trustedKeys } from '../../lib/ota/keys';
import { parseOtaConfig, type CandidateDevice, type OtaConfig } from '../../lib/ota/node-config';
import { downloadUrlOf, tokenSecret, userDirOf, withKeysFile, type HttpSettings } from '../../lib/ota/node-runtime';
import { ImageRepository } from '../../lib/ota/repository';
import { OtaService, type OtaOutputs } from '../../lib/ota/service';
import { readUploadBody } from '../../lib/ota/upload';
import { defineNode, type Outputs } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { serve } from './http';
import { FLEET_OTA_VERSION, migrations } from './migrations';

type InMessage = NodeMessageInFlow & { action?: unknown; device?: unknown; kind?: unknown };

/** Deployed nodes by id, for the admin endpoints the editor calls. */
const deployed = new Map<string, { service: OtaService; send: (o: OtaOutputs | null | undefined) => void }>();
const SECRET_KEY = 'token-secret';

const settingsOf = (RED: NodeAPI): HttpSettings & { userDir?: unknown } => RED.settings as unknown as HttpSettings & { userDir?: unknown };
const answer = (res: Response, a: { status: number; body: unknown; close?: boolean }): void => {
  if (a.close) res.set('Connection', 'close');
  res.status(a.status).json(a.body);
};

export = defineNode<OtaConfig, InMessage>({
  type: 'fleet-ota',
  version: FLEET_OTA_VERSION,
  migrations,
  state: { mode: 'durable' },
  credentials: { secret: { type: 'password' } },
  parse: (def, RED) => {
    const r = parseOtaConfig(def);
    return r.ok ? withKeysFile(r.value, userDirOf(settingsOf(RED))) : r;
  },
  create(kit) {
    const { RED, node, config, def, status, t } = kit;
    const repository = new ImageRepository(path.resolve(userDirOf(settingsOf(RED)), config.folder), trustedKeys(config.publicKeys).keys);
    const fleet = registryOf(RED, typeof def.registry === 'string' ? def.registry : undefined);
    const known = (): CandidateDevice[] => (fleet ? [...fleet.records()].map((d) => ({ id: d.id, kind: d.kind, arch: d.arch, version: d.firmware, labels: d.labels })) : []);
    let service: OtaService | null = null;
    let stopServing: (() => void) | null = null;

    const badge = (): void => status.set(() => {
      const b = service?.badge() ?? { fill: 'grey', shape: 'ring', key: 'idle', vars: {} };
      return { fill: b.fill, shape: b.shape, text: t(`status.${b.key}`, b.vars) };
    });
    const sender = (send: (m: Outputs) => void) => (o: OtaOutputs | null | undefined): void => {
      if (o) send(o);
      badge();
    };
    const send = sender((m) => kit.send(m));

    status.now({ fill: 'grey', shape: 'ring', text: t('status.restoring') });

    return {
      ready() {
        const creds = (node as unknown as { credentials?: { secret?: unknown } }).credentials;
        const { secret, keep } = tokenSecret(creds?.secret, kit.state.get(SECRET_KEY));
        if (keep) kit.state.set(SECRET_KEY, secret);
        const s = new OtaService({ store: kit.state, repository, secret, downloadUrl: downloadUrlOf(config, settingsOf(RED)), tokenTtlSeconds: config.tokenTtlSeconds, plan: config.plan, known });
        service = s;
        for (const p of s.restore()) node.warn(t('errors.restore', { message: p }));
        deployed.set(node.id, { service: s, send });
        stopServing = serve(RED, { controller: s.controller, deliver: (out) => send(s.outputs(out, Date.now())) });
        badge();
        // The first tick after a restart re-sends nothing: the journal says what was sent.
        kit.every(config.tickMs, () => send(s.tick(Date.now())));
      },
      input(msg, out) {
        if (!service) throw new Error('fleet-ota: not ready');
        sender(out)(service.input(msg, Date.now()));
      },
      close() {
        stopServing?.();
        deployed.delete(node.id);
      },
    };
  },
  admin(routes) {
    const of = (id: unknown) => (typeof id === 'string' ? deployed.get(id) ?? null : null);
    const NOT_DEPLOYED = { status: 404, body: { error: 'deploy the node first' } };
    routes.get('/:id/images', (req, res) => {
      const r = of(req.params.id);
      answer(res, r ? { status: 200, body: r.service.repository.list() } : NOT_DEPLOYED);
    });
    // Before /:id/:action, which would take `images` for an action.
    routes.post('/:id/images', (req, res) => {
      const r = of(req.params.id);
      if (!r) { answer(res, NOT_DEPLOYED); return; }
      readUploadBody(req, req.headers['content-length']).then(
        (body) => answer(res, body.ok ? r.service.upload(req.headers['content-type'], body.value) : body.answer),
        (err: Error) => answer(res, { status: 400, body: { ok: false, field: 'body', reason: err.message } }),
      );
    }, 'write');
    routes.get('/:id/state', (req, res) => {
      const r = of(req.params.id);
      answer(res, r ? { status: 200, body: r.service.state() } : NOT_DEPLOYED);
    });
    routes.post('/:id/:action', (req, res) => {
      const r = of(req.params.id);
      if (!r) { answer(res, NOT_DEPLOYED); return; }
      const a = r.service.command(String(req.params.action), (req as unknown as { body?: unknown }).body, Date.now());
      r.send(a.outputs);
      answer(res, a);
    }, 'write');
  },
});

/**
 * fleet-ota's device endpoints on Node-RED's own HTTP server (RED.httpNode): version check, image
 * download (Range, per-device token) and status report. Registered once per runtime; every deployed
 * fleet-ota node answers through its controller. Only these three paths exist: no listing, and an
 * image name is checked before it is joined to the folder.
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';

import { OTA_HTTP } from '../../firmware/contract/ota';
import type { HttpAnswer, OtaController, Outbound } from '../../lib/ota/controller';

export interface Endpoint {
  readonly controller: OtaController;
  /** Sends what a status report caused (the node's outputs). */
  readonly deliver: (out: Outbound) => void;
}

const live = new Set<Endpoint>();
const registered = new WeakSet<object>();
const MAX_BODY = 8192;

function reply(res: Response, a: HttpAnswer): void {
  res.status(a.status).set(a.headers);
  if (Buffer.isBuffer(a.body)) res.end(a.body);
  else res.send(JSON.stringify(a.body));
}

function readBody(req: Request): Promise<unknown> {
  const parsed = (req as Request & { body?: unknown }).body;
  if (parsed !== undefined && parsed !== null && typeof parsed === 'object' && !Buffer.isBuffer(parsed) && Object.keys(parsed).length > 0) return Promise.resolve(parsed);
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new Error('body over 8 KiB')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { reject(new Error('body is not JSON')); }
    });
    req.on('error', reject);
  });
}

const first = (x: unknown): unknown => (Array.isArray(x) ? x[0] : x);

export function serve(RED: NodeAPI, endpoint: Endpoint): () => void {
  live.add(endpoint);
  const app = RED.httpNode as unknown as { get: (p: string, h: (req: Request, res: Response) => void) => void; post: (p: string, h: (req: Request, res: Response) => void) => void } | undefined;
  if (app && !registered.has(app)) {
    registered.add(app);
    app.get(OTA_HTTP.download, (req, res) => {
      const image = String(req.params.image ?? '');
      const now = Date.now();
      let answer: HttpAnswer | null = null;
      // Several fleet-ota nodes: the first whose secret made the token answers.
      for (const e of live) {
        answer = e.controller.download({ image, device: first(req.query.device), token: first(req.query.token), range: req.headers.range, now });
        if (answer.status !== 401) break;
      }
      reply(res, answer ?? { status: 503, headers: {}, body: { error: 'no fleet-ota node is deployed' } });
    });
    app.get(OTA_HTTP.versionCheck, (req, res) => {
      const device = first(req.query.device);
      let answer: HttpAnswer | null = null;
      for (const e of live) {
        answer = e.controller.versionCheck(device);
        if (answer.status === 200 && (answer.body as { update?: unknown }).update !== false) break;
      }
      reply(res, answer ?? { status: 503, headers: {}, body: { error: 'no fleet-ota node is deployed' } });
    });
    app.post(OTA_HTTP.status, (req, res) => {
      readBody(req).then((body) => {
        let answer: HttpAnswer | null = null;
        for (const e of live) {
          const r = e.controller.statusReport(body, Date.now());
          answer = r.answer;
          e.deliver(r.out);
          if (r.out.events.length > 0) break;
        }
        reply(res, answer ?? { status: 503, headers: {}, body: { error: 'no fleet-ota node is deployed' } });
      }, (err: Error) => reply(res, { status: 400, headers: {}, body: { error: err.message } }));
    });
  }
  return () => { live.delete(endpoint); };
}


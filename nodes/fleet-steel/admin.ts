/**
 * fleet-steel's admin endpoint: the editor's check-as-you-type. `POST <httpAdminRoot>/fleet-steel/check`
 * with `{"source": "...", "profile"?: "default" | "aws-iot-steel", "forbidden"?, "unboundedLoops"?: "error" | "warning"}`
 * answers 200 `{ok, errors, warnings, findings: [{line, col, severity, rule, message, hint}]}`;
 * a request that is not one answers 400 `{ok: false, errors: [{field, message}]}`, an oversized one 413.
 */
import type { NextFunction, Request, Response } from 'express';

import { checkProgram } from '../../lib/steel/checker';
import { checkOptionsFor, MAX_SOURCE_CHARS } from '../../lib/steel/push-config';
import type { AdminRoutes } from '../shared/kit';

/** Bytes of a check request: the source (at most MAX_SOURCE_CHARS characters, up to 4 bytes each in JSON) and a little more. */
export const MAX_CHECK_BODY = MAX_SOURCE_CHARS * 2;

type FieldErrors = Array<{ field: string; message: string }>;

export function registerSteelAdmin(routes: AdminRoutes): void {
  routes.post('/check', (req: Request, res: Response) => {
    try {
      const length = Number(req.headers['content-length'] ?? 0);
      if (length > MAX_CHECK_BODY) {
        res.status(413).json({ ok: false, errors: [{ field: 'source', message: `request body over ${MAX_CHECK_BODY} bytes` }] });
        return;
      }
      const body: unknown = req.body;
      const errors: FieldErrors = [];
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        res.status(400).json({ ok: false, errors: [{ field: '', message: 'send a JSON object {"source": "<program>"}' }] });
        return;
      }
      const b = body as Record<string, unknown>;
      if (typeof b.source !== 'string') errors.push({ field: 'source', message: 'expected the program as a string' });
      else if (b.source.length > MAX_SOURCE_CHARS) errors.push({ field: 'source', message: `longer than ${MAX_SOURCE_CHARS} characters` });
      const profile = b.profile === undefined ? 'default' : b.profile;
      const opts = typeof profile === 'string' ? checkOptionsFor(profile, b) : null;
      if (!opts || !opts.ok) errors.push({ field: 'profile', message: opts && !opts.ok ? opts.reason : 'expected a profile name' });
      for (const k of ['forbidden', 'unboundedLoops']) {
        if (b[k] !== undefined && b[k] !== 'error' && b[k] !== 'warning') errors.push({ field: k, message: 'expected "error" or "warning"' });
      }
      if (errors.length > 0 || !opts || !opts.ok) {
        res.status(400).json({ ok: false, errors });
        return;
      }
      res.json(checkProgram(b.source as string, opts.value));
    } catch (err) {
      res.status(500).json({ ok: false, errors: [{ field: '', message: (err as Error).message }] });
    }
  }, 'read');
}

/**
 * The admin API's JSON parser refuses a body (not JSON, too large) before the route: answer in
 * the endpoint's own shape rather than with Express's error page.
 */
export function checkBodyErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) { next(err); return; }
  const e = err as { type?: unknown; message?: unknown };
  const status = e.type === 'entity.too.large' ? 413 : 400;
  res.status(status).json({ ok: false, errors: [{ field: status === 413 ? 'source' : '', message: status === 413 ? 'request body too large' : `request body is not JSON: ${String(e.message ?? err).slice(0, 200)}` }] });
}

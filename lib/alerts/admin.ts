/**
 * fleet-alerts' admin endpoints without Express: the dialog's check (the runtime's own parser, and which
 * receivers a sample alert reaches), Alertmanager YAML import and export. A refused document is an answer
 * (200, ok false, where and why); a malformed request is a 400, one over the limit a 413.
 */
import { parseAlertsConfig } from './config';
import { exportAlertmanagerYaml, importAlertmanagerYaml } from './alertmanager-yaml';
import { matchRoutes } from './routes';

/** Bodies the admin endpoints accept. */
export const ENDPOINT_BODY_LIMIT = 256 * 1024;

export interface AdminAnswer { readonly status: number; readonly json?: unknown; readonly yaml?: string }

type Body = Readonly<Record<string, unknown>>;

const refuse = (status: number, field: string, reason: string): AdminAnswer => ({ status, json: { ok: false, path: 'request', field, reason } });
const isObject = (x: unknown): x is Body => x !== null && typeof x === 'object' && !Array.isArray(x);

/** The checks every endpoint shares (size, a JSON object), then `handler`; a throw is a 400, not a stack. */
export function answerRequest(contentLength: unknown, body: unknown, handler: (body: Body) => AdminAnswer): AdminAnswer {
  const declared = typeof contentLength === 'string' && contentLength !== '' ? Number(contentLength) : NaN;
  let size = Number.isFinite(declared) ? declared : 0;
  try { if (!Number.isFinite(declared)) size = Buffer.byteLength(JSON.stringify(body ?? null)); } catch { size = Infinity; }
  if (size > ENDPOINT_BODY_LIMIT) return refuse(413, 'body', `is ${size} bytes; at most ${ENDPOINT_BODY_LIMIT} (256 KiB)`);
  if (!isObject(body)) return refuse(400, 'body', 'must be a JSON object');
  try {
    return handler(body);
  } catch (err) {
    // A parser that throws is a bug to fix, but the editor gets a field error.
    return refuse(400, 'body', `could not be read: ${(err as Error).message}`);
  }
}

export function checkRequest(body: Body): AdminAnswer {
  const r = parseAlertsConfig(body.receivers, body.routing);
  if (!r.ok) return { status: 200, json: { ok: false, path: r.path, field: r.field, reason: r.reason } };
  let labels: Record<string, string> | null = null;
  if (body.labels !== undefined && body.labels !== null) {
    if (!isObject(body.labels)) return refuse(400, 'labels', 'must map label names to text');
    labels = Object.fromEntries(Object.entries(body.labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  return { status: 200, json: { ok: true, receivers: labels ? matchRoutes(r.value.tree, labels).map((x) => ({ receiver: x.receiver, route: x.path })) : [] } };
}

export function importRequest(body: Body): AdminAnswer {
  if (typeof body.yaml !== 'string') return refuse(400, 'yaml', 'must be the Alertmanager YAML as text');
  return { status: 200, json: importAlertmanagerYaml(body.yaml) };
}

export function exportRequest(body: Body): AdminAnswer {
  const receivers = body.receivers ?? [];
  if (!Array.isArray(receivers) || !receivers.every((r): r is string => typeof r === 'string')) return refuse(400, 'receivers', 'must be a list of receiver names');
  let doc: unknown = body.routing ?? '{}';
  if (typeof doc === 'string') {
    try { doc = JSON.parse(doc || '{}'); } catch (err) { return refuse(400, 'routing', `not valid JSON: ${(err as Error).message}`); }
  }
  if (!isObject(doc)) return refuse(400, 'routing', 'must be an object with a route');
  if (!isObject(doc.route)) return refuse(400, 'routing.route', 'must be an object');
  for (const k of ['inhibit_rules', 'time_intervals'] as const) if (doc[k] !== undefined && !Array.isArray(doc[k])) return refuse(400, `routing.${k}`, 'must be a list');
  const list = (v: unknown): [] => (Array.isArray(v) ? v : []) as [];
  return { status: 200, yaml: exportAlertmanagerYaml({ route: doc.route, receivers, inhibit_rules: list(doc.inhibit_rules), time_intervals: list(doc.time_intervals) }) };
}

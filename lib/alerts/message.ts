/**
 * What a person reads: a subject and a text for e-mail (node-red-node-email takes msg.topic and
 * msg.payload) and a body for a chat webhook, in the manner of Alertmanager's default templates.
 * Each carries the notification's idempotency key (webhook body field, e-mail/HTTP header), since a
 * crash between sending and recording a notification makes it go out again with the same key.
 */
import type { Notification } from './dispatcher';

export interface RenderedNotification {
  readonly subject: string;
  readonly text: string;
  readonly webhook: { readonly text: string; readonly idempotencyKey: string };
  /** For node-red-node-email (msg.headers become e-mail headers) and `http request` (HTTP headers). */
  readonly headers: { readonly 'Idempotency-Key': string };
}

/** At most this many alerts are listed in a text; the structured notification holds them all. */
export const LISTED_ALERTS = 50;

export function render(n: Notification): RenderedNotification {
  const head = n.escalation
    ? `[ESCALATED:${n.firing}] not acknowledged in ${Math.round(n.escalation.afterMs / 60_000)} min`
    : n.status === 'firing' ? `[FIRING:${n.firing}]` : `[RESOLVED]`;
  const group = Object.entries(n.groupLabels).map(([k, v]) => `${k}=${v}`).join(' ');
  const subject = `${head} ${group}`.trim();
  const lines: string[] = [];
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const resolved = n.alerts.filter((a) => a.status === 'resolved');
  if (firing.length) {
    lines.push(`Firing (${firing.length}):`);
    for (const a of firing.slice(0, LISTED_ALERTS)) lines.push(`- [${a.severity}] ${a.summary} (since ${a.startsAt})`);
    if (firing.length > LISTED_ALERTS) lines.push(`- … and ${firing.length - LISTED_ALERTS} more`);
  }
  if (resolved.length) {
    lines.push(`Resolved (${resolved.length}):`);
    for (const a of resolved.slice(0, LISTED_ALERTS)) lines.push(`- ${a.summary} (${a.startsAt} – ${a.endsAt ?? ''})`);
    if (resolved.length > LISTED_ALERTS) lines.push(`- … and ${resolved.length - LISTED_ALERTS} more`);
  }
  if (n.repeat) lines.push('(repeated: still firing)');
  const text = lines.join('\n');
  return { subject, text, webhook: { text: `${subject}\n${text}`, idempotencyKey: n.id }, headers: { 'Idempotency-Key': n.id } };
}

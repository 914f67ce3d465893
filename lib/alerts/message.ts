/**
 * What a person reads: a subject and a text for e-mail (node-red-node-email takes msg.topic and
 * msg.payload) and a body for a chat webhook, in the manner of Alertmanager's default templates.
 */
import type { Notification } from './dispatcher';

export interface RenderedNotification {
  readonly subject: string;
  readonly text: string;
  readonly webhook: { readonly text: string };
}

export function render(n: Notification): RenderedNotification {
  const head = n.escalation
    ? `[ESCALATED] not acknowledged in ${Math.round(n.escalation.afterMs / 60_000)} min`
    : n.status === 'firing' ? `[FIRING:${n.firing}]` : `[RESOLVED]`;
  const group = Object.entries(n.groupLabels).map(([k, v]) => `${k}=${v}`).join(' ');
  const subject = `${head} ${group}`.trim();
  const lines: string[] = [];
  const firing = n.alerts.filter((a) => a.status === 'firing');
  const resolved = n.alerts.filter((a) => a.status === 'resolved');
  if (firing.length) {
    lines.push(`Firing (${firing.length}):`);
    for (const a of firing) lines.push(`- [${a.severity}] ${a.summary} (since ${a.startsAt})`);
  }
  if (resolved.length) {
    lines.push(`Resolved (${resolved.length}):`);
    for (const a of resolved) lines.push(`- ${a.summary} (${a.startsAt} – ${a.endsAt ?? ''})`);
  }
  if (n.repeat) lines.push('(repeated: still firing)');
  const text = lines.join('\n');
  return { subject, text, webhook: { text: `${subject}\n${text}` } };
}

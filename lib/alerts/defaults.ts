/**
 * What a new fleet-alerts node starts with, shared by the editor (a node dropped from the palette)
 * and the runtime (a flow saved without routing), so the two cannot disagree.
 */
import type { RoutingDocument } from './config';

export const DEFAULT_RECEIVERS: readonly string[] = ['dashboard', 'email facilities', 'chat on-call'];

/** Every alert to the first receiver, grouped by alert name and site. */
export function defaultRouting(receivers: readonly string[]): RoutingDocument {
  return { route: { receiver: receivers[0] ?? DEFAULT_RECEIVERS[0], group_by: ['alertname', 'site'] } };
}

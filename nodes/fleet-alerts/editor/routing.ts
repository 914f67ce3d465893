/** The routing document as the editor edits it: Alertmanager's names, every field optional while typing. */
import type { RouteConfig } from '../../../lib/alerts/routes';

export type { RouteConfig };

export interface RoutingDocumentLike {
  route: RouteConfig;
  inhibit_rules?: unknown[];
  time_intervals?: unknown[];
  escalations?: unknown[];
}

/** The package's domain API, for flows' function nodes, scripts and other packages. */
export { Decoder, DEFAULT_DECODER_OPTIONS, DEVICE_KINDS, type Decoded, type DecodeResult, type DeviceRef } from './decode/decoder';
export { RejectError, describeReject, type Reject, type RejectCode } from './decode/reject';
export { FleetRegistry, type PresenceEvent } from './registry/registry';
export { DeviceTable, type DeviceRecord } from './registry/device-table';
export { TOPIC_ROUTES, topicFor, PROFILES } from '../firmware/contract/topics';
export { CONTRACT_VERSION, schemaFor, schemaNames } from '../firmware/contract/schemas';
export { parseConsoleLine } from '../firmware/contract/console';
export { HealthTracker } from './health/tracker';
export { defaultHealthConfig } from './health/config';
export { makeAlert, deviceAlert, fingerprint, SEVERITIES, type FleetAlert, type Severity } from './alert-shape';
export { readAlert, ALERT_LIMITS, type AlertInput } from './alerts/input';
export { parseAlertsConfig, ROUTING_LIMITS, type AlertsConfig, type AlertsConfigResult, type RoutingDocument } from './alerts/config';
export { compileTree, matchRoutes, groupKey, parseDuration, formatDuration, ROUTE_LIMITS, type Route, type RouteConfig } from './alerts/routes';
export { compileMatcher, compileMatcherList, matchesAll, parseMatcher, parseMatcherText, formatMatcher, MATCHER_LIMITS, type Matcher, type MatchOp, type CompiledMatcher } from './alerts/matchers';
export { AlertDispatcher, type Notification, type Silence, type InhibitRule, type Escalation, type DispatcherState } from './alerts/dispatcher';
export { importAlertmanagerYaml, exportAlertmanagerYaml, YAML_LIMITS, type RoutingConfig, type ImportResult } from './alerts/alertmanager-yaml';
export { loadAlertmanagerConfig, type AlertmanagerConfigResult } from './alerts/alertmanager-config';

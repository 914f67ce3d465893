/**
 * The OTA part of the wire contract: limits, progress states, the Steel firmware's OTA routes and
 * status names, and the HTTP endpoints devices fetch images from. Written once here; lib/ota and the
 * simulator read it. (The core ota/update and ota/progress routes live in topics.ts.)
 */
// Types only: topics.ts imports OTA_ROUTES from here, so a value import back would be a cycle.
import type { TopicRoute } from './topics';

/** One OTA slot of a 4 MB flash (ESP-IDF's default two-OTA partition table). */
export const MAX_IMAGE_BYTES = 1_310_720;

/** Progress states a device reports on ota/progress/{device} (schemas/v1/ota-progress.json). */
export const OTA_PROGRESS_STATES = [
  'QUEUED', 'DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED', 'FAILED', 'ROLLED_BACK', 'REJECTED',
] as const;
export type OtaProgressState = (typeof OTA_PROGRESS_STATES)[number];

/** States after which a device does nothing more for the job. */
export const OTA_FINAL_STATES: readonly OtaProgressState[] = ['UPDATED', 'FAILED', 'ROLLED_BACK', 'REJECTED'];

export const OTA_JOB_ID_MAX_LENGTH = 64;
export const OTA_VERSION_MAX_LENGTH = 32;
export const OTA_REASON_MAX_LENGTH = 256;

/** Route ids of the Steel firmware's OTA topics (below), for code that means one of them. */
export const STEEL_OTA_ROUTE = { status: 'steel.ota.status', firmwareRequest: 'steel.ota.firmware-request' } as const;

/**
 * mparkachov/aws-iot-steel (aws-iot-core/src/ota_manager.rs) publishes its whole update record
 * (FirmwareUpdateResult) on `ota/{id}/status` at every status change (update_status), and asks for a
 * download URL on `downloads/{id}/firmware-request` (request_pre_signed_url, a PreSignedUrlRequest).
 * Both join the topic map (topics.ts); fleet-decode reads them into the `ota-progress` reading our own
 * `ota/progress/{device}` gives (lib/ota/steel.ts), so fleet-ota sees one shape.
 */
export const OTA_ROUTES: readonly TopicRoute[] = [
  { id: STEEL_OTA_ROUTE.status, profile: 'standard', pattern: 'ota/{device}/status', kind: 'ota-progress', deviceKind: 'steel-device', schema: 'steel-ota-status', encoding: 'json', direction: 'up' },
  { id: STEEL_OTA_ROUTE.firmwareRequest, profile: 'standard', pattern: 'downloads/{device}/firmware-request', kind: 'ota-progress', deviceKind: 'steel-device', schema: 'steel-ota-firmware-request', encoding: 'json', direction: 'up' },
];

/**
 * The Steel firmware's FirmwareUpdateStatus enum as serde writes it (externally tagged): unit variants
 * as a bare string, the others as a one-key object, e.g. {"Downloading":{"progress_percent":42.0}}.
 * Mapped onto our progress states.
 */
export const STEEL_STATUS_MAP: ReadonlyMap<string, OtaProgressState> = new Map<string, OtaProgressState>([
  ['Requested', 'QUEUED'],
  ['Validating', 'QUEUED'],
  ['DownloadRequested', 'DOWNLOADING'],
  ['Downloading', 'DOWNLOADING'],
  ['Downloaded', 'DOWNLOADED'],
  ['Installing', 'UPDATING'],
  ['ValidatingInstallation', 'UPDATING'],
  ['Installed', 'UPDATED'],
  ['Failed', 'FAILED'],
  ['RolledBack', 'ROLLED_BACK'],
]);

/**
 * HTTP endpoints served from Node-RED's own server (RED.httpNode), after the CSI guide's OTA
 * controller: a version check, the image download (with Range) and a status report.
 */
export const OTA_HTTP = {
  versionCheck: '/fleet/ota/version',
  download: '/fleet/ota/firmware/:image',
  status: '/fleet/ota/status',
} as const;

/**
 * The OTA part of the wire contract: limits, progress states, the Steel firmware's OTA topics and
 * status names, and the HTTP endpoints devices fetch images from. Written once here; lib/ota and the
 * simulator read it. (The ota/update and ota/progress routes themselves live in the topic map.)
 */

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

/**
 * mparkachov/aws-iot-steel (aws-iot-core/src/ota_manager.rs) publishes its update record on
 * `ota/{id}/status` and asks for a download URL on `downloads/{id}/firmware-request`. These join the
 * topic map as `steel.ota.status` and `steel.ota.firmware-request` (kind `ota-progress`, device kind
 * `steel-device`, direction `up`); lib/ota/steel.ts reads their payloads.
 */
export const STEEL_OTA_TOPICS = {
  status: 'ota/{device}/status',
  firmwareRequest: 'downloads/{device}/firmware-request',
} as const;

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

/**
 * The cancel a rollout's abort sends to devices still in flight, and the simulator's OTA fault
 * control. Kept beside ota.ts until the topic map takes them as routes.
 */

/** `{job_id, v: 1}`: stop working on that job; a device that already rebooted into it ignores it. */
export const OTA_CANCEL_TOPIC = 'ota/cancel/{device}';

export const otaCancelTopic = (device: string): string => OTA_CANCEL_TOPIC.replace('{device}', device);

/** The simulator listens here for `{fault, action: inject|clear}` (device id or `all`). */
export const SIM_OTA_FAULT_TOPIC = 'sim/ota-fault/{device}';

/**
 * The cancel a rollout's abort sends to devices still in flight (route `ota.cancel` in topics.ts),
 * and the simulator's OTA fault control.
 */
import { topicFor } from './topics';

/** `{job_id, v: 1}`: stop working on that job; a device that already rebooted into it ignores it. */
export const otaCancelTopic = (device: string): string => topicFor('ota.cancel', { device });

/** The simulator listens here for `{fault, action: inject|clear}` (device id or `all`). */
export const SIM_OTA_FAULT_TOPIC = 'sim/ota-fault/{device}';

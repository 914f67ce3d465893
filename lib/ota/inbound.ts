/**
 * What a message into fleet-ota is: a command (start, pause, …), device OTA progress as fleet-decode
 * hands it on (msg.kind `ota-progress`, from our ota/progress/{device} or the Steel firmware's OTA
 * routes alike), a fleet-health state change, or a decoded message carrying the version a device runs.
 * Never a device's own topic read here: the topic map and the decoder do that.
 */
import { STEEL_OTA_ROUTE } from '../../firmware/contract/ota';
import { TOPIC_ROUTES, type MessageKind } from '../../firmware/contract/topics';
import { HEALTH_STATES, type HealthState } from '../health/tracker';
import type { FieldResult } from './manifest';
import { parseProgress, type OtaProgress } from './progress';

export const OTA_ACTIONS = ['start', 'pause', 'resume', 'abort', 'image', 'status'] as const;
export type OtaAction = (typeof OTA_ACTIONS)[number];

/** The message fields fleet-ota reads. */
export interface InboundMessage {
  readonly topic?: unknown;
  readonly action?: unknown;
  readonly payload?: unknown;
  readonly kind?: unknown;
  readonly device?: unknown;
}

export type Inbound =
  | { readonly type: 'action'; readonly action: OtaAction; readonly payload: unknown }
  | { readonly type: 'progress'; readonly device: string; readonly progress: FieldResult<OtaProgress> }
  | { readonly type: 'health'; readonly device: string; readonly state: HealthState; readonly score: number }
  | { readonly type: 'version'; readonly device: string; readonly version: string }
  | { readonly type: 'other' };

const PROGRESS_KIND: MessageKind = 'ota-progress';
const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const isAction = (x: unknown): x is OtaAction => typeof x === 'string' && (OTA_ACTIONS as readonly string[]).includes(x);
const patternOf = (id: string): string => TOPIC_ROUTES.find((r) => r.id === id)?.pattern ?? '';
const CORE_PROGRESS = patternOf('ota.progress');
const STEEL_PATTERNS = [patternOf(STEEL_OTA_ROUTE.status), patternOf(STEEL_OTA_ROUTE.firmwareRequest)];

/** The {device} a one-variable pattern's topic names, or null. */
function topicDevice(topic: string, pattern: string): string | null {
  const [pre, post] = pattern.split('{device}');
  return post !== undefined && topic.startsWith(pre) && topic.endsWith(post) && topic.length > pre.length + post.length ? topic.slice(pre.length, topic.length - post.length) : null;
}

/** Reads one message; throws, naming the problem, for a message fleet-ota should take but cannot. */
export function readInbound(msg: InboundMessage): Inbound {
  const topic = typeof msg.topic === 'string' ? msg.topic : '';
  const action = isAction(msg.action) ? msg.action : isAction(topic) ? topic : null;
  if (typeof msg.action === 'string' && action === null) throw new Error(`fleet-ota: msg.action ${JSON.stringify(msg.action.slice(0, 40))} is not one of ${OTA_ACTIONS.join(', ')}`);
  if (action !== null) return { type: 'action', action, payload: msg.payload };

  const device = isObj(msg.device) && typeof msg.device.id === 'string' && msg.device.id !== '' ? msg.device.id : null;
  if (msg.kind === PROGRESS_KIND) {
    if (device === null) throw new Error('fleet-ota: OTA progress names no device (msg.device.id)');
    return { type: 'progress', device, progress: parseProgress(msg.payload) };
  }
  if (msg.kind === undefined) {
    // Our own ota/progress/{device} straight from an `mqtt in` is read as it is: its payload is the progress shape.
    const ours = topicDevice(topic, CORE_PROGRESS);
    if (ours !== null) return { type: 'progress', device: ours, progress: parseProgress(msg.payload) };
    if (STEEL_PATTERNS.some((p) => topicDevice(topic, p) !== null)) throw new Error(`fleet-ota: ${topic.slice(0, 80)} is the Steel firmware's OTA record: pass it through fleet-decode, which reads it as OTA progress`);
  }

  // fleet-health output 1: {topic: health/<device>, payload: StateChange}
  if (topic.startsWith('health/') && isObj(msg.payload) && typeof msg.payload.device === 'string') {
    const s = msg.payload.state;
    if (typeof s !== 'string' || !(HEALTH_STATES as readonly string[]).includes(s)) throw new Error(`fleet-ota: health change of ${msg.payload.device}: state ${String(s)} is not a health state`);
    return { type: 'health', device: msg.payload.device, state: s as HealthState, score: typeof msg.payload.score === 'number' ? msg.payload.score : NaN };
  }
  if (device !== null && isObj(msg.device) && typeof msg.device.firmware === 'string') return { type: 'version', device, version: msg.device.firmware };
  return { type: 'other' };
}

/**
 * Decoder: topic + payload in, a validated and normalised reading out, or a reject that names the failing field.
 * Pure domain code: no Node-RED, no I/O, no clock of its own (the caller passes receivedAt).
 */
import { deviceIdProblem } from '../../firmware/contract/identity';
import { parseConsoleLine } from '../../firmware/contract/console';
import { SchemaBook, SUPPORTED_VERSIONS, CONTRACT_VERSION, type UnknownFieldPolicy, type Validator } from '../../firmware/contract/schemas';
import {
  ARCH_ALIASES, BROADCAST_TARGET, PROFILES,
  type DeviceKind, type Esp32c3Arch, type MessageKind, type ProfileName, type TopicRoute,
} from '../../firmware/contract/topics';
import { normalise } from './normalise';
import { parseJsonObject, readRaw } from './payload';
import type { Reject, RejectCode } from './reject';
import { TopicMatcher, type TopicMatch } from './topic-matcher';

export const DEVICE_KINDS: readonly DeviceKind[] = ['env-sensor', 'env-monitor', 'csi-sensor', 'steel-device', 'audio-device'];
export const TOPIC_MAX_LENGTH = 256;
const HUGE_NUMBER = /[eE][+]?\d{3}|\d{309}/;
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;

export interface DecoderOptions {
  readonly profiles: readonly ProfileName[];
  /** Device kinds to accept; messages of other kinds are rejected as `filtered`. */
  readonly deviceKinds: readonly DeviceKind[];
  readonly unknownFields: UnknownFieldPolicy;
  readonly maxPayloadBytes: number;
  /** Topic prefix (or whole topic) → device id, for firmware that sends no id. */
  readonly prefixMap: Readonly<Record<string, string>>;
  /** Also decode the commands we send (OTA, config, reset, Steel load), for audit flows. */
  readonly includeCommands: boolean;
}

export const DEFAULT_DECODER_OPTIONS: DecoderOptions = {
  profiles: PROFILES,
  deviceKinds: DEVICE_KINDS,
  unknownFields: 'keep',
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  prefixMap: {},
  includeCommands: true,
};

export type IdentitySource = 'topic' | 'payload' | 'prefix-map' | 'msg';

export interface DeviceRef {
  readonly id: string | null;
  readonly kind: DeviceKind | null;
  readonly arch: Esp32c3Arch | null;
  readonly firmware: string | null;
  /** False when nothing named the device: the reading is kept but belongs to no registry entry. */
  readonly identified: boolean;
  readonly source: IdentitySource | null;
}

export interface Decoded {
  readonly kind: MessageKind;
  readonly direction: 'up' | 'down';
  readonly route: string;
  readonly profile: ProfileName | 'console';
  readonly device: DeviceRef;
  readonly payload: Record<string, unknown>;
  readonly contractVersion: number;
  readonly receivedAt: number;
  /** `broadcast` for steel-programs/broadcast/load. */
  readonly target: string | null;
  /** A retained message the broker replayed: what the device last said, not a sign of life now. */
  readonly retained: boolean;
}

export interface DecodeInput {
  readonly topic: unknown;
  readonly payload: unknown;
  /** Device id supplied by the flow (msg.deviceId), used when the topic and payload name none. */
  readonly deviceId?: unknown;
  readonly receivedAt: number;
  /** msg.retain from `mqtt in`. */
  readonly retained?: boolean;
}

export type DecodeResult = { readonly ok: true; readonly value: Decoded } | { readonly ok: false; readonly reject: Reject };

const fail = (code: RejectCode, topic: string, path: string, reason: string, device?: string | null): DecodeResult =>
  ({ ok: false, reject: device ? { code, topic, path, reason, device } : { code, topic, path, reason } });

/** A topic absent, empty or under `console/` means the payload is a serial console line. */
function isConsoleTopic(topic: unknown): boolean {
  return topic === undefined || topic === null || topic === '' || topic === 'console' || (typeof topic === 'string' && topic.startsWith('console/'));
}

export class Decoder {
  readonly options: DecoderOptions;
  private readonly matcher: TopicMatcher;
  private readonly book = new SchemaBook();
  private readonly validators = new Map<string, Validator>();
  private readonly kinds: ReadonlySet<DeviceKind>;

  constructor(options: Partial<DecoderOptions> = {}) {
    this.options = { ...DEFAULT_DECODER_OPTIONS, ...options };
    for (const [prefix, id] of Object.entries(this.options.prefixMap)) {
      const problem = deviceIdProblem(id);
      if (problem) throw new Error(`prefix map entry ${JSON.stringify(prefix)}: ${problem}`);
    }
    this.matcher = new TopicMatcher(this.options.profiles, this.options.includeCommands);
    this.kinds = new Set(this.options.deviceKinds);
  }

  decode(input: DecodeInput): DecodeResult {
    if (isConsoleTopic(input.topic)) return this.decodeConsole(input);
    const { topic } = input;
    if (typeof topic !== 'string') return fail('topic', '', 'topic', `topic must be a string, got ${typeof topic}`);
    if (topic.length > TOPIC_MAX_LENGTH) return fail('topic', topic, 'topic', `topic is longer than ${TOPIC_MAX_LENGTH} characters`);
    if (/[\u0000-\u001f\u007f]/.test(topic)) return fail('topic', topic, 'topic', 'topic contains a control character');

    const match = this.matcher.match(topic);
    if (!match) {
      if (/[+#]/.test(topic)) return fail('topic', topic, 'topic', 'topic contains an MQTT wildcard (+ or #): a published message has a concrete topic');
      return fail('unknown-topic', topic, 'topic', 'topic matches no route of the enabled contract profiles');
    }
    const { route } = match;
    if (route.deviceKind && !this.kinds.has(route.deviceKind)) {
      return fail('filtered', topic, 'topic', `device kind ${route.deviceKind} is not accepted by this node`);
    }
    const isBroadcast = route.broadcast === true && match.device === BROADCAST_TARGET;
    if (match.device !== null && !isBroadcast) {
      const problem = deviceIdProblem(match.device);
      if (problem) return fail('device-id', topic, 'topic', problem);
    }

    const named = isBroadcast ? null : match.device;
    const raw = readRaw(input.payload, this.options.maxPayloadBytes);
    if (!raw.ok) return fail(raw.code, topic, '', raw.reason, named);

    let body: Record<string, unknown>;
    // JSON text yields Infinity only from a number of 309 digits or more, or an exponent of 3 digits.
    let finiteChecked = false;
    if (route.encoding === 'ping') {
      const text = 'text' in raw ? raw.text.trim() : null;
      if (text !== 'ping') return fail('schema', topic, '', 'heartbeat payload must be the word ping', named);
      body = {};
    } else if ('object' in raw) {
      body = raw.object;
    } else if (route.encoding === 'text-or-json' && !raw.text.trimStart().startsWith('{')) {
      body = { [route.textField ?? 'message']: raw.text.trim() };
    } else {
      const parsed = parseJsonObject(raw.text);
      if (!parsed.ok) return fail('json', topic, '', parsed.reason, named);
      body = parsed.value;
      finiteChecked = !HUGE_NUMBER.test(raw.text);
    }

    const version = body.v === undefined ? CONTRACT_VERSION : body.v;
    if (typeof version !== 'number' || !SUPPORTED_VERSIONS.includes(version)) {
      return fail('unsupported-version', topic, '/v', `contract version ${JSON.stringify(version)} is not supported (this build reads ${SUPPORTED_VERSIONS.join(', ')})`, named);
    }
    if (route.schema) {
      // strip mode mutates; never mutate an object the flow handed us
      const subject = this.options.unknownFields === 'strip' && 'object' in raw ? structuredClone(body) : body;
      const problem = this.validatorFor(route, version)(subject, finiteChecked);
      if (problem) return fail('schema', topic, problem.path, problem.reason, named);
      body = subject;
    }

    const device = this.identify(topic, route, match, body, input.deviceId, isBroadcast);
    if ('reject' in device) return { ok: false, reject: device.reject };

    return {
      ok: true,
      value: {
        kind: route.kind,
        direction: route.direction,
        route: route.id,
        profile: route.profile,
        device,
        payload: normalise(route.id, body, input.receivedAt),
        contractVersion: version,
        receivedAt: input.receivedAt,
        target: isBroadcast ? BROADCAST_TARGET : null,
        retained: input.retained === true,
      },
    };
  }

  private validatorFor(route: TopicRoute, version: number): Validator {
    const key = `${version}:${route.id}`;
    let v = this.validators.get(key);
    if (!v) {
      v = this.book.validator(route.schema!, this.options.unknownFields, version);
      this.validators.set(key, v);
    }
    return v;
  }

  private identify(
    topic: string, route: TopicRoute, match: TopicMatch, body: Record<string, unknown>, msgDeviceId: unknown, isBroadcast: boolean,
  ): DeviceRef | { reject: Reject } {
    const idValue = body[route.payloadIdField ?? 'device_id'];
    const payloadId = typeof idValue === 'string' ? idValue : null;
    let id: string | null = null;
    let source: IdentitySource | null = null;
    if (match.device !== null && !isBroadcast) {
      id = match.device;
      source = 'topic';
      if (payloadId !== null && payloadId !== id) {
        return { reject: { code: 'identity-mismatch', topic, path: '/device_id', reason: `payload names device ${JSON.stringify(payloadId)} but the topic names ${JSON.stringify(id)}` } };
      }
    } else if (payloadId !== null) {
      const problem = deviceIdProblem(payloadId);
      if (problem) return { reject: { code: 'device-id', topic, path: `/${route.payloadIdField ?? 'device_id'}`, reason: problem } };
      id = payloadId;
      source = 'payload';
    } else if (!isBroadcast) {
      const mapped = this.options.prefixMap[topic] ?? (match.prefix !== null ? this.options.prefixMap[match.prefix] : undefined);
      if (mapped !== undefined) {
        id = mapped;
        source = 'prefix-map';
      } else if (msgDeviceId !== undefined && msgDeviceId !== null && msgDeviceId !== '') {
        const problem = deviceIdProblem(msgDeviceId);
        if (problem) return { reject: { code: 'device-id', topic, path: 'msg.deviceId', reason: problem } };
        id = msgDeviceId as string;
        source = 'msg';
      }
    }
    const archName = match.arch ?? (typeof body.architecture === 'string' ? body.architecture : null) ?? (typeof body.app === 'string' ? body.app : null);
    const firmware = typeof body.firmware_version === 'string' && (route.kind === 'status' || route.kind === 'presence') ? body.firmware_version : null;
    return {
      id,
      kind: route.deviceKind,
      arch: archName !== null ? ARCH_ALIASES[archName] ?? null : null,
      firmware,
      identified: id !== null,
      source,
    };
  }

  private decodeConsole(input: DecodeInput): DecodeResult {
    const topic = typeof input.topic === 'string' ? input.topic : '';
    const raw = readRaw(input.payload, this.options.maxPayloadBytes);
    if (!raw.ok) return fail(raw.code, topic, '', raw.reason);
    if (!('text' in raw)) return fail('console', topic, '', 'a console line must be text; give the message a topic to decode an object');
    const parsed = parseConsoleLine(raw.text);
    if (!parsed.ok) return fail('console', topic, '', parsed.reason);

    const fromTopic = topic.startsWith('console/') ? topic.slice('console/'.length) : null;
    const candidate = fromTopic ?? (input.deviceId === undefined || input.deviceId === null || input.deviceId === '' ? null : input.deviceId);
    if (candidate !== null) {
      const problem = deviceIdProblem(candidate);
      if (problem) return fail('device-id', topic, fromTopic !== null ? 'topic' : 'msg.deviceId', problem);
    }
    const id = candidate as string | null;
    const kind: DeviceKind | null = parsed.value.event === 'audio-health' ? 'audio-device' : null;
    return {
      ok: true,
      value: {
        kind: 'console',
        direction: 'up',
        route: 'console',
        profile: 'console',
        device: { id, kind, arch: null, firmware: null, identified: id !== null, source: id === null ? null : fromTopic !== null ? 'topic' : 'msg' },
        payload: { ...parsed.value, line: raw.text.replace(/\r?\n$/, ''), timestamp: input.receivedAt, time_source: 'received' },
        contractVersion: CONTRACT_VERSION,
        receivedAt: input.receivedAt,
        target: null,
        retained: false,
      },
    };
  }
}

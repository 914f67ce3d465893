/**
 * Decoder: topic + payload in, a validated and normalised reading out, or a reject that names the failing field.
 * Pure domain code: no Node-RED, no I/O, no clock of its own (the caller passes receivedAt).
 *
 * Output contract, for any input: `device.id` is null or a string deviceIdProblem accepts; `kind`
 * and `arch` are members of their sets or null; `payload` is plain JSON data (ordinary prototypes,
 * finite numbers, no `__proto__` key) that structuredClone and JSON.stringify copy as it is. The
 * decoder never throws: a fault of its own comes back as an `internal` reject.
 */
import { deviceIdProblem } from '../../firmware/contract/identity';
import { parseConsoleLine } from '../../firmware/contract/console';
import { SchemaBook, SUPPORTED_VERSIONS, CONTRACT_VERSION, type UnknownFieldPolicy, type Validator } from '../../firmware/contract/schemas';
import {
  BROADCAST_TARGET, DEVICE_KINDS, KIND, PROFILES, archOf, consoleTopicDevice, isConsoleTopic,
  type DeviceKind, type Esp32c3Arch, type MessageKind, type ProfileName, type TopicRoute,
} from '../../firmware/contract/topics';
import { normalise } from './normalise';
import { parseJsonObject, readRaw, type RawPayload } from './payload';
import { checkParsed, copyPlain, jsonTooDeepAt, mayNestDeeper } from './plain-data';
import type { Reject, RejectCode } from './reject';
import { TopicMatcher, type TopicMatch } from './topic-matcher';

export { DEVICE_KINDS };
export const TOPIC_MAX_LENGTH = 256;
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;
export const DEFAULT_MAX_DEPTH = 64;
const FIRMWARE_MAX_LENGTH = 64;

export interface DecoderOptions {
  readonly profiles: readonly ProfileName[];
  /** Device kinds to accept; messages of other kinds are rejected as `filtered`. */
  readonly deviceKinds: readonly DeviceKind[];
  readonly unknownFields: UnknownFieldPolicy;
  readonly maxPayloadBytes: number;
  /** Deepest nesting of objects and arrays in a payload (the payload object is level 1). */
  readonly maxDepth: number;
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
  maxDepth: DEFAULT_MAX_DEPTH,
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

/** A C0 control character or DEL: what /[\u0000-\u001f\u007f]/ finds, without a regex per message. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** Does this payload take this route's form? Only `word` routes can decline and leave the topic to the next route. */
function fits(route: TopicRoute, raw: RawPayload): boolean {
  if (route.encoding !== 'word') return true;
  return 'text' in raw && (route.words ?? []).includes(raw.text.trim());
}

/** One per process: compiled schemas are the same for every node with the same unknown-field policy. */
const BOOK = new SchemaBook();

type Body = { ok: true; body: Record<string, unknown> } | { ok: false; result: DecodeResult };

const refuse = (code: RejectCode, topic: string, path: string, reason: string, named: string | null): Body => ({ ok: false, result: fail(code, topic, path, reason, named) });

export class Decoder {
  readonly options: DecoderOptions;
  private readonly matcher: TopicMatcher;
  private readonly validators = new Map<string, Validator>();
  /** The current contract version's validator of each route, found without building a key per message. */
  private readonly current = new Map<TopicRoute, Validator>();
  private readonly kinds: ReadonlySet<DeviceKind>;
  private readonly prefixes: ReadonlyMap<string, string>;

  constructor(options: Partial<DecoderOptions> = {}) {
    this.options = { ...DEFAULT_DECODER_OPTIONS, ...options };
    const prefixes = new Map<string, string>();
    for (const [prefix, id] of Object.entries(this.options.prefixMap)) {
      const problem = deviceIdProblem(id);
      if (problem) throw new Error(`prefix map entry ${JSON.stringify(prefix)}: ${problem}`);
      prefixes.set(prefix, id);
    }
    this.prefixes = prefixes;
    this.matcher = new TopicMatcher(this.options.profiles, this.options.includeCommands);
    this.kinds = new Set(this.options.deviceKinds);
    // Compiled now, not on a route's first message: no message pays for ajv's compile.
    for (const route of this.matcher.routes()) if (route.schema) this.validatorFor(route, CONTRACT_VERSION);
  }

  decode(input: DecodeInput): DecodeResult {
    let topic = '';
    try {
      topic = typeof input.topic === 'string' ? input.topic.slice(0, TOPIC_MAX_LENGTH + 1) : '';
      return isConsoleTopic(input.topic) ? this.decodeConsole(input) : this.decodeTopic(input);
    } catch (err) {
      // Not expected (the fuzz targets count these as failures); refusing one message beats stopping the flow.
      return fail('internal', topic, '', `decoder fault: ${err instanceof Error ? err.message : 'unknown error'}`);
    }
  }

  private decodeTopic(input: DecodeInput): DecodeResult {
    const { topic } = input;
    if (typeof topic !== 'string') return fail('topic', '', 'topic', `topic must be a string, got ${typeof topic}`);
    if (topic.length > TOPIC_MAX_LENGTH) return fail('topic', topic, 'topic', `topic is longer than ${TOPIC_MAX_LENGTH} characters`);
    if (hasControl(topic)) return fail('topic', topic, 'topic', 'topic contains a control character');

    const matches = this.matcher.matchAll(topic);
    if (matches.length === 0) {
      if (/[+#]/.test(topic)) return fail('topic', topic, 'topic', 'topic contains an MQTT wildcard (+ or #): a published message has a concrete topic');
      return fail('unknown-topic', topic, 'topic', 'topic matches no route of the enabled contract profiles');
    }
    const raw = readRaw(input.payload, this.options.maxPayloadBytes);
    let match = matches[matches.length - 1];
    for (const m of matches) if (fits(m.route, raw)) { match = m; break; }
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
    // An empty payload names no device to health: clearing a retained message is no bad reading.
    if (!raw.ok) return fail(raw.code, topic, '', raw.reason, raw.code === 'empty' ? null : named);

    const read = this.body(route, raw, topic, named);
    if (!read.ok) return read.result;
    let body = read.body;

    const version = has(body, 'v') ? body.v : CONTRACT_VERSION;
    if (typeof version !== 'number' || !SUPPORTED_VERSIONS.includes(version)) {
      return fail('unsupported-version', topic, '/v', `contract version ${JSON.stringify(version)} is not supported (this build reads ${SUPPORTED_VERSIONS.join(', ')})`, named);
    }
    if (route.schema && !(route.encoding === 'ping-or-json' && read.bare)) {
      // body is our own copy (parsed text or copyPlain), so strip mode may remove fields in place
      const problem = this.validatorFor(route, version)(body, true);
      if (problem) return fail('schema', topic, problem.path, problem.reason, named);
    }

    const device = this.identify(topic, route, match, body, input.deviceId, isBroadcast);
    if ('reject' in device) return { ok: false, reject: device.reject };
    const normal = normalise(route.id, body, input.receivedAt);
    if (!normal.ok) return fail('schema', topic, normal.path, normal.reason, named);
    body = normal.payload;

    return {
      ok: true,
      value: {
        kind: route.kind,
        direction: route.direction,
        route: route.id,
        profile: route.profile,
        device,
        payload: body,
        contractVersion: version,
        receivedAt: input.receivedAt,
        target: isBroadcast ? BROADCAST_TARGET : null,
        retained: input.retained === true,
      },
    };
  }

  /** The payload as plain data of this route's form, or the reject. */
  private body(route: TopicRoute, raw: RawPayload & { ok: true }, topic: string, named: string | null): Body & { bare?: boolean } {
    if ('text' in raw) {
      // Only the forms that take a bare word look at the trimmed text; JSON.parse skips whitespace itself.
      const enc = route.encoding;
      const word = enc === 'ping' || enc === 'ping-or-json' || enc === 'text-or-json' || enc === 'word' ? raw.text.trim() : null;
      if (word !== null && (enc === 'ping' || (enc === 'ping-or-json' && !word.startsWith('{')))) {
        // iot-common's legacy heartbeat is the bare word; its validation script also takes the JSON string "ping"
        if (word !== 'ping' && word !== '"ping"') return refuse('schema', topic, '', 'heartbeat payload must be the word ping or a JSON object', named);
        return { ok: true, body: {}, bare: true };
      }
      if (word !== null && (enc === 'text-or-json' || enc === 'word') && !word.startsWith('{')) {
        if (word.length === 0) return refuse('json', topic, '', 'payload is blank', named);
        return { ok: true, body: { [route.textField ?? 'message']: word } };
      }
      const deep = mayNestDeeper(raw.text, this.options.maxDepth) ? jsonTooDeepAt(raw.text, this.options.maxDepth) : -1;
      if (deep >= 0) return refuse('depth', topic, '', `payload nests objects and arrays deeper than the limit of ${this.options.maxDepth} levels (at character ${deep})`, named);
      const parsed = parseJsonObject(raw.text);
      if (!parsed.ok) return refuse('json', topic, '', parsed.reason, named);
      const problem = checkParsed(parsed.value);
      if (problem) return refuse(problem.code, topic, problem.path, problem.reason, named);
      return { ok: true, body: parsed.value };
    }
    // A JS object from a function node: copied into plain data, never read through getters or proxies.
    const copied = copyPlain(raw.object, { maxDepth: this.options.maxDepth, maxUnits: this.options.maxPayloadBytes });
    if (!copied.ok) return refuse(copied.problem.code, topic, copied.problem.path, copied.problem.reason, named);
    return { ok: true, body: copied.value };
  }

  private validatorFor(route: TopicRoute, version: number): Validator {
    if (version === CONTRACT_VERSION) {
      const v = this.current.get(route);
      if (v) return v;
    }
    const key = `${version}:${route.id}`;
    let v = this.validators.get(key);
    if (!v) {
      v = BOOK.validator(route.schema!, this.options.unknownFields, version);
      this.validators.set(key, v);
    }
    if (version === CONTRACT_VERSION) this.current.set(route, v);
    return v;
  }

  /** The configured id for the longest mapped prefix of the topic (the whole topic first). */
  private mapped(topic: string): string | undefined {
    if (this.prefixes.size === 0) return undefined;
    let t = topic;
    for (;;) {
      const id = this.prefixes.get(t);
      if (id !== undefined) return id;
      const cut = t.lastIndexOf('/');
      if (cut <= 0) return undefined;
      t = t.slice(0, cut);
    }
  }

  private identify(
    topic: string, route: TopicRoute, match: TopicMatch, body: Record<string, unknown>, msgDeviceId: unknown, isBroadcast: boolean,
  ): DeviceRef | { reject: Reject } {
    const idField = route.payloadIdField ?? 'device_id';
    const idValue = has(body, idField) ? body[idField] : undefined;
    const payloadId = typeof idValue === 'string' ? idValue : null;
    let id: string | null = null;
    let source: IdentitySource | null = null;
    if (match.device !== null && !isBroadcast) {
      id = match.device;
      source = 'topic';
      if (payloadId !== null && payloadId !== id) {
        return { reject: { code: 'identity-mismatch', topic, path: `/${idField}`, reason: `payload names device ${JSON.stringify(payloadId.slice(0, 80))} but the topic names ${JSON.stringify(id)}` } };
      }
    } else if (payloadId !== null) {
      const problem = deviceIdProblem(payloadId);
      if (problem) return { reject: { code: 'device-id', topic, path: `/${idField}`, reason: problem } };
      id = payloadId;
      source = 'payload';
    } else if (!isBroadcast) {
      const mapped = this.mapped(topic);
      if (mapped !== undefined) {
        id = mapped;
        source = 'prefix-map';
      } else if (route.prefixIsId === true && match.prefix !== null && deviceIdProblem(match.prefix) === null) {
        // The firmware names itself by its topic prefix (whofi ESP-IDF's `csi-device`, an ESPHome node name).
        id = match.prefix;
        source = 'topic';
      } else if (msgDeviceId !== undefined && msgDeviceId !== null && msgDeviceId !== '') {
        const problem = deviceIdProblem(msgDeviceId);
        if (problem) return { reject: { code: 'device-id', topic, path: 'msg.deviceId', reason: problem } };
        id = msgDeviceId as string;
        source = 'msg';
      }
    }
    // The topic's arch wins: iot-common's `architecture` spells the same variant differently.
    const arch = archOf(match.arch) ?? archOf(has(body, 'architecture') ? body.architecture : undefined) ?? archOf(has(body, 'app') ? body.app : undefined);
    const fw = has(body, 'firmware_version') ? body.firmware_version : undefined;
    const firmware = typeof fw === 'string' && fw.length > 0 && fw.length <= FIRMWARE_MAX_LENGTH && !hasControl(fw) && (route.kind === 'status' || route.kind === 'presence') ? fw : null;
    return { id, kind: route.deviceKind, arch, firmware, identified: id !== null, source };
  }

  private decodeConsole(input: DecodeInput): DecodeResult {
    const topic = typeof input.topic === 'string' ? input.topic : '';
    if (topic.length > TOPIC_MAX_LENGTH) return fail('topic', topic, 'topic', `topic is longer than ${TOPIC_MAX_LENGTH} characters`);
    const raw = readRaw(input.payload, this.options.maxPayloadBytes);
    if (!raw.ok) return fail(raw.code, topic, '', raw.reason);
    if (!('text' in raw)) return fail('console', topic, '', 'a console line must be text; give the message a topic to decode an object');
    const parsed = parseConsoleLine(raw.text);
    if (!parsed.ok) return fail('console', topic, '', parsed.reason);

    const fromTopic = consoleTopicDevice(topic);
    const candidate = fromTopic ?? (input.deviceId === undefined || input.deviceId === null || input.deviceId === '' ? null : input.deviceId);
    if (candidate !== null) {
      const problem = deviceIdProblem(candidate);
      if (problem) return fail('device-id', topic, fromTopic !== null ? 'topic' : 'msg.deviceId', problem);
    }
    const id = candidate as string | null;
    const kind: DeviceKind | null = parsed.value.event === 'audio-health' ? KIND.audioDevice : null;
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

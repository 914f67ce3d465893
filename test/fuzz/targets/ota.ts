/**
 * Fuzz targets for fleet-ota's parsers: manifests, plans (ours and AWS IoT Jobs' configuration),
 * device progress (ours and the Steel firmware's), and the editor upload's multipart body. Each must return a value or a field error for any
 * input, never throw, and keep its output plain data.
 */
import fc from 'fast-check';

import type { FuzzTarget } from '../harness';
import { parseManifest } from '../../../lib/ota/manifest';
import { fromAwsJobConfig, parsePlan } from '../../../lib/ota/plan';
import { parseProgress } from '../../../lib/ota/progress';
import { parseSteelFirmwareRequest, parseSteelStatus } from '../../../lib/ota/steel';
import { parseRange } from '../../../lib/ota/range';
import { readMultipart } from '../../../lib/ota/upload';

type Result = { ok: true; value: unknown } | { ok: false; field: string; reason: string };

/** Plain JSON data only: what a flow message or a journal can carry. */
function plainProblem(x: unknown, depth = 0): string | null {
  if (depth > 20) return 'output nested deeper than 20';
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return null;
  if (typeof x === 'number') return Number.isFinite(x) ? null : `non-finite number ${x}`;
  if (Array.isArray(x)) {
    for (const v of x) { const p = plainProblem(v, depth + 1); if (p) return p; }
    return null;
  }
  if (typeof x === 'object') {
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) return `non-plain object ${String(proto?.constructor?.name)}`;
    for (const v of Object.values(x as Record<string, unknown>)) {
      if (v === undefined) return 'undefined value in output';
      const p = plainProblem(v, depth + 1);
      if (p) return p;
    }
    return null;
  }
  return `a ${typeof x} in the output`;
}

function resultProblem(r: Result): string | null {
  if (r === null || typeof r !== 'object') return 'result is not an object';
  if (r.ok === true) return plainProblem(r.value);
  if (r.ok !== false) return 'result.ok is neither true nor false';
  if (typeof r.field !== 'string' || r.field.length === 0) return 'field error without a field';
  if (typeof r.reason !== 'string' || r.reason.length === 0) return 'field error without a reason';
  return null;
}

const VALID_MANIFEST = {
  v: 1, kind: 'env-sensor', arch: 'sync', version: '1.3.0', size: 286720,
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', algorithm: 'ed25519',
  signature: 'MEUCIQDabc+/=', signer: '0123456789abcdef',
};
const VALID_PLAN = {
  waves: [5, 50, 100], canary: { name: 'lab', devices: ['env-001', 'env-002'] }, concurrency: 5, maximumPerMinute: 100,
  soakSeconds: 60, deviceTimeoutSeconds: 600, retries: { failed: 2, timedOut: 3 },
  abort: [{ failureType: 'ALL', thresholdPercentage: 20, minNumberOfExecutedThings: 10 }],
  groupErrorThreshold: { percentage: 30, action: 'pause' }, healthGate: { windowSeconds: 1800, margin: 10 }, allowDowngrade: false,
};
const VALID_AWS = {
  jobExecutionsRolloutConfig: { maximumPerMinute: 50 },
  abortConfig: { criteriaList: [{ action: 'CANCEL', failureType: 'FAILED', thresholdPercentage: 10, minNumberOfExecutedThings: 5 }] },
  timeoutConfig: { inProgressTimeoutInMinutes: 30 },
  jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 3 }] },
};

/** A valid object with one field replaced by anything, dropped, or a junk field added. */
function mutated(base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(base);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), fc.anything()).map(([k, v]) => ({ ...base, [k]: v })),
    fc.constantFrom(...keys).map((k) => { const o: Record<string, unknown> = { ...base }; delete o[k]; return o; }),
    fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => ({ ...base, [k]: v })),
  );
}

const anyInput = (base: Record<string, unknown>): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 4, arbitrary: mutated(base) },
  { weight: 2, arbitrary: mutated(base).map((x) => JSON.stringify(x) ?? '') },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

const manifest: FuzzTarget<unknown> = {
  name: 'ota-manifest',
  arbitrary: anyInput(VALID_MANIFEST),
  check: (x) => resultProblem(parseManifest(x)),
};

const plan: FuzzTarget<{ aws: boolean; input: unknown }> = {
  name: 'ota-plan',
  arbitrary: fc.oneof(
    anyInput(VALID_PLAN).map((input) => ({ aws: false, input })),
    anyInput(VALID_AWS).map((input) => ({ aws: true, input })),
    fc.record({ waves: fc.array(fc.oneof(fc.double(), fc.integer({ min: -5, max: 120 })), { maxLength: 25 }) }).map((input) => ({ aws: false, input: input as unknown })),
  ),
  check: ({ aws, input }) => {
    const r = aws ? fromAwsJobConfig(input) : parsePlan(input);
    const p = resultProblem(r);
    if (p || !r.ok) return p;
    // A plan that parses exports and parses back to itself.
    const again = parsePlan(JSON.parse(JSON.stringify(r.value)));
    return again.ok && JSON.stringify(again.value) === JSON.stringify(r.value) ? null : 'a parsed plan does not read back the same';
  },
};

const STEEL = {
  request_id: 'fw-req-1', status: { Downloading: { progress_percent: 42 } }, current_version: '1.0.0', target_version: '1.1.0',
  progress_percent: 0, error_message: null, started_at: '2026-12-02T10:00:00Z', completed_at: null,
};

const progress: FuzzTarget<{ source: 'ours' | 'steel' | 'request' | 'range'; input: unknown }> = {
  name: 'ota-progress',
  arbitrary: fc.oneof(
    anyInput({ job_id: 'r7-a1', state: 'DOWNLOADING', progress: 42.5, firmware_version: '1.3.0', reason: 'x', timestamp: 1, v: 1 }).map((input) => ({ source: 'ours' as const, input })),
    anyInput(STEEL).map((input) => ({ source: 'steel' as const, input })),
    fc.record({ status: fc.oneof(fc.string(), fc.dictionary(fc.string({ maxLength: 20 }), fc.anything({ maxDepth: 2 }), { maxKeys: 2 })) }).map((s) => ({ source: 'steel' as const, input: { ...STEEL, ...s } as unknown })),
    anyInput({ request_id: 'fw-req-1', firmware_version: '1.1.0', device_id: 'steel-01', requested_at: '2026-12-02T10:00:00Z' }).map((input) => ({ source: 'request' as const, input })),
    fc.oneof(fc.string({ maxLength: 60 }), fc.stringMatching(/^bytes=[0-9,\- ]{0,20}$/)).map((input) => ({ source: 'range' as const, input: input as unknown })),
  ),
  check: ({ source, input }) => {
    if (source === 'range') {
      const r = parseRange(input as string, 1000);
      if (r.kind === 'partial' && !(r.start >= 0 && r.start <= r.end && r.end < 1000)) return `range ${r.start}-${r.end} outside the image`;
      return r.kind === 'full' || r.kind === 'partial' || (r.kind === 'unsatisfiable' && r.reason.length > 0) ? null : 'range answer of the wrong shape';
    }
    const r = source === 'ours' ? parseProgress(input) : source === 'steel' ? parseSteelStatus(input) : parseSteelFirmwareRequest(input);
    return resultProblem(r);
  },
};

const BOUNDARY = '----fuzzBoundary7MA4YWxk';
const FORM = Buffer.from([
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="fw.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  '\u00e9ESP32 image bytes\r\n--not-the-boundary\r\n',
  `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="manifest"\r\n\r\n{"v":1}\r\n--${BOUNDARY}--\r\n`,
].join(''), 'latin1');

/** A well-formed form with bytes cut out, inserted or overwritten, under a content type that may be off too. */
const upload: FuzzTarget<{ contentType: string; body: Buffer }> = {
  name: 'ota-upload',
  arbitrary: fc.record({
    contentType: fc.oneof(fc.constant(`multipart/form-data; boundary=${BOUNDARY}`), fc.constant(`multipart/form-data; boundary="${BOUNDARY}"`), fc.string({ maxLength: 80 }).map((x) => `multipart/form-data; ${x}`), fc.string({ maxLength: 40 })),
    edits: fc.array(fc.record({ at: fc.nat(FORM.length), cut: fc.nat(40), insert: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 4 }),
  }).map(({ contentType, edits }) => {
    let body = FORM;
    for (const e of edits) body = Buffer.concat([body.subarray(0, Math.min(e.at, body.length)), Buffer.from(e.insert), body.subarray(Math.min(e.at + e.cut, body.length))]);
    return { contentType, body };
  }),
  check: ({ contentType, body }) => {
    const r = readMultipart(contentType, body);
    if (!r.ok) {
      const b = r.answer.body;
      return r.answer.status === 400 && typeof b.field === 'string' && b.field.length > 0 && typeof b.reason === 'string' && b.reason.length > 0 ? null : 'a refusal without status 400, field and reason';
    }
    if (r.value.size > 4) return 'more than 4 parts';
    for (const [name, part] of r.value) {
      if (typeof name !== 'string' || !Buffer.isBuffer(part.data) || part.data.length > body.length) return `part ${name} is not a slice of the body`;
    }
    return null;
  },
};

export const targets: FuzzTarget[] = [manifest as FuzzTarget, plan as FuzzTarget, progress as FuzzTarget, upload as FuzzTarget];

/**
 * An image upload from the editor (or `curl -F image=@fw.bin -F manifest=@fw.manifest.json`):
 * multipart/form-data with an `image` file and a `manifest` file or text field, at most one OTA slot
 * plus the manifest. The manifest is read and the image verified against the node's trusted keys
 * by the repository, exactly as a rollout's image is; the stored name is derived from the manifest
 * (`<kind>[-<arch>]-<version>`), never taken from the client, so no file name can reach outside the
 * folder. Answers are plain {status, body} for the adapter to send.
 */
import { MAX_IMAGE_BYTES } from '../../firmware/contract/ota';
import { parseManifest, type Manifest, type RefusalCode } from './manifest';
import { imageNameProblem, type ImageRepository } from './repository';

/** A manifest is a few hundred bytes; parseManifest refuses more than 16 KiB of it. */
export const MAX_MANIFEST_BYTES = 16 * 1024;
/** Boundaries and part headers: a few hundred bytes in practice. */
const MULTIPART_OVERHEAD = 8 * 1024;
/** The largest upload body read: one OTA slot, its manifest and the multipart framing. */
export const MAX_UPLOAD_BYTES = MAX_IMAGE_BYTES + MAX_MANIFEST_BYTES + MULTIPART_OVERHEAD;
/** Over this much the connection is dropped instead of read to the end for a clean 413. */
const DRAIN_LIMIT = 4 * MAX_UPLOAD_BYTES;
const MAX_PARTS = 4;
const MAX_PART_HEADERS = 4096;

export interface UploadAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  /** Close the connection after answering (the rest of an oversized body is not read). */
  readonly close?: boolean;
}

export interface Part {
  readonly filename: string | null;
  readonly data: Buffer;
}

type Read<T> = { ok: true; value: T } | { ok: false; answer: UploadAnswer };

const refuse = (status: number, field: string, reason: string, close?: boolean): { ok: false; answer: UploadAnswer } =>
  ({ ok: false, answer: { status, body: { ok: false, field, reason }, ...(close ? { close } : {}) } });
const tooLarge = (close?: boolean): { ok: false; answer: UploadAnswer } =>
  refuse(413, 'image', `the upload is over ${MAX_UPLOAD_BYTES} bytes: one OTA slot (${MAX_IMAGE_BYTES} bytes) and its manifest`, close);

/**
 * Reads a request body of at most MAX_UPLOAD_BYTES. A larger one is read on (and dropped) so the
 * client gets its 413, up to a bound past which the caller closes the connection.
 */
export async function readUploadBody(chunks: AsyncIterable<Buffer>, contentLength: unknown): Promise<Read<Buffer>> {
  const declared = typeof contentLength === 'string' && /^\d+$/.test(contentLength) ? Number(contentLength) : null;
  if (declared !== null && declared > DRAIN_LIMIT) return tooLarge(true);
  const kept: Buffer[] = [];
  let size = 0;
  for await (const c of chunks) {
    size += c.length;
    if (size <= MAX_UPLOAD_BYTES) kept.push(c);
    else if (size > DRAIN_LIMIT) return tooLarge(true);
  }
  return size > MAX_UPLOAD_BYTES ? tooLarge() : { ok: true, value: Buffer.concat(kept, size) };
}

/** The boundary of a multipart/form-data content type (RFC 7578, RFC 2046 §5.1.1: 1 to 70 characters). */
function boundaryOf(contentType: unknown): string | null {
  if (typeof contentType !== 'string' || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s"]{1,70}))/i.exec(contentType);
  return m ? m[1] ?? m[2] : null;
}

/** The parts of a multipart/form-data body by field name; a part sent twice or too many parts are refused. */
export function readMultipart(contentType: unknown, body: Buffer): Read<Map<string, Part>> {
  const boundary = boundaryOf(contentType);
  if (boundary === null) return refuse(400, 'body', 'send multipart/form-data with an image file and a manifest (file or text)');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const next = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const parts = new Map<string, Part>();
  let pos = body.indexOf(delimiter);
  if (pos < 0) return refuse(400, 'body', 'the multipart boundary does not occur in the body');
  pos += delimiter.length;
  for (;;) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return { ok: true, value: parts };
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) return refuse(400, 'body', 'a multipart boundary is not followed by a line break');
    pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd < 0 || headEnd - pos > MAX_PART_HEADERS) return refuse(400, 'body', 'a part has no end of headers');
    const headers = body.subarray(pos, headEnd).toString('utf8');
    const end = body.indexOf(next, headEnd + 4);
    if (end < 0) return refuse(400, 'body', 'a part is not closed by the boundary');
    const disposition = headers.split('\r\n').find((l) => /^content-disposition\s*:/i.test(l)) ?? '';
    const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return refuse(400, 'body', 'a part has no form-data name');
    if (parts.has(name)) return refuse(400, name, 'is sent twice');
    if (parts.size >= MAX_PARTS) return refuse(400, 'body', `more than ${MAX_PARTS} parts`);
    parts.set(name, { filename: /;\s*filename="([^"]*)"/i.exec(disposition)?.[1] ?? null, data: body.subarray(headEnd + 4, end) });
    pos = end + next.length;
  }
}

/** `<kind>[-<arch>]-<version>`, with a version's build metadata (`+`) as `_`: a name the repository accepts, or null. */
export function imageNameFor(m: Pick<Manifest, 'kind' | 'arch' | 'version'>): string | null {
  const name = `${m.kind}${m.arch !== undefined ? `-${m.arch}` : ''}-${m.version}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  return imageNameProblem(name) === null ? name : null;
}

/** The manifest field each verification refusal is about (413 and 409 for the image as a whole). */
const REFUSED_FIELD: Readonly<Record<RefusalCode | 'name' | 'manifest' | 'exists', { status: number; field: string }>> = {
  'too-large': { status: 413, field: 'image' }, size: { status: 400, field: 'size' }, sha256: { status: 400, field: 'sha256' },
  signature: { status: 400, field: 'signature' }, 'unknown-signer': { status: 400, field: 'signer' }, algorithm: { status: 400, field: 'algorithm' },
  'not-newer': { status: 400, field: 'version' }, kind: { status: 400, field: 'kind' }, arch: { status: 400, field: 'arch' }, version: { status: 400, field: 'version' },
  name: { status: 400, field: 'version' }, manifest: { status: 400, field: 'manifest' }, exists: { status: 409, field: 'image' },
};

const KNOWN_PARTS = new Set(['image', 'manifest']);

/** Verifies and stores an uploaded image: 201 with its name and manifest, 200 when that very image is stored already. */
export function acceptUpload(repository: ImageRepository, contentType: unknown, body: Buffer): UploadAnswer {
  const parts = readMultipart(contentType, body);
  if (!parts.ok) return parts.answer;
  for (const name of parts.value.keys()) if (!KNOWN_PARTS.has(name)) return refuse(400, name, 'is not an upload field (image, manifest)').answer;
  const image = parts.value.get('image');
  if (!image || image.data.length === 0) return refuse(400, 'image', 'choose the image file (.bin)').answer;
  if (image.data.length > MAX_IMAGE_BYTES) return refuse(413, 'image', `the image is ${image.data.length} bytes, over one OTA slot (${MAX_IMAGE_BYTES} bytes)`).answer;
  const manifestPart = parts.value.get('manifest');
  if (!manifestPart || manifestPart.data.length === 0) return refuse(400, 'manifest', 'choose the manifest file or paste the manifest JSON').answer;
  if (manifestPart.data.length > MAX_MANIFEST_BYTES) return refuse(400, 'manifest', `longer than ${MAX_MANIFEST_BYTES} bytes`).answer;
  const manifest = parseManifest(manifestPart.data.toString('utf8'));
  if (!manifest.ok) return refuse(400, manifest.field, manifest.reason).answer;
  const name = imageNameFor(manifest.value);
  if (name === null) return refuse(400, 'version', 'kind, architecture and version make an image name over 64 characters').answer;
  const known = repository.manifestOf(name);
  const added = repository.add(name, image.data, manifest.value);
  if (!added.ok) {
    const at = REFUSED_FIELD[added.code];
    return refuse(at.status, at.field, added.reason).answer;
  }
  return { status: known && known.sha256 === added.manifest.sha256 ? 200 : 201, body: { ok: true, name, manifest: added.manifest } };
}

/**
 * The `Range` header of a firmware download, for resumed downloads (RFC 9110 §14). One range only:
 * a device resumes from where it stopped, it never asks for several pieces, so multipart answers are
 * not offered and a multi-range request gets 416.
 */
export type RangeAnswer =
  /** No Range header, or a unit other than bytes (which RFC 9110 says to ignore): send everything, 200. */
  | { readonly kind: 'full' }
  /** 206 with Content-Range `bytes start-end/size`; `end` is inclusive. */
  | { readonly kind: 'partial'; readonly start: number; readonly end: number; readonly contentRange: string }
  /** 416 with Content-Range `bytes <star>/size`. */
  | { readonly kind: 'unsatisfiable'; readonly reason: string; readonly contentRange: string };

const SPEC = /^(\d{0,15})-(\d{0,15})$/;

export function parseRange(header: string | readonly string[] | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'full' };
  const bad = (reason: string): RangeAnswer => ({ kind: 'unsatisfiable', reason, contentRange: `bytes */${size}` });
  if (typeof header !== 'string') return bad('more than one Range header');
  const text = header.trim();
  if (text.length > 200) return bad('Range header longer than 200 characters');
  const eq = text.indexOf('=');
  if (eq < 0) return bad(`Range ${JSON.stringify(text.slice(0, 40))} is not unit=ranges`);
  const unit = text.slice(0, eq).trim().toLowerCase();
  if (unit !== 'bytes') return { kind: 'full' };
  const specs = text.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (specs.length === 0) return bad('Range names no range');
  if (specs.length > 1) return bad('several ranges in one request are not served');
  const m = SPEC.exec(specs[0]);
  if (!m || (m[1] === '' && m[2] === '')) return bad(`${JSON.stringify(specs[0])} is not first-last, first- or -suffix`);
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return bad('a suffix range of 0 bytes selects nothing');
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return bad(`range ${specs[0]} ends before it starts`);
  }
  if (size === 0 || start >= size) return bad(`range starts at ${start}, past the end of a ${size}-byte image`);
  return { kind: 'partial', start, end, contentRange: `bytes ${start}-${end}/${size}` };
}

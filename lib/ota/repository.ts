/**
 * The image repository: a folder the node is configured with, holding `<name>.bin` and
 * `<name>.manifest.json` per image. Names are checked (no separators, no `..`, a narrow alphabet), so
 * no request can reach outside the folder; nothing is listed to devices, only to the flow.
 * An image is verified against its manifest and the trusted keys before it is stored.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KeyObject } from 'node:crypto';

import { parseManifest, verifyImage, type Manifest, type RefusalCode } from './manifest';

const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Null when the name may be used, else why not. */
export function imageNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return 'the image name must be a string';
  if (!IMAGE_NAME.test(name)) return 'the image name may only hold letters, digits and _ . - (at most 64, starting with a letter or digit)';
  if (name.includes('..')) return 'the image name contains ".."';
  if (name.endsWith('.manifest.json') || name.endsWith('.tmp')) return 'the image name ends in a reserved suffix';
  return null;
}

export type AddResult = { ok: true; name: string; manifest: Manifest } | { ok: false; code: RefusalCode | 'name' | 'manifest' | 'exists'; reason: string };

export interface StoredImage {
  readonly name: string;
  readonly manifest: Manifest;
}

export class ImageRepository {
  constructor(readonly dir: string, private readonly trusted: ReadonlyMap<string, KeyObject>) {
    fs.mkdirSync(dir, { recursive: true });
  }

  private file(name: string, suffix: '.bin' | '.manifest.json'): string {
    return path.join(this.dir, name + suffix);
  }

  /** Verifies and stores an image; refuses to overwrite a different image under the same name. */
  add(name: string, image: Buffer, manifestInput: unknown): AddResult {
    const problem = imageNameProblem(name);
    if (problem) return { ok: false, code: 'name', reason: problem };
    const parsed = parseManifest(manifestInput);
    if (!parsed.ok) return { ok: false, code: 'manifest', reason: `manifest ${parsed.field} ${parsed.reason}` };
    const verdict = verifyImage(image, parsed.value, this.trusted);
    if (!verdict.ok) return { ok: false, code: verdict.code, reason: verdict.reason };
    const existing = this.manifestOf(name);
    if (existing && existing.sha256 !== parsed.value.sha256) return { ok: false, code: 'exists', reason: `an image named ${name} with another checksum is already stored` };
    this.writeAtomically(this.file(name, '.bin'), image);
    this.writeAtomically(this.file(name, '.manifest.json'), Buffer.from(`${JSON.stringify(parsed.value, null, 2)}\n`));
    return { ok: true, name, manifest: parsed.value };
  }

  /** Stored images whose manifest reads; `problems` names the files that do not. */
  list(): { images: StoredImage[]; problems: string[] } {
    const images: StoredImage[] = [];
    const problems: string[] = [];
    for (const f of fs.readdirSync(this.dir).sort()) {
      if (!f.endsWith('.manifest.json')) continue;
      const name = f.slice(0, -'.manifest.json'.length);
      if (imageNameProblem(name) !== null) { problems.push(`${f}: not an image name`); continue; }
      const m = this.readManifest(name);
      if (m.ok) images.push({ name, manifest: m.value });
      else problems.push(`${f}: ${m.field} ${m.reason}`);
    }
    return { images, problems };
  }

  manifestOf(name: string): Manifest | null {
    if (imageNameProblem(name) !== null) return null;
    const m = this.readManifest(name);
    return m.ok ? m.value : null;
  }

  /** The image and its manifest, re-verified (the folder may have been edited by hand); null when absent or bad. */
  get(name: string): { image: Buffer; manifest: Manifest } | null {
    const manifest = this.manifestOf(name);
    if (!manifest) return null;
    let image: Buffer;
    try { image = fs.readFileSync(this.file(name, '.bin')); } catch { return null; }
    return verifyImage(image, manifest, this.trusted).ok ? { image, manifest } : null;
  }

  private readManifest(name: string): ReturnType<typeof parseManifest> {
    let text: string;
    try { text = fs.readFileSync(this.file(name, '.manifest.json'), 'utf8'); } catch (err) { return { ok: false, field: 'manifest', reason: (err as Error).message }; }
    return parseManifest(text);
  }

  private writeAtomically(file: string, data: Buffer): void {
    const tmp = `${file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }
}

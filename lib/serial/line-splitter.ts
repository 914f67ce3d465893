/**
 * Splits a serial byte stream into lines with a bound on what it holds. @serialport/parser-readline
 * buffers without limit, so a device spewing garbage at the wrong baud rate (no newline, ever) would
 * grow memory until the process dies; this splitter drops an overlong line and says so instead.
 */
export const DEFAULT_LINE_MAX_BYTES = 4096;

export type SplitEvent =
  | { readonly type: 'line'; readonly line: string }
  /** A line longer than the limit: its bytes were dropped (counted up to the newline that ended it). */
  | { readonly type: 'too-long'; readonly droppedBytes: number; readonly limit: number };

export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  /** Bytes dropped from the current overlong line; -1 when not skipping. */
  private skipped = -1;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(readonly maxBytes: number = DEFAULT_LINE_MAX_BYTES) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError('line limit must be a positive whole number of bytes');
  }

  /** Bytes held for the line in progress (never more than maxBytes). */
  get pending(): number {
    return this.held;
  }

  push(chunk: Uint8Array): SplitEvent[] {
    const out: SplitEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk.subarray(start, end), out);
      if (nl === -1) break;
      this.finish(out);
      start = nl + 1;
    }
    return out;
  }

  /** The partial line at the end of the stream (a port closing mid-line), if any. */
  flush(): SplitEvent[] {
    const out: SplitEvent[] = [];
    if (this.held > 0 || this.skipped >= 0) this.finish(out);
    return out;
  }

  private take(bytes: Uint8Array, out: SplitEvent[]): void {
    if (bytes.length === 0) return;
    if (this.skipped >= 0) { this.skipped += bytes.length; return; }
    if (this.held + bytes.length > this.maxBytes) {
      // Report once, when the line crosses the limit; the final count comes with its newline.
      this.skipped = this.held + bytes.length;
      this.parts = [];
      this.held = 0;
      out.push({ type: 'too-long', droppedBytes: this.skipped, limit: this.maxBytes });
      return;
    }
    this.parts.push(Buffer.from(bytes));
    this.held += bytes.length;
  }

  private finish(out: SplitEvent[]): void {
    if (this.skipped >= 0) {
      this.skipped = -1;
      return;
    }
    const buf = Buffer.concat(this.parts, this.held);
    this.parts = [];
    this.held = 0;
    let line = this.decoder.decode(buf);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    out.push({ type: 'line', line });
  }
}

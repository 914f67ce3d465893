/** Status badges at a bounded rate: a busy node would otherwise send one editor update per message. */
import type { Node, NodeStatus } from 'node-red';

type StatusSource = NodeStatus | (() => NodeStatus);
const resolve = (s: StatusSource): NodeStatus => (typeof s === 'function' ? s() : s);

/** `set` takes a function so a busy node builds (and translates) its text only when it is shown. */
export class ThrottledStatus {
  private pending: StatusSource | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;

  constructor(private readonly node: Node, private readonly minIntervalMs = 1000) {}

  set(status: StatusSource): void {
    const now = Date.now();
    if (!this.timer && now - this.last >= this.minIntervalMs) {
      this.last = now;
      this.node.status(resolve(status));
      return;
    }
    this.pending = status;
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.last = Date.now();
        if (this.pending) this.node.status(resolve(this.pending));
        this.pending = null;
      }, Math.max(0, this.minIntervalMs - (now - this.last)));
    }
  }

  /** Shows a status at once (errors, state changes that matter). */
  now(status: NodeStatus): void {
    this.pending = null;
    this.last = Date.now();
    this.node.status(status);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}

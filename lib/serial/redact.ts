/**
 * Secrets never leave the node in clear: every line, status, log text and result passes through here.
 * A line that is a provisioning line (the device echoing what it read) loses its password fields even
 * when the secret is not known to this process (another host provisioned the device).
 */
export const REDACTED = '***';

const PASSWORD_FIELD = /("(?:password|pass|psk|wifi_password|mqtt_password)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi;

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Adds secrets to hide; empty and one-character values are ignored (they would blank ordinary text). */
  add(...values: ReadonlyArray<string | null | undefined>): void {
    for (const v of values) if (typeof v === 'string' && v.length > 1) this.secrets.add(v);
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    let out = text.replace(PASSWORD_FIELD, `$1"${REDACTED}"`);
    // Longest first, so a secret containing another is hidden whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join(REDACTED);
      const escaped = JSON.stringify(s).slice(1, -1);
      if (escaped !== s && out.includes(escaped)) out = out.split(escaped).join(REDACTED);
    }
    return out;
  }
}

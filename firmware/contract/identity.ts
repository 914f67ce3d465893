/**
 * Device identity rules shared by the decoder and the simulator.
 * An id ends up in MQTT topics, context-store keys, file names and HTML, so the
 * allowed alphabet is deliberately narrow: letters, digits and `_ - . :` (MAC addresses).
 */
export const DEVICE_ID_MAX_LENGTH = 64;

const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/** Returns null when the id is acceptable, otherwise the reason it is not. */
export function deviceIdProblem(id: unknown): string | null {
  if (typeof id !== 'string') return `device id must be a string, got ${typeof id}`;
  if (id.length === 0) return 'device id is empty';
  if (id.length > DEVICE_ID_MAX_LENGTH) return `device id is longer than ${DEVICE_ID_MAX_LENGTH} characters`;
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'device id contains a control character';
  if (/[+#]/.test(id)) return 'device id contains an MQTT wildcard (+ or #)';
  if (id.includes('/')) return 'device id contains a topic separator (/)';
  if (id.includes('..')) return 'device id contains ".."';
  if (!DEVICE_ID.test(id)) return 'device id may only hold letters, digits and _ - . : and must start with a letter or digit';
  return null;
}


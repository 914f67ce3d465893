/**
 * Serial console lines: the grammar the decoder reads and the simulator writes.
 * It accepts both the deployment guides' wording and what the TI0162-IOT firmware really prints
 * (e.g. `[PERF] Memory: Heap=46KB` in the guide, `Heap=47104B` in the code).
 */
export const CONSOLE_LINE_MAX = 1024;

export type ConsoleEvent =
  | { readonly event: 'boot'; readonly text: string }
  | { readonly event: 'wifi'; readonly ip: string | null; readonly text: string }
  | { readonly event: 'mqtt'; readonly broker: string | null; readonly connected: boolean; readonly text: string }
  | { readonly event: 'sensor-init'; readonly ok: boolean; readonly text: string }
  | { readonly event: 'reading'; readonly reading_count: number | null; readonly temperature: number; readonly humidity: number; readonly pressure: number; readonly read_time_us: number | null }
  | { readonly event: 'perf-analysis'; readonly analysis: number; readonly uptime: number; readonly status: string }
  | { readonly event: 'perf-memory'; readonly heap_bytes: number; readonly stack_bytes: number | null; readonly flash_bytes: number | null }
  | { readonly event: 'perf-sensor'; readonly sensor_avg_us: number; readonly target_us: number | null }
  | { readonly event: 'audio-health'; readonly heap: number; readonly wifi_rssi: number; readonly sessions: number; readonly healthy: boolean }
  | { readonly event: 'log'; readonly tag: string | null; readonly text: string };

export type ConsoleParse = { readonly ok: true; readonly value: ConsoleEvent } | { readonly ok: false; readonly reason: string };

const TAGGED = /^\[([A-Z0-9_-]{2,16})\]\s?(.*)$/;
const MICRO = '(?:μs|µs|us)';
const NUM = '(-?\\d+(?:\\.\\d+)?)';
const IPV4 = /IP(?:=|\s+address:\s*)(\d{1,3}(?:\.\d{1,3}){3})/;
const READING_T = new RegExp(`T=${NUM}°?C`);
const READING_H = new RegExp(`H=${NUM}%`);
const READING_P = new RegExp(`P=${NUM}hPa`);
const READING_N = /#(\d+)/;
const READING_US = new RegExp(`\\((\\d+)${MICRO}\\)`);
const ANALYSIS = /^Analysis #(\d+): Uptime: (\d+)s, Status: ([A-Za-z]+)/;
const MEMORY = /^Memory: Heap=(\d+)(KB|B)(?:, Stack=(\d+)(KB|B))?(?:, Flash=(\d+)(KB|B))?/;
const SENSOR_AVG = new RegExp(`^Sensor average: (\\d+(?:\\.\\d+)?)${MICRO}(?: \\(target: [<‹]?(\\d+)${MICRO}\\))?`);
const AUDIO_HEALTH = /Health: Heap=(\d+), WiFi=(-?\d+)dBm, Sessions=(\d+), Healthy=(Yes|No)/;

const bytes = (n: string, unit: string | undefined): number => (unit === 'KB' ? Number(n) * 1024 : Number(n));

export function parseConsoleLine(raw: string): ConsoleParse {
  const line = raw.replace(/\r?\n$/, '');
  if (line.length === 0) return { ok: false, reason: 'console line is empty' };
  if (line.length > CONSOLE_LINE_MAX) return { ok: false, reason: `console line is longer than ${CONSOLE_LINE_MAX} characters` };
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(line)) return { ok: false, reason: 'console line contains a control character' };

  const audio = AUDIO_HEALTH.exec(line);
  if (audio) {
    return { ok: true, value: { event: 'audio-health', heap: Number(audio[1]), wifi_rssi: Number(audio[2]), sessions: Number(audio[3]), healthy: audio[4] === 'Yes' } };
  }
  const tagged = TAGGED.exec(line);
  if (!tagged) return { ok: true, value: { event: 'log', tag: null, text: line } };
  const [, tag, text] = tagged;
  switch (tag) {
    case 'SYSTEM':
      if (/Starting|Environmental Monitoring Station/.test(text)) return { ok: true, value: { event: 'boot', text } };
      break;
    case 'WIFI': {
      const ip = IPV4.exec(text);
      if (ip || /connected/i.test(text)) return { ok: true, value: { event: 'wifi', ip: ip ? ip[1] : null, text } };
      break;
    }
    case 'MQTT': {
      const broker = /broker:?\s+([\w.-]+:\d+)/.exec(text);
      if (/Connected to broker|CONNACK received/.test(text)) return { ok: true, value: { event: 'mqtt', broker: broker ? broker[1] : null, connected: true, text } };
      break;
    }
    case 'SENSOR': {
      if (/BME280 initialized/.test(text)) return { ok: true, value: { event: 'sensor-init', ok: true, text } };
      const t = READING_T.exec(text);
      const h = READING_H.exec(text);
      const p = READING_P.exec(text);
      if (t && h && p) {
        const n = READING_N.exec(text);
        const us = READING_US.exec(text);
        return { ok: true, value: { event: 'reading', reading_count: n ? Number(n[1]) : null, temperature: Number(t[1]), humidity: Number(h[1]), pressure: Number(p[1]), read_time_us: us ? Number(us[1]) : null } };
      }
      break;
    }
    case 'PERF': {
      const a = ANALYSIS.exec(text);
      if (a) return { ok: true, value: { event: 'perf-analysis', analysis: Number(a[1]), uptime: Number(a[2]), status: a[3] } };
      const m = MEMORY.exec(text);
      if (m) return { ok: true, value: { event: 'perf-memory', heap_bytes: bytes(m[1], m[2]), stack_bytes: m[3] ? bytes(m[3], m[4]) : null, flash_bytes: m[5] ? bytes(m[5], m[6]) : null } };
      const s = SENSOR_AVG.exec(text);
      if (s) return { ok: true, value: { event: 'perf-sensor', sensor_avg_us: Number(s[1]), target_us: s[2] ? Number(s[2]) : null } };
      break;
    }
  }
  return { ok: true, value: { event: 'log', tag, text } };
}

/** The lines a booting ESP32-C3 (full variant) prints, in the guide's wording; used by the simulator. */
export function bootLines(ip: string, broker: string): string[] {
  return [
    '[SYSTEM] ESP32-C3 IoT System Starting',
    `[WIFI] Connected to network: IP=${ip}`,
    `[MQTT] Connected to broker: ${broker}`,
    '[SENSOR] BME280 initialized successfully',
    '[SYSTEM] All tasks spawned - system ready',
  ];
}

export function perfLines(analysis: number, uptimeS: number, status: string, heapKb: number, sensorUs: number): string[] {
  return [
    `[PERF] Analysis #${analysis}: Uptime: ${uptimeS}s, Status: ${status}`,
    `[PERF] Memory: Heap=${heapKb}KB, Stack=8KB, Flash=280KB`,
    `[PERF] Sensor average: ${sensorUs}μs (target: <500μs)`,
  ];
}

export function audioHealthLine(heap: number, rssi: number, sessions: number, healthy: boolean): string {
  return `📊 Health: Heap=${heap}, WiFi=${rssi}dBm, Sessions=${sessions}, Healthy=${healthy ? 'Yes' : 'No'}`;
}

/**
 * Alertmanager's time intervals (quiet hours, working hours): times of day, weekdays, days of the
 * month, months and years, in a time zone. An interval matches when every field it sets matches;
 * a named interval is a list of them, any of which may match.
 */
export interface TimeIntervalSpec {
  times?: Array<{ start_time: string; end_time: string }>;
  weekdays?: string[];
  days_of_month?: string[];
  months?: string[];
  years?: string[];
  location?: string;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

interface LocalTime { minute: number; weekday: number; day: number; daysInMonth: number; month: number; year: number }

const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function localTime(at: number, zone: string): LocalTime {
  let f = FORMATTERS.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'long' });
    FORMATTERS.set(zone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(at)) parts[p.type] = p.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  return {
    minute: Number(parts.hour) * 60 + Number(parts.minute), weekday: WEEKDAYS.indexOf(parts.weekday.toLowerCase()),
    day: Number(parts.day), daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(), month, year,
  };
}

const minutes = (hhmm: string): number | null => {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && m[2] !== '00')) return null;
  return Number(m[1]) * 60 + Number(m[2]);
};

/** `a:b` or `a`, with names or numbers; negative days count from the month's end. */
function inRanges(value: number, ranges: readonly string[], parse: (s: string) => number | null): boolean | null {
  for (const r of ranges) {
    const [a, b = a] = r.toLowerCase().split(':');
    const lo = parse(a);
    const hi = parse(b);
    if (lo === null || hi === null || lo > hi) return null; // Alertmanager refuses ranges that wrap, too
    if (value >= lo && value <= hi) return true;
  }
  return false;
}

export type IntervalCheck = { ok: true } | { ok: false; reason: string };
export type SpecParse = { ok: true; value: TimeIntervalSpec } | { ok: false; field: string; reason: string };

const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
const SPEC_KEYS = new Set(['times', 'weekdays', 'days_of_month', 'months', 'years', 'location']);
/** More ranges than this in one field is not a schedule a person wrote. */
export const MAX_RANGES = 100;

/**
 * Reads one time interval as saved or imported, never trusting its shape: every field is checked
 * for type and meaning, and the result is a fresh spec isActive can evaluate without surprises.
 * Days, months and years may be numbers (YAML writes `days_of_month: [1]`), as Alertmanager reads them.
 */
export function parseSpec(raw: unknown): SpecParse {
  const bad = (field: string, reason: string): SpecParse => ({ ok: false, field, reason });
  if (!isObj(raw)) return bad('', 'a time interval is an object with times, weekdays, days_of_month, months, years or location');
  for (const key of Object.keys(raw)) if (!SPEC_KEYS.has(key)) return bad(key, 'is not a time interval setting');
  const out: TimeIntervalSpec = {};
  if (raw.times !== undefined) {
    if (!Array.isArray(raw.times) || raw.times.length > MAX_RANGES) return bad('times', `must be a list of at most ${MAX_RANGES} {start_time, end_time}`);
    const times: Array<{ start_time: string; end_time: string }> = [];
    for (const [i, t] of raw.times.entries()) {
      const a = isObj(t) && typeof t.start_time === 'string' ? minutes(t.start_time) : null;
      const b = isObj(t) && typeof t.end_time === 'string' ? minutes(t.end_time) : null;
      if (a === null || b === null || a >= b) return bad(`times[${i}]`, 'must be {start_time, end_time} in HH:MM (00:00 to 24:00), start before end');
      times.push({ start_time: (t as { start_time: string }).start_time, end_time: (t as { end_time: string }).end_time });
    }
    out.times = times;
  }
  for (const field of ['weekdays', 'days_of_month', 'months', 'years'] as const) {
    const list = raw[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > MAX_RANGES) return bad(field, `must be a list of at most ${MAX_RANGES} ranges such as ${field === 'weekdays' ? '"monday:friday"' : '"1:5"'}`);
    const ranges: string[] = [];
    for (const [i, r] of list.entries()) {
      if (typeof r === 'string' && r.length <= 64) ranges.push(r);
      else if (field !== 'weekdays' && Number.isSafeInteger(r)) ranges.push(String(r));
      else return bad(`${field}[${i}]`, field === 'weekdays' ? 'must be a weekday or a range of them, such as "monday:friday"' : 'must be a number or a range such as "1:5"');
    }
    out[field] = ranges;
  }
  if (raw.location !== undefined) {
    if (typeof raw.location !== 'string' || raw.location.length > 64) return bad('location', 'must be a time zone name such as Europe/Amsterdam');
    // Go's time.LoadLocation reads "" as UTC, so Alertmanager does.
    const zone = raw.location === '' ? 'UTC' : raw.location;
    try { new Intl.DateTimeFormat('en-US', { timeZone: zone }); } catch { return bad('location', `unknown time zone ${JSON.stringify(raw.location)}`); }
    out.location = zone;
  }
  const probe = isActive([out], Date.UTC(2026, 0, 1));
  if (probe === null) return bad('', 'a weekday, day, month or year range does not read (names or numbers, start before end)');
  return { ok: true, value: out };
}

export function checkSpec(s: unknown): IntervalCheck {
  const p = parseSpec(s);
  return p.ok ? { ok: true } : { ok: false, reason: p.field ? `${p.field} ${p.reason}` : p.reason };
}

/** Whether any of the specs matches at `at`; null when a range cannot be read. */
export function isActive(specs: readonly TimeIntervalSpec[], at: number): boolean | null {
  for (const s of specs) {
    const t = localTime(at, s.location ?? 'UTC');
    let match = true;
    if (s.times?.length) match &&= s.times.some((x) => { const a = minutes(x.start_time)!; const b = minutes(x.end_time)!; return t.minute >= a && t.minute < b; });
    const checks: Array<[string[] | undefined, number, (x: string) => number | null]> = [
      [s.weekdays, t.weekday, (x) => { const i = WEEKDAYS.indexOf(x); return i < 0 ? null : i; }],
      [s.days_of_month, t.day, (x) => { const n = Number(x); return !Number.isInteger(n) || n === 0 || Math.abs(n) > 31 ? null : n < 0 ? t.daysInMonth + n + 1 : n; }],
      [s.months, t.month, (x) => { const i = MONTHS.indexOf(x); if (i >= 0) return i + 1; const n = Number(x); return Number.isInteger(n) && n >= 1 && n <= 12 ? n : null; }],
      [s.years, t.year, (x) => { const n = Number(x); return Number.isInteger(n) ? n : null; }],
    ];
    for (const [ranges, value, parse] of checks) {
      if (!ranges?.length) continue;
      const r = inRanges(value, ranges, parse);
      if (r === null) return null;
      match &&= r;
    }
    if (match) return true;
  }
  return false;
}

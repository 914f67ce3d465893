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

export function checkSpec(s: TimeIntervalSpec): IntervalCheck {
  for (const t of s.times ?? []) {
    const a = minutes(t.start_time);
    const b = minutes(t.end_time);
    if (a === null || b === null || a >= b) return { ok: false, reason: `times ${JSON.stringify(t)} must be HH:MM with start before end` };
  }
  if (s.location) {
    try { new Intl.DateTimeFormat('en-US', { timeZone: s.location }); } catch { return { ok: false, reason: `unknown time zone ${JSON.stringify(s.location)}` }; }
  }
  const probe = isActive([s], Date.UTC(2026, 0, 1));
  return probe === null ? { ok: false, reason: 'a weekday, day, month or year range does not read' } : { ok: true };
}

/** Whether any of the specs matches at `at`; null when a range cannot be read. */
export function isActive(specs: readonly TimeIntervalSpec[], at: number): boolean | null {
  for (const s of specs) {
    const t = localTime(at, s.location ?? 'UTC');
    let match = true;
    if (s.times?.length) match &&= s.times.some((x) => { const a = minutes(x.start_time)!; const b = minutes(x.end_time)!; return t.minute >= a && t.minute < b; });
    const checks: Array<[string[] | undefined, number, (x: string) => number | null]> = [
      [s.weekdays, t.weekday, (x) => { const i = WEEKDAYS.indexOf(x); return i < 0 ? null : i; }],
      [s.days_of_month, t.day, (x) => { const n = Number(x); return !Number.isInteger(n) || n === 0 ? null : n < 0 ? t.daysInMonth + n + 1 : n; }],
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

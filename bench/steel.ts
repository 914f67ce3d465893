/**
 * Steel checker figures for `npm run bench`: a 100 KB program checked (target < 10 ms), reader and
 * checker throughput in KB/s, against JSON.parse of text of the same size as a baseline.
 * Hook: in bench/run.ts, `import { steelFigures } from './steel';` and
 * `await section('steel', () => steelFigures(repeat));`.
 */
import { checkProgram } from '../lib/steel/checker';
import { read } from '../lib/steel/reader';
import { GUIDE_SENSOR_MONITORING } from '../test/unit/steel-fixtures';
import { figure, millis, type Figure } from './measure';

/** About `bytes` of realistic device code: the guide's program under many names, plus helpers. */
export function steelProgram(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const p = `${GUIDE_SENSOR_MONITORING.replaceAll('monitor-sensors', `monitor-sensors-${i}`)}
(define (average-${i} xs) (if (null? xs) 0 (/ (apply + xs) (length xs))))
(define readings-${i} (list 1 2 3 #(4 5) "six" #\\7 8.5 'nine))
`;
    parts.push(p);
    size += Buffer.byteLength(p);
  }
  return parts.join('');
}

export function steelFigures(repeat: number): Figure[] {
  const src = steelProgram(100 * 1024);
  const kb = Buffer.byteLength(src) / 1024;
  const json = JSON.stringify(Array.from({ length: Math.ceil(src.length / 40) }, (_, i) => ({ id: i, name: `n${i}`, v: [1, 2] }))).slice(0, src.length);
  const options = { maxBytes: Infinity, maxForms: Infinity };
  // warm up the JIT before measuring, as a long-running Node-RED would be
  for (let i = 0; i < 20; i++) checkProgram(src, options);
  let sink = 0;
  const reads = millis(repeat * 4, () => { sink += read(src).forms.length; });
  const checks = millis(repeat * 4, () => { sink += checkProgram(src, options).findings.length; });
  const base = millis(repeat * 4, () => { try { JSON.parse(json); } catch { sink++; } });
  if (sink < 0) console.log(sink);
  const toRate = (ms: number[]): number[] => ms.map((m) => kb / (m / 1000));
  const checkMs = figure('steel', `check a ${Math.round(kb)} KB program (reader + every check)`, 'ms', checks, { target: '< 10 ms' });
  return [
    { ...checkMs, met: checkMs.median < 10 },
    figure('steel', 'baseline: JSON.parse of the same size', 'KB/s', toRate(base)),
    figure('steel', 'reader throughput', 'KB/s', toRate(reads)),
    figure('steel', 'checker throughput', 'KB/s', toRate(checks), { ratio: { to: 'JSON.parse', value: figure('', '', '', toRate(checks)).median / figure('', '', '', toRate(base)).median } }),
  ];
}

/**
 * The simulated Steel device answers as aws-iot-steel's program_delivery.rs does, runs the guide's
 * programs' device calls, and breaks on demand.
 */
import * as assert from 'node:assert/strict';

import { buildLoadMessage, buildRequest, parseFullReport, parseResult, parseStatusReport } from '../../firmware/contract/steel';
import { SteelDevice } from '../../firmware/simulator/steel-device';
import { Interpreter, SteelRuntimeError, type DeviceHooks } from '../../firmware/simulator/steel-interpreter';
import { GUIDE_BLINK, GUIDE_SENSOR_MONITORING } from './steel-fixtures';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const loadText = (code: string, autoStart = true, id = 'sensor-monitor'): string => JSON.stringify(buildLoadMessage({ programId: id, steelCode: code, version: '1.0.0', autoStart }));

describe('simulated Steel device', () => {
  it('loads and runs the guide\'s sensor-monitoring program: status Completed, readings published and logged', () => {
    const d = new SteelDevice({ id: 'steel-001', seed: 3 });
    const out = d.handle('steel-programs/steel-001/load', loadText(GUIDE_SENSOR_MONITORING), T0);
    assert.equal(out[0].topic, 'steel-programs/steel-001/status/report');
    const rep = parseStatusReport(out[0].payload);
    assert.ok(rep.ok);
    assert.equal(rep.value.status, 'Completed');
    assert.ok((rep.value.execution_time_ms ?? 0) > 0);
    const published = out.slice(1).map((p) => p.topic);
    assert.ok(published.includes('sensors/data'), published.join(','));
    const data = JSON.parse(out.find((p) => p.topic === 'sensors/data')?.payload ?? '{}') as Record<string, unknown>;
    assert.equal(typeof data.temperature, 'number');
    assert.match(d.lastRun?.logs[0].message ?? '', /^Temp: [\d.]+°C, Humidity: [\d.]+%$/);
  });

  it('runs the blink program (LED on, then off) and answers execute with a result', () => {
    const d = new SteelDevice({ id: 'steel-001' });
    const stored = d.handle('steel-programs/steel-001/load', loadText(GUIDE_BLINK, false, 'blink'), T0);
    assert.equal(parseStatusReport(stored[0].payload).ok && JSON.parse(stored[0].payload).status, 'Pending');
    const out = d.handle('steel-programs/steel-001/execute', JSON.stringify(buildRequest('execute', 'blink')), T0 + 1);
    assert.equal(out[0].topic, 'steel-programs/steel-001/result');
    const r = parseResult(out[0].payload);
    assert.ok(r.ok);
    assert.equal(r.value.success, true);
    assert.ok(r.value.execution_time_ms >= 2000, 'two one-second sleeps');
    assert.equal(d.led, false);
    assert.deepEqual(d.lastRun?.logs.map((l) => l.message), ['Starting blink program', 'Blink complete']);
  });

  it('refuses a load whose checksum does not match, as the device does', () => {
    const d = new SteelDevice({ id: 'steel-001' });
    const msg = { ...JSON.parse(loadText('(led-on)')), checksum: 'a'.repeat(64) };
    const out = d.handle('steel-programs/steel-001/load', JSON.stringify(msg), T0);
    assert.equal(out.length, 1);
    assert.match(JSON.parse(out[0].payload).message, /^Checksum mismatch: expected a{64}, got [0-9a-f]{64}$/);
    assert.equal(d.programs.size, 0);
    const faulty = new SteelDevice({ id: 'steel-002', faults: ['checksum-mismatch'] });
    const f = faulty.handle('steel-programs/steel-002/load', loadText('(led-on)'), T0);
    assert.equal(JSON.parse(f[0].payload).status, 'Failed');
  });

  it('answers nothing when silent, to a message that does not parse, or to another device\'s topic', () => {
    const d = new SteelDevice({ id: 'steel-001', faults: ['silent'] });
    assert.deepEqual(d.handle('steel-programs/steel-001/load', loadText('(led-on)'), T0), []);
    const e = new SteelDevice({ id: 'steel-001' });
    assert.deepEqual(e.handle('steel-programs/steel-001/load', '{"program_id": "x", "auto_start": true}', T0), [], 'the guide\'s two-field example');
    assert.deepEqual(e.handle('steel-programs/steel-002/load', loadText('(led-on)'), T0), []);
    assert.deepEqual(e.handle('steel-programs/steel-001/execute', JSON.stringify(buildRequest('execute', 'unknown')), T0), [], 'no such program');
  });

  it('fails a run with the program-fails fault and for a runtime error', () => {
    const d = new SteelDevice({ id: 'steel-001', faults: ['program-fails'] });
    const out = d.handle('steel-programs/broadcast/load', loadText('(led-on)'), T0);
    assert.equal(JSON.parse(out[0].payload).status, 'Failed');
    const e = new SteelDevice({ id: 'steel-001' });
    const bad = e.handle('steel-programs/steel-001/load', loadText('(define (f) (car (list)))\n(f)'), T0);
    assert.equal(JSON.parse(bad[0].payload).status, 'Failed');
    assert.match(JSON.parse(bad[0].payload).message, /car/);
  });

  it('stops, removes, and reports every program on status', () => {
    const d = new SteelDevice({ id: 'steel-001' });
    d.handle('steel-programs/steel-001/load', loadText('(led-on)', false, 'a'), T0);
    d.handle('steel-programs/steel-001/load', loadText('(led-off)', false, 'b'), T0);
    assert.deepEqual(d.handle('steel-programs/steel-001/stop', JSON.stringify(buildRequest('stop', 'a')), T0), []);
    assert.deepEqual(d.handle('steel-programs/steel-001/remove', JSON.stringify(buildRequest('remove', 'b')), T0), []);
    const out = d.handle('steel-programs/steel-001/status', '{}', T0);
    const rep = parseFullReport(out[0].payload);
    assert.ok(rep.ok);
    assert.deepEqual(rep.value.programs.map((p) => [p.program_id, p.status]), [['a', 'Stopped']]);
  });
});

describe('simulated Steel interpreter', () => {
  const hooks = (): DeviceHooks & { logs: string[] } => {
    const logs: string[] = [];
    return {
      logs, log: (_l, m) => { logs.push(m); }, led: () => undefined, ledState: () => false, sleep: () => undefined,
      readSensors: () => new Map([['temperature', 31]]), publish: () => undefined, shadowUpdate: () => undefined,
      now: () => T0, uptime: () => 1, memory: () => new Map(), deviceInfo: () => new Map(),
    };
  };

  it('evaluates definitions, closures, let*, cond and recursion', () => {
    const h = hooks();
    const r = new Interpreter(h).run(`
      (define (fact n) (if (<= n 1) 1 (* n (fact (- n 1)))))
      (define counter (let ((n 0)) (lambda () (set! n (+ n 1)) n)))
      (counter) (counter)
      (let* ((a 2) (b (* a 3)))
        (cond ((> b 10) "big") ((= b 6) (log "info" (format "~a ~a" (fact 5) (counter))) b) (else 0)))`);
    assert.equal(r.value, 6);
    assert.deepEqual(h.logs, ['120 3']);
  });

  it('stops a runaway program at its step limit', () => {
    assert.throws(() => new Interpreter(hooks(), 10_000).run('(define (loop n) (if #f 0 (loop n)))\n(loop 1)'), (e: unknown) => e instanceof SteelRuntimeError || e instanceof RangeError);
  });
});

/**
 * Fuzz targets for fleet-steel's input side and the simulated Steel device: whatever arrives on a
 * Steel topic, the uplink reader returns a reading or field errors (never throws), and a simulated
 * device answers only with messages the contract's parsers accept, whatever program or payload it gets.
 */
import fc from 'fast-check';

import { buildLoadMessage, buildRequest, parseFullReport, parseResult, parseStatusReport } from '../../../firmware/contract/steel';
import { SteelDevice } from '../../../firmware/simulator/steel-device';
import { readSteelUplink } from '../../../lib/steel/uplink';
import { GUIDE_BLINK, GUIDE_SENSOR_MONITORING } from '../../unit/steel-fixtures';
import type { FuzzTarget } from '../harness';

const UP = ['status/report', 'status/full-report', 'result'].map((s) => `steel-programs/steel-001/${s}`).concat('$aws/thing/steel-001/shadow/update', '$aws/things/steel-001/shadow/update');
const DOWN = ['load', 'execute', 'stop', 'remove', 'status'].map((s) => `steel-programs/steel-001/${s}`).concat('steel-programs/broadcast/load', 'steel-programs/broadcast/execute');

const uplinkTarget: FuzzTarget<{ topic: string; payload: unknown }> = {
  name: 'steel-uplink',
  arbitrary: fc.record({ topic: fc.oneof(fc.constantFrom(...UP), fc.string()), payload: fc.oneof(fc.json(), fc.jsonValue(), fc.anything()) }),
  check({ topic, payload }) {
    const u = readSteelUplink(topic, payload);
    if (u === null) return null;
    if (u.kind === 'invalid') return u.errors.length > 0 ? null : 'invalid with no field errors';
    return JSON.stringify(u.value) === undefined ? 'value is not JSON' : null;
  },
};

const FRAGMENTS = ['(', ')', '(led-on)', '(sleep 1)', '(car (list))', '(define (f) (f))', '(f)', '"', '\'', '(get (read-sensors) \'x)', '(/ 1 0)', '(log "info" 1)'];
const program = fc.tuple(fc.constantFrom<string>(GUIDE_BLINK, GUIDE_SENSOR_MONITORING, '(led-on)'), fc.array(fc.record({ pos: fc.nat(), ins: fc.constantFrom(...FRAGMENTS) }), { maxLength: 6 }))
  .map(([seed, edits]) => edits.reduce((s, e) => { const at = e.pos % (s.length + 1); return s.slice(0, at) + e.ins + s.slice(at); }, seed));
const downlink = fc.oneof(
  fc.tuple(program, fc.boolean()).map(([code, autoStart]) => ({ topic: DOWN[0], payload: JSON.stringify(buildLoadMessage({ programId: 'p', steelCode: code || '()', version: '1', autoStart })) })),
  fc.constantFrom(...DOWN).map((topic) => ({ topic, payload: JSON.stringify(buildRequest('execute', 'p')) })),
  fc.record({ topic: fc.constantFrom(...DOWN), payload: fc.oneof(fc.json(), fc.string()) }),
);

const deviceTarget: FuzzTarget<Array<{ topic: string; payload: string }>> = {
  name: 'steel-sim-device',
  arbitrary: fc.array(downlink, { minLength: 1, maxLength: 4 }),
  check(messages) {
    const d = new SteelDevice({ id: 'steel-001', maxSteps: 5000 });
    for (const m of messages) {
      for (const p of d.handle(m.topic, m.payload, 1_767_225_600_000)) {
        const parse = p.topic.endsWith('/status/report') ? parseStatusReport : p.topic.endsWith('/full-report') ? parseFullReport : p.topic.endsWith('/result') ? parseResult : null;
        if (parse && !parse(p.payload).ok) return `${p.topic}: the device sent what the contract refuses: ${p.payload.slice(0, 200)}`;
      }
    }
    return null;
  },
};

export const targets: FuzzTarget[] = [uplinkTarget as FuzzTarget, deviceTarget as FuzzTarget];

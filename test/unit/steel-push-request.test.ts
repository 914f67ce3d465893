/**
 * A fleet-steel command message read against the node's configuration: the message's fields win,
 * the node fills the rest, and each refusal names the field.
 */
import * as assert from 'node:assert/strict';

import { parseSteelPushConfig, type SteelPushConfig } from '../../lib/steel/push-config';
import { readPushRequest } from '../../lib/steel/push-request';
import { compileSelector } from '../../lib/steel/selector';
import { GUIDE_BLINK } from './steel-fixtures';

function config(def: Record<string, unknown>): SteelPushConfig {
  const c = parseSteelPushConfig({ programId: 'blink', version: '1.0.0', source: GUIDE_BLINK, targetType: 'broadcast', ...def }, compileSelector);
  if (!c.ok) throw new Error(`${c.field}: ${c.reason}`);
  return c.value;
}
const noFile = (file: string): string => { throw new Error(`no file ${file} here`); };

describe('fleet-steel command messages', () => {
  it('takes the node\'s program, version and targets when the message names none', () => {
    const r = readPushRequest({}, config({}), noFile);
    assert.ok(r.ok);
    assert.equal(r.value.programId, 'blink');
    assert.equal(r.value.version, '1.0.0');
    assert.equal(r.value.action, 'load');
    assert.equal(r.value.source, GUIDE_BLINK);
    assert.deepEqual(r.value.targets, { type: 'broadcast' });
  });

  it('lets the message name the action, targets, program and version', () => {
    const r = readPushRequest({ action: 'STOP', targets: ['steel-001', 'steel-002'], programId: 'monitor', version: '2.0.0', force: true }, config({}), noFile);
    assert.ok(r.ok);
    assert.equal(r.value.action, 'stop');
    assert.deepEqual(r.value.targets, { type: 'devices', devices: ['steel-001', 'steel-002'] });
    assert.equal(r.value.programId, 'monitor');
    assert.equal(r.value.version, '2.0.0');
    assert.equal(r.value.source, undefined, 'only a load carries a source');
    assert.equal(r.value.force, true);
  });

  it('names the field at fault', () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
      [{ action: 'explode' }, {}, 'msg.action'],
      [{ targets: 42 }, {}, 'msg.targets'],
      [{}, { targetType: 'device', target: '' }, 'msg.targets'],
      [{ programId: 'has space' }, {}, 'programId'],
      [{ version: 'x'.repeat(65) }, {}, 'version'],
      [{ payload: 7 }, { sourceFrom: 'payload' }, 'msg.payload'],
      [{ file: 'missing.scm' }, { sourceFrom: 'file', file: 'other.scm' }, 'msg.file'],
      [{}, { sourceFrom: 'file', file: 'other.scm' }, 'file'],
      [{}, { programId: '' }, 'programId'],
    ];
    for (const [msg, def, field] of cases) {
      const r = readPushRequest(msg, config(def), noFile);
      assert.equal(r.ok, false, JSON.stringify(msg));
      if (!r.ok) assert.equal(r.field, field, JSON.stringify(msg));
    }
  });

  it('reads the program from the payload or a file when the node says so', () => {
    const p = readPushRequest({ payload: Buffer.from(GUIDE_BLINK) }, config({ sourceFrom: 'payload' }), noFile);
    assert.ok(p.ok);
    assert.equal(p.value.source, GUIDE_BLINK);
    const f = readPushRequest({ file: 'blink.scm' }, config({ sourceFrom: 'file', file: 'other.scm' }), (file) => (file === 'blink.scm' ? GUIDE_BLINK : ''));
    assert.ok(f.ok);
    assert.equal(f.value.source, GUIDE_BLINK);
  });
});

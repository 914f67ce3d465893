import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Journal } from '../../lib/store/journal';

describe('durable journal', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps committed values and deletions across a reopen', () => {
    const file = path.join(dir, 'state.jsonl');
    const j = Journal.open(file);
    j.set('a', { n: 1 });
    j.commit([['b', [1, 2]], ['c', 'x'], ['a', { n: 2 }]]);
    j.delete('c');
    j.close();
    const k = Journal.open(file);
    assert.deepEqual(Object.fromEntries(k.entries()), { a: { n: 2 }, b: [1, 2] });
    assert.equal(k.stats.damaged, 0);
    k.close();
  });

  it('drops a torn last line (a crash mid-write) and goes on appending after it', () => {
    const file = path.join(dir, 'state.jsonl');
    fs.writeFileSync(file, '{"k":"a","v":1}\n{"k":"b","v":2}\n{"k":"c","v":{"half');
    const j = Journal.open(file);
    assert.deepEqual(Object.fromEntries(j.entries()), { a: 1, b: 2 });
    assert.equal(j.stats.damaged, 1);
    j.set('d', 4);
    j.close();
    const k = Journal.open(file);
    assert.deepEqual(Object.fromEntries(k.entries()), { a: 1, b: 2, d: 4 });
    assert.equal(k.stats.damaged, 0);
    k.close();
  });

  it('skips damaged lines in the middle and keeps the rest', () => {
    const file = path.join(dir, 'state.jsonl');
    fs.writeFileSync(file, '{"k":"a","v":1}\nnot json\n[1]\n{"k":5,"v":1}\n{"k":"b"}\n{"k":"c","v":3}\n');
    const j = Journal.open(file);
    assert.deepEqual(Object.fromEntries(j.entries()), { a: 1, c: 3 });
    assert.equal(j.stats.damaged, 4);
    j.close();
  });

  it('a value is copied at commit: later mutation of the object changes nothing', () => {
    const j = Journal.open(path.join(dir, 's.jsonl'));
    const v = { n: 1 };
    j.set('a', v);
    v.n = 99;
    assert.deepEqual(j.get('a'), { n: 1 });
    j.close();
  });

  it('refuses a value that is not JSON data and applies nothing of that batch', () => {
    const j = Journal.open(path.join(dir, 's.jsonl'));
    assert.throws(() => j.commit([['a', 1], ['b', () => 1]]), /not JSON data/);
    assert.equal(j.has('a'), false);
    j.close();
  });

  it('"__proto__" is an ordinary key and value field', () => {
    const file = path.join(dir, 's.jsonl');
    const j = Journal.open(file);
    j.set('__proto__', JSON.parse('{"__proto__":{"polluted":1}}'));
    j.close();
    const k = Journal.open(file);
    assert.equal(k.has('__proto__'), true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    k.close();
  });

  it('compacts when the log outgrows the live data, keeping every live value', () => {
    const file = path.join(dir, 's.jsonl');
    const j = Journal.open(file, { compactRatio: 2 });
    const big = 'x'.repeat(4096);
    for (let i = 0; i < 600; i++) j.set(`k${i % 10}`, { i, big });
    assert.ok(j.stats.compactions >= 1, 'compacted');
    assert.ok(fs.statSync(file).size < 3 * 10 * 4200 + (1 << 20));
    j.close();
    const k = Journal.open(file);
    assert.equal(k.size, 10);
    assert.equal((k.get('k9') as { i: number }).i, 599);
    k.close();
  });
});

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

  it('a background commit is in the file when it returns; its fdatasync runs off the loop, one for a burst', async () => {
    const file = path.join(dir, 'b.jsonl');
    const j = Journal.open(file);
    const before = j.stats.syncs;
    for (let i = 0; i < 20; i++) j.commit([[`k${i}`, i]], 'background');
    const crashed = Journal.open(file);
    assert.equal(crashed.size, 20, 'a process crash now loses nothing: the lines are written');
    crashed.close();
    assert.ok(j.stats.syncs - before <= 2, `one sync running and one more queued, not 20 (${j.stats.syncs - before})`);
    await new Promise((r) => setTimeout(r, 50));
    j.commit([['k0', 'x']]);
    assert.equal(j.stats.syncs - before, 3, 'a sync commit still syncs on the spot');
    j.close();
  });

  describe('background commits with a waiter (issue 16: a sweep slice sends once synced, off the loop)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeFs = require('node:fs') as typeof fs;
    /** Holds every off-loop fdatasync until the test lets it go (with an error, when given). */
    function holdSyncs(): { held: Array<(err?: Error) => void>; restore: () => void } {
      const real = nodeFs.fdatasync;
      const held: Array<(err?: Error) => void> = [];
      nodeFs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        held.push((err) => (err ? cb(err) : real(fd, cb)));
      }) as typeof nodeFs.fdatasync;
      return { held, restore: () => { nodeFs.fdatasync = real; } };
    }
    const tick = () => new Promise((r) => setTimeout(r, 20));

    it('hears only once an fdatasync begun after its write returns, in the order of the writes', async () => {
      const j = Journal.open(path.join(dir, 'w.jsonl'));
      const h = holdSyncs();
      const heard: string[] = [];
      try {
        j.commit([['a', 1]], 'background', (err) => heard.push(`a ${err}`));
        j.commit([['b', 2]], 'background', (err) => heard.push(`b ${err}`));
        assert.equal(h.held.length, 1, 'one sync runs; the second write waits for the next');
        assert.equal(j.syncing, true);
        await tick();
        assert.deepEqual(heard, [], 'nothing heard before a sync returned');
        h.held.shift()!();
        await tick();
        assert.deepEqual(heard, ['a null'], 'the first sync covered only the write before it began');
        assert.equal(h.held.length, 1, 'and one more began for the second');
        h.held.shift()!();
        await tick();
        assert.deepEqual(heard, ['a null', 'b null']);
        assert.equal(j.syncing, false);
      } finally {
        h.restore();
        j.close();
      }
    });

    it('a sync commit tells the waiters of earlier writes before it returns, and a later sync does not tell them twice', async () => {
      const j = Journal.open(path.join(dir, 'w.jsonl'));
      const h = holdSyncs();
      const heard: string[] = [];
      try {
        j.commit([['a', 1]], 'background', () => heard.push('a'));
        j.commit([['b', 2]]);
        heard.push('b returned');
        assert.deepEqual(heard, ['a', 'b returned']);
        h.held.shift()!();
        await tick();
        assert.deepEqual(heard, ['a', 'b returned']);
      } finally {
        h.restore();
        j.close();
      }
    });

    it('a failed fdatasync reaches its waiters as an error; the journal goes on, and a waiter on nothing new hears at once', async () => {
      const j = Journal.open(path.join(dir, 'w.jsonl'));
      const h = holdSyncs();
      const heard: string[] = [];
      try {
        j.commit([['a', 1]], 'background', (err) => heard.push(`a ${err?.message}`));
        h.held.shift()!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
        await tick();
        assert.deepEqual(heard, ['a EIO: i/o error, fdatasync']);
        h.restore();
        j.commit([['b', 2]], 'background', (err) => heard.push(`b ${err}`));
        await tick();
        assert.deepEqual(heard, ['a EIO: i/o error, fdatasync', 'b null']);
        j.commit([], 'background', (err) => heard.push(`nothing ${err}`));
        assert.equal(heard[2], 'nothing null', 'everything written is durable: heard at once');
      } finally {
        h.restore();
        j.close();
      }
    });

    it('a sync of the old file failing after a compaction swapped it is no error: the new file was synced with the write in it', async () => {
      const j = Journal.open(path.join(dir, 'w.jsonl'));
      const h = holdSyncs();
      const heard: string[] = [];
      try {
        j.commit([['a', 1]], 'background', (err) => heard.push(`a ${err}`));
        j.compact();
        h.held.shift()!(Object.assign(new Error('EBADF: bad file descriptor, fdatasync'), { code: 'EBADF' }));
        await tick();
        assert.deepEqual(heard, ['a null']);
      } finally {
        h.restore();
        j.close();
      }
    });

    it('a close syncs and tells the waiters still waiting; the commits are in the file', async () => {
      const file = path.join(dir, 'w.jsonl');
      const j = Journal.open(file);
      const h = holdSyncs();
      const heard: string[] = [];
      try {
        j.commit([['a', 1]], 'background', (err) => heard.push(`a ${err}`));
        j.close();
        assert.deepEqual(heard, ['a null']);
      } finally {
        h.restore();
      }
      const k = Journal.open(file);
      assert.equal(k.get('a'), 1);
      k.close();
    });
  });

  describe('compaction in slices (issue 16: no periodic job holds the loop)', () => {
    /** A defer that queues the slices so the test runs them one at a time, committing in between. */
    const queued = (): { defer: (f: () => void) => void; run: () => boolean; count: () => number } => {
      const q: Array<() => void> = [];
      let n = 0;
      return { defer: (f) => { q.push(f); }, run: () => { const f = q.shift(); if (!f) return false; n++; f(); return true; }, count: () => n };
    };
    /** Runs the queued slices, waiting for the off-loop sync between them, until the compaction is done. */
    const drain = async (j: Journal, d: ReturnType<typeof queued>, between: () => void = () => undefined): Promise<void> => {
      for (let waited = 0; j.compactingInSlices && waited < 400;) {
        if (d.run()) { between(); continue; }
        await new Promise((r) => setTimeout(r, 5));
        waited++;
      }
    };
    /** A journal of 1,000 live keys written four times over: the last commit starts a sliced compaction. */
    const started = (): { file: string; j: Journal; d: ReturnType<typeof queued> } => {
      const file = path.join(dir, 's.jsonl');
      const j = Journal.open(file);
      const d = queued();
      j.compactInSlices(d.defer, 0);
      const big = 'x'.repeat(1024);
      for (let r = 0; r < 4; r++) j.commit(Array.from({ length: 1000 }, (_, i): [string, unknown] => [`k${i}`, { r, big }]));
      return { file, j, d };
    };

    it('takes several slices, and commits made meanwhile (updates and deletes) are all in the result', async () => {
      const { file, j, d } = started();
      assert.equal(j.compactingInSlices, true, 'started by the commit that passed the ratio');
      assert.equal(j.stats.compactions, 0, 'nothing rewritten inside the commit');
      d.run();
      j.commit([['k1', { r: 'during' }], ['k999', undefined], ['new', 1]]);
      await drain(j, d, () => j.commit([['k2', { r: d.count() }]]));
      assert.ok(d.count() > 1, `in slices (${d.count()})`);
      assert.equal(j.compactingInSlices, false);
      assert.equal(j.stats.compactions, 1);
      const want = Object.fromEntries(j.entries());
      assert.ok(fs.statSync(file).size < 2 * 1000 * 1100, 'the file shrank to about the live data');
      j.close();
      const k = Journal.open(file);
      assert.deepEqual(Object.fromEntries(k.entries()), want);
      assert.deepEqual(k.get('k1'), { r: 'during' });
      assert.equal(k.has('k999'), false);
      assert.equal(k.get('new'), 1);
      k.close();
    });

    it('a crash (or close) mid-compaction leaves the old file complete, and no temporary file behind on close', async () => {
      const { file, j, d } = started();
      d.run();
      j.commit([['k3', 'after start']]);
      const want = Object.fromEntries(j.entries());
      // A crash: the process is gone with the compaction half done; a reopen reads the old file.
      const crashed = Journal.open(file);
      assert.deepEqual(Object.fromEntries(crashed.entries()), want);
      crashed.close();
      j.close();
      assert.equal(fs.existsSync(`${file}.tmp`), false);
      // The first slice's write was still running off the loop: whatever it queues after close does nothing.
      await new Promise((r) => setTimeout(r, 50));
      while (d.run());
      assert.equal(j.stats.compactions, 0, 'a slice after close does nothing');
      assert.equal(fs.existsSync(`${file}.tmp`), false);
      assert.deepEqual(Object.fromEntries(Journal.open(file).entries()), want);
    });

    /** Sizes of the writes off the loop (fs.write) seen by the last onLoopWrites. */
    const offLoop: number[] = [];
    /** Records the size of every writeSync while `f` runs, and of every fs.write in `offLoop` (the journal's module reads fs at each call). */
    const onLoopWrites = async (f: () => Promise<void>): Promise<number[]> => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const nodeFs = require('node:fs') as typeof fs;
      const real = nodeFs.writeSync;
      const realAsync = nodeFs.write;
      const sizes: number[] = [];
      nodeFs.writeSync = ((fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
        sizes.push(typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength);
        return (real as (...a: unknown[]) => number)(fd, data, ...rest);
      }) as typeof nodeFs.writeSync;
      nodeFs.write = ((fd: number, data: NodeJS.ArrayBufferView, ...rest: unknown[]) => {
        offLoop.push(data.byteLength);
        return (realAsync as (...a: unknown[]) => void)(fd, data, ...rest);
      }) as typeof nodeFs.write;
      try { await f(); } finally { nodeFs.writeSync = real; nodeFs.write = realAsync; }
      return sizes;
    };

    it('copies a large tail of commits made meanwhile off the loop: no write on the loop is larger than a slice of the snapshot, and the result has every commit', async () => {
      const { file, j, d } = started();
      const sizes = await onLoopWrites(async () => {
        // Run the snapshot's slices, committing 120 KiB between each two (the tail, over 500 KiB in all).
        let r = 0;
        const big = 'y'.repeat(1000);
        await drain(j, d, () => { for (let c = 0; c < 4 && r < 800; c++) j.commit(Array.from({ length: 30 }, (): [string, unknown] => [`t${r % 50}`, { r: r++, big }])); });
        assert.ok(r * 1000 > 500 * 1024, `committed during the compaction: ${r} records`);
      });
      assert.equal(j.stats.compactions, 1);
      // A slice of the snapshot is 256 records of about 1 KiB (its time budget is 0 here); the tail alone was over 500 KiB.
      assert.ok(sizes.length > 0 && sizes.every((n) => n <= 300 * 1024), `writes on the loop: ${sizes.filter((n) => n > 64 * 1024).join(', ')}`);
      // The tail went off the loop in pieces of about 256 KiB (a commit here is 30 KiB): nothing joins and encodes it all in one turn.
      // One commit is never split: the setup's last 1,000-record commit (1 MiB), made as the compaction began, is one piece.
      assert.ok(offLoop.reduce((a, n) => a + n, 0) > 500 * 1024, `written off the loop: ${offLoop.join(', ')}`);
      const setupCommit = 1000 * 1060;
      assert.ok(offLoop.every((n) => n <= Math.max(setupCommit, 256 * 1024 + 32 * 1024)), `pieces off the loop: ${offLoop.join(', ')}`);
      assert.ok(offLoop.filter((n) => n > 256 * 1024 + 32 * 1024).length <= 1, `pieces off the loop: ${offLoop.join(', ')}`);
      const want = Object.fromEntries(j.entries());
      j.close();
      const k = Journal.open(file);
      assert.deepEqual(Object.fromEntries(k.entries()), want);
      k.close();
    });

    it('a close while a write runs off the loop keeps that fd open until the write returns, then closes it; the old file stays complete', async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const nodeFs = require('node:fs') as typeof fs;
      const real = { write: nodeFs.write, closeSync: nodeFs.closeSync, close: nodeFs.close };
      const held: Array<() => void> = [];
      const writing = new Set<number>();
      const closedSync: number[] = [];
      const closedLater: number[] = [];
      // Writes off the loop wait until the test lets them go: the close below comes while one runs.
      nodeFs.write = ((fd: number, ...rest: unknown[]) => { writing.add(fd); held.push(() => (real.write as (...a: unknown[]) => void)(fd, ...rest)); }) as typeof nodeFs.write;
      nodeFs.closeSync = ((fd: number) => { closedSync.push(fd); real.closeSync(fd); }) as typeof nodeFs.closeSync;
      nodeFs.close = ((fd: number, cb?: (err: NodeJS.ErrnoException | null) => void) => { closedLater.push(fd); real.close(fd, cb ?? (() => undefined)); }) as typeof nodeFs.close;
      try {
        const { file, j, d } = started();
        d.run();
        assert.equal(held.length, 1, 'the first slice of the snapshot is being written off the loop');
        const [fd] = [...writing];
        j.commit([['k5', 'while writing']]);
        const want = Object.fromEntries(j.entries());
        j.close();
        assert.equal(closedSync.includes(fd), false, 'not closed under the running write');
        assert.equal(fs.existsSync(`${file}.tmp`), false, 'the temporary file is gone at once');
        held.shift()!();
        for (let i = 0; i < 100 && !closedLater.includes(fd); i++) await new Promise((r) => setTimeout(r, 5));
        assert.equal(closedLater.includes(fd), true, 'closed once the write returned');
        assert.equal(held.length, 0, 'nothing more written after the close');
        assert.deepEqual(Object.fromEntries(Journal.open(file).entries()), want);
      } finally {
        Object.assign(nodeFs, real);
      }
    });

    it('a compaction whose last open fails leaves commits going to the file a restart reads', async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const nodeFs = require('node:fs') as typeof fs;
      const realOpen = nodeFs.openSync;
      const { file, j, d } = started();
      // Every open for appending fails from here on: the one that would take over the compacted file.
      nodeFs.openSync = ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
        if (flags === 'a') throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
        return realOpen(p, flags ?? 'r', mode);
      }) as typeof nodeFs.openSync;
      try {
        await drain(j, d);
      } finally {
        nodeFs.openSync = realOpen;
      }
      assert.equal(j.compactingInSlices, false, 'given up');
      assert.equal(j.stats.compactions, 0);
      j.commit([['after', 'the failed compaction']]);
      const want = Object.fromEntries(j.entries());
      j.close();
      const k = Journal.open(file);
      assert.deepEqual(Object.fromEntries(k.entries()), want);
      assert.equal(k.get('after'), 'the failed compaction');
      k.close();
    });

    it('compact() in one call still works while a sliced one is under way', async () => {
      const { file, j, d } = started();
      d.run();
      j.compact();
      assert.equal(j.compactingInSlices, false);
      while (d.run());
      await new Promise((r) => setTimeout(r, 50));
      while (d.run());
      assert.equal(j.stats.compactions, 1);
      j.close();
      assert.equal(Journal.open(file).size, 1000);
    });
  });
});


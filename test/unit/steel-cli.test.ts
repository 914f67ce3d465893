/** esp32-fleet-steel, spawned as a user or a git hook would run it. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'lib', 'steel', 'cli.js');

const run = (args: string[], input?: string) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: 20_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
};

describe('esp32-fleet-steel check (spawned)', function () {
  this.timeout(30_000);
  let dir: string;
  const file = (name: string, text: string): string => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steel-cli-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and prints nothing for clean programs', () => {
    const a = file('a.scm', '(define (blink) (led-on) (sleep 1) (led-off))\n(blink)\n');
    const b = file('b.scm', '(log "info" "hi")');
    assert.deepEqual(run(['check', a, b]), { status: 0, out: '', err: '' });
  });

  it('prints FILE:LINE:COL: error|warning: RULE: message and exits 1 on errors', () => {
    const a = file('a.scm', '(led-on)\n  (blink-twice)\n(eval 1)\n');
    const r = run(['check', a]);
    assert.equal(r.status, 1);
    assert.deepEqual(r.out.trim().split('\n'), [
      `${a}:2:4: error: unknown-function: 'blink-twice' is not defined by the program, bound locally, a Steel builtin or a device function`,
      `${a}:3:2: error: forbidden: 'eval' is not allowed in a device program`,
    ]);
  });

  it('reports reader errors with RULE syntax', () => {
    const a = file('a.scm', '(define (f x)\n  [+ x 1))\n');
    const r = run(['check', a]);
    assert.equal(r.status, 1);
    assert.equal(r.out, `${a}:2:9: error: syntax: mismatched ')': expected ']' to close the '[' opened at 2:3\n`);
  });

  it('warnings alone exit 0', () => {
    const a = file('a.scm', '(eval 1)\n(while #t (led-on))\n');
    const r = run(['check', '--warn-forbidden', '--warn-loops', a]);
    assert.equal(r.status, 0);
    assert.deepEqual(r.out.trim().split('\n').map((l) => l.replace(`${a}:`, '').split(': ').slice(0, 3).join(': ')), ['1:2: warning: forbidden', '2:1: warning: unbounded-loop']);
  });

  it('--syntax-only runs the reader alone', () => {
    const a = file('a.scm', '(frobnicate (eval 1))');
    assert.equal(run(['check', '--syntax-only', a]).status, 0);
    assert.equal(run(['check', a]).status, 1);
    const b = file('b.scm', '"\\q"');
    assert.equal(run(['check', '--syntax-only', b]).out, `${b}:1:2: error: syntax: invalid escape '\\q'\n`);
  });

  it('--api narrows or widens the device functions; --profile picks a built-in one', () => {
    const a = file('a.scm', '(led-on)\n(log-info "x")\n');
    const api = file('api.json', '["led-on", "log-info"]');
    assert.equal(run(['check', '--api', api, a]).status, 0);
    const narrow = file('narrow.json', '{"functions": ["log-info"]}');
    const r = run(['check', '--api', narrow, a]);
    assert.equal(r.status, 1);
    assert.match(r.out, /:1:2: error: unknown-function: 'led-on'/);
    assert.equal(run(['check', '--profile', 'aws-iot-steel', a]).status, 0);
  });

  it('limits from the command line, --hints, and - for standard input', () => {
    const r = run(['check', '--max-bytes', '4', '--hints', '-'], '(led-on)');
    assert.equal(r.status, 1);
    assert.match(r.out, /^-:1:1: error: size: program is 8 bytes, over the limit of 4\n {2}hint: /);
    assert.equal(run(['check', '--max-depth', '1', '-'], '((lambda () 1))').status, 1);
    assert.equal(run(['check', '--max-forms', '1', '-'], '1 2').status, 1);
  });

  it('exits 2 on a usage problem', () => {
    const a = file('a.scm', '(led-on)');
    for (const args of [[], ['lint', a], ['check'], ['check', '--nope', a], ['check', path.join(dir, 'missing.scm')],
      ['check', '--api', path.join(dir, 'missing.json'), a], ['check', '--api', file('bad.json', '{"x":1}'), a],
      ['check', '--max-depth', '0', a], ['check', '--profile', 'nope', a]]) {
      const r = run(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.out, '');
      assert.match(r.err, /usage: esp32-fleet-steel check/);
    }
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.out, /exit status: 0 no errors, 1 errors found, 2 usage problem/);
  });
});

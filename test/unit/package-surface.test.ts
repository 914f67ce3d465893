/**
 * What a user installs: `npm pack --dry-run` lists no tests, benches, sources or source maps, and
 * the exports map gives the domain API as the main entry and the simulator as its own.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');

interface PackEntry { path: string }
interface Pack { files: PackEntry[] }
interface Pkg {
  main: string;
  exports: Record<string, string>;
  bin: Record<string, string>;
  'node-red': { nodes: Record<string, string> };
}

describe('package surface', function () {
  this.timeout(60_000);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Pkg;
  // Packing must not run `prepare` (the build) from inside the test run: --ignore-scripts is enough
  // for npm 11, and FLEET_PACK_LIST makes scripts/prepare.js a no-op for npm 10, which runs it anyway.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, FLEET_PACK_LIST: '1' } });
  const files = (JSON.parse(out) as Pack[])[0].files.map((f) => f.path);

  it('ships no tests, benches, TypeScript sources or source maps', () => {
    const unwanted = files.filter((f) => /^dist\/(test|bench)\//.test(f) || /(^|\/)test\//.test(f) || /^bench\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.map'));
    assert.deepEqual(unwanted, []);
    assert.ok(!files.some((f) => f.startsWith('lib/') || f.startsWith('nodes/')), 'sources shipped');
  });

  it('ships every file Node-RED loads for each node: runtime, editor, catalog, help', () => {
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const dir = path.posix.dirname(js);
      for (const f of [js, `${dir}/${type}.html`, `${dir}/locales/en-US/${type}.json`, `${dir}/locales/en-US/${type}.html`]) assert.ok(files.includes(f), `${f} not shipped`);
    }
    for (const f of fs.readdirSync(path.join(root, 'flows'))) assert.ok(files.includes(`examples/${f}`), `example ${f} not shipped`);
    for (const bin of Object.values(pkg.bin)) assert.ok(files.includes(bin), `bin ${bin} not shipped`);
  });

  it('ships everything each runtime file requires', () => {
    const shipped = new Set(files);
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const text = fs.readFileSync(path.join(root, f), 'utf8');
      for (const m of text.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(f), m[1]));
        const ok = [target, `${target}.js`, `${target}/index.js`].some((t) => shipped.has(t));
        assert.ok(ok, `${f} requires ${m[1]}, which is not shipped`);
      }
    }
  });

  it('exports the domain API as the main entry and the simulator as its own entry', () => {
    assert.equal(pkg.main, 'dist/lib/index.js');
    assert.equal(pkg.exports['.'], './dist/lib/index.js');
    assert.ok(pkg.exports['./simulator'], 'no ./simulator entry');
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (target.includes('*')) continue;
      assert.ok(files.includes(target.replace(/^\.\//, '')), `export ${entry} → ${target} not shipped`);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sim = require(path.join(root, pkg.exports['./simulator'])) as Record<string, unknown>;
    assert.equal(typeof sim.VirtualFleet, 'function');
  });
});

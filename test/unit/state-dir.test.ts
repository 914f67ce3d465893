/** The one rule for where a node's durable state lives (nodes/shared/state-dir.ts). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { NodeAPI } from 'node-red';

import { releaseStateFile, stateFile } from '../../nodes/shared/state-dir';

describe('state-dir: one state file rule for every node', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-dir-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const RED = { settings: { userDir: dir } } as unknown as NodeAPI;

  it('is <userDir>/fleet-state/<type>-<id>.jsonl, FLEET_STATE_DIR first', () => {
    assert.equal(stateFile(RED, 'fleet-health', 'ab12', {}), path.join(dir, 'fleet-state', 'fleet-health-ab12.jsonl'));
    assert.equal(stateFile(RED, 'fleet-health', 'ab12', { FLEET_STATE_DIR: '/srv/s' }), path.join('/srv/s', 'fleet-health-ab12.jsonl'));
  });

  it('finds a fleet-alerts journal an earlier release wrote with the id\'s dots replaced', () => {
    const env = { FLEET_STATE_DIR: dir };
    assert.equal(stateFile(RED, 'fleet-alerts', 'a1b2.c3', env), path.join(dir, 'fleet-alerts-a1b2.c3.jsonl'));
    fs.writeFileSync(path.join(dir, 'fleet-alerts-a1b2_c3.jsonl'), '');
    assert.equal(stateFile(RED, 'fleet-alerts', 'a1b2.c3', env), path.join(dir, 'fleet-alerts-a1b2_c3.jsonl'));
    fs.writeFileSync(path.join(dir, 'fleet-alerts-a1b2.c3.jsonl'), '');
    assert.equal(stateFile(RED, 'fleet-alerts', 'a1b2.c3', env), path.join(dir, 'fleet-alerts-a1b2.c3.jsonl'), 'the current name wins once it exists');
  });

  it('without a userDir: a fresh temporary directory per node, removed on release; a removed node takes its file', () => {
    const none = { settings: {} } as unknown as NodeAPI;
    const a = stateFile(none, 't', 'n', {});
    const b = stateFile(none, 't', 'n', {});
    assert.notEqual(path.dirname(a), path.dirname(b));
    fs.writeFileSync(a, 'x');
    releaseStateFile(a, false);
    assert.equal(fs.existsSync(path.dirname(a)), false);
    releaseStateFile(b, false);
    const kept = path.join(dir, 'kept.jsonl');
    fs.writeFileSync(kept, 'x');
    releaseStateFile(kept, false);
    assert.equal(fs.existsSync(kept), true, 'a restart keeps the state');
    releaseStateFile(kept, true);
    assert.equal(fs.existsSync(kept), false, 'a deleted node takes it');
  });
});

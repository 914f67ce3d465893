/**
 * Where a node keeps its durable state — the one rule every node uses: `<userDir>/fleet-state/<type>-<node id>.jsonl`,
 * or under `FLEET_STATE_DIR` when set. Without either (the test helper has no userDir) each call gets a fresh
 * temporary directory: it works, nothing survives the process, and `releaseStateFile` removes it on close.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { NodeAPI } from 'node-red';

/** Ids are Node-RED's hex ids or names a flow author chose: the file name keeps to safe characters. */
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
/** fleet-alerts before the kit also replaced '.' (ids such as "a1b2c3.d4e5" from older Node-RED). */
const legacySafe = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_');

const scratch = new Set<string>();

export function stateFile(RED: NodeAPI, type: string, nodeId: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = `${safe(type)}-${safe(nodeId)}.jsonl`;
  let userDir: unknown;
  try { userDir = (RED.settings as unknown as { userDir?: unknown }).userDir; } catch { userDir = undefined; }
  const dir = env.FLEET_STATE_DIR ? env.FLEET_STATE_DIR : typeof userDir === 'string' && userDir !== '' ? path.join(userDir, 'fleet-state') : null;
  if (!dir) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-state-'));
    scratch.add(tmp);
    return path.join(tmp, name);
  }
  const file = path.join(dir, name);
  const legacy = path.join(dir, `${safe(type)}-${legacySafe(nodeId)}.jsonl`);
  // A journal an earlier release wrote under the older name is still this node's state.
  return legacy !== file && !fs.existsSync(file) && fs.existsSync(legacy) ? legacy : file;
}

/** On close: a node deleted from the flow takes its state with it; a temporary directory always goes. */
export function releaseStateFile(file: string, removed: boolean): void {
  const dir = path.dirname(file);
  if (scratch.delete(dir)) { fs.rmSync(dir, { recursive: true, force: true }); return; }
  if (removed) fs.rmSync(file, { force: true });
}

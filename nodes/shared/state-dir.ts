/**
 * Where a node keeps its durable journal: `<userDir>/fleet-state/<type>-<node id>.jsonl`, or under
 * `FLEET_STATE_DIR` when set. Without either (the test helper has no userDir) each node instance
 * gets a fresh temporary directory: it works, but nothing survives the process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { NodeAPI } from 'node-red';

export interface StateFile {
  readonly file: string;
  /** False for a temporary directory: state is lost with the process. */
  readonly durable: boolean;
  /** Removes a temporary directory (nothing for a real one). */
  cleanup(): void;
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

export function stateFile(RED: NodeAPI, type: string, nodeId: string, env: NodeJS.ProcessEnv = process.env): StateFile {
  const name = `${safe(type)}-${safe(nodeId)}.jsonl`;
  let userDir: unknown;
  try { userDir = (RED.settings as unknown as { userDir?: unknown }).userDir; } catch { userDir = undefined; }
  const dir = env.FLEET_STATE_DIR ? env.FLEET_STATE_DIR : typeof userDir === 'string' && userDir !== '' ? path.join(userDir, 'fleet-state') : null;
  if (dir) return { file: path.join(dir, name), durable: true, cleanup: () => undefined };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-state-'));
  return { file: path.join(tmp, name), durable: false, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child started `detached` (npm start: its broker, fleet and Node-RED are one process
 * group): SIGINT to the group, SIGKILL after 10 s if it is still there.
 */
export async function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-pid, 'SIGINT');
  const t = setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ } }, 10_000);
  await exited;
  clearTimeout(t);
}

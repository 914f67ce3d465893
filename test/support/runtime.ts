/**
 * Which runtimes a test run is on. `npm test` runs the suite twice: on this machine's Node with
 * Node-RED 4.1 (the devDependency), then through test/compat/run.sh on Node 22 with Node-RED 5 from
 * test/compat, where FLEET_COMPAT is set and test/compat/hook.js points every `node-red` require at 5.
 */
import path from 'node:path';

export const COMPAT_ENV = 'FLEET_COMPAT';

/** True in the compatibility pass (Node 22, Node-RED 5). */
export function compatPass(): boolean {
  return Boolean(process.env[COMPAT_ENV]);
}

/** The Node-RED version that `require('node-red')` gives this process (5 in the compatibility pass). */
export function nodeRedVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node-red/package.json') as { version: string }).version;
}

/** Where that Node-RED is installed: test/compat/node_modules in the compatibility pass. */
export function nodeRedDir(): string {
  return path.dirname(require.resolve('node-red/package.json'));
}

/** "Node-RED 4.1.15 on Node v20.20.2": for test titles and failure messages. */
export function runtimeLabel(): string {
  return `Node-RED ${nodeRedVersion()} on Node ${process.version}`;
}

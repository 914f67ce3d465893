/**
 * What a Steel program may call on the device besides Steel itself, and what it must not call.
 * The default device API is the one the fleet's Steel guide documents; a profile (a JSON file for
 * the CLI, a list for the module) narrows it to what one firmware version implements.
 */

/**
 * The documented device API. `get` is not in the issue's list but the device repository's
 * programming guide (mparkachov/aws-iot-steel production/docs/steel-programming-guide.md) reads
 * every `read-sensors`/`device-info`/`memory-info` result with `(get value 'key)`, and the fleet
 * guide's sensor-monitoring program does too, so the default keeps it.
 */
export const DEFAULT_DEVICE_API: readonly string[] = [
  'led-on', 'led-off', 'led-state', 'sleep', 'read-sensors', 'device-info', 'uptime', 'memory-info',
  'mqtt-publish', 'shadow-update', 'log', 'store', 'load', 'delete', 'set-timer', 'cancel-timer',
  'schedule', 'register-event-handler', 'emit-event', 'current-time', 'json-encode', 'json-decode',
  'format', 'get',
];

/**
 * What mparkachov/aws-iot-steel's own runtime adds on top (the Steel preludes it loads in
 * aws-iot-core/src/steel_runtime.rs register_rust_functions and embedded_steel_runtime.rs
 * register_embedded_functions): leveled logging and two helpers. A profile for that firmware is
 * DEFAULT_DEVICE_API plus these.
 */
export const AWS_IOT_STEEL_PRELUDE: readonly string[] = ['log-error', 'log-warn', 'log-info', 'log-debug', 'repeat', 'blink-led'];

/** Named profiles the CLI's --profile and the node can pick. */
export const DEVICE_PROFILES: ReadonlyMap<string, readonly string[]> = new Map([
  ['default', DEFAULT_DEVICE_API],
  ['aws-iot-steel', [...DEFAULT_DEVICE_API, ...AWS_IOT_STEEL_PRELUDE]],
]);

/**
 * Calls a device program has no business making: evaluation of code built at run time, processes,
 * the file system and the network (the device talks to the fleet through its own API only). Taken
 * from the registrations of mattwparas/steel crates/steel-core/src/primitives/{fs,process,tcp,http,ports}.rs
 * and steel_vm (eval, eval!, expand!, load, require-builtin) at commit 09dc0287….
 */
export const FORBIDDEN_CALLS: readonly string[] = [
  // evaluation
  'eval', 'eval!', 'expand!', 'require-builtin', 'eval-string',
  // processes and environment
  'system', 'command', 'spawn-process', 'kill', 'wait', 'wait->stdout', 'which', 'exit', 'quit',
  'with-current-dir', 'with-env-var', 'without-env-var', 'with-cleared-env-vars', 'set-env-var!', 'env-var',
  // file system
  'open-input-file', 'open-output-file', 'read-to-string', 'delete-file!', 'delete-directory!', 'create-directory!',
  'copy-directory-recursively!', 'rename-file-or-directory!', 'change-current-directory!', 'current-directory',
  'read-dir', 'read-dir-iter', 'glob', 'canonicalize-path', 'file-metadata', 'path-exists?', 'is-file?', 'is-dir?',
  'download-file!',
  // network
  'tcp-connect', 'tcp-listen', 'tcp-accept', 'tcp-accept-with-addr', 'tcp-stream-reader', 'tcp-stream-writer',
  'tcp-stream-buffered-reader', 'tcp-shutdown!', 'http-parse-request', 'http-parse-response',
];

/** Parses a device-API profile: a JSON array of names, or `{ "functions": [...] }`. Throws a clear error. */
export function parseDeviceApi(text: string, what = 'device API profile'): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const list = Array.isArray(value) ? value
    : value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'functions') ? (value as { functions: unknown }).functions
      : undefined;
  if (!Array.isArray(list)) throw new Error(`${what} must be a JSON array of function names or {"functions": [...]}`);
  const out: string[] = [];
  list.forEach((n, i) => {
    if (typeof n !== 'string' || n.length === 0 || /[\s()[\]{}"';`,]/.test(n)) throw new Error(`${what}: entry ${i} is not a function name`);
    out.push(n);
  });
  return out;
}

#!/usr/bin/env node
/**
 * esp32-fleet-steel: checks Steel programs before they reach a device, for git hooks and CI.
 *   esp32-fleet-steel check [--syntax-only] [--api FILE] FILE…
 * One line per finding, `FILE:LINE:COL: error|warning: RULE: message`; exit 0 with no errors,
 * 1 with errors, 2 on a usage problem (unknown option, no file, unreadable file or profile).
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

import { checkProgram, DEFAULT_LIMITS, type CheckOptions, type Severity } from './checker';
import { DEVICE_PROFILES, parseDeviceApi } from './device-api';

export const USAGE = `usage: esp32-fleet-steel check [options] FILE…   (FILE - reads standard input)
  --syntax-only        run the reader alone (rule "syntax")
  --api FILE           device API profile: a JSON array of function names, or {"functions": [...]}
  --profile NAME       a built-in device API: default, aws-iot-steel (default plus that runtime's prelude)
  --max-bytes N        program size limit in bytes (default ${DEFAULT_LIMITS.maxBytes})
  --max-depth N        nesting limit (default ${DEFAULT_LIMITS.maxDepth})
  --max-forms N        top-level form limit (default ${DEFAULT_LIMITS.maxForms})
  --warn-forbidden     report forbidden calls (eval, system, files, network) as warnings
  --warn-loops         report unbounded loops as warnings
  --hints              print each finding's hint on the line after it
exit status: 0 no errors, 1 errors found, 2 usage problem`;

class UsageError extends Error {}

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(v)) throw new UsageError(`--${name} needs a positive integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Reads a file; `-` means standard input. */
  readonly readFile: (file: string) => string;
}

/** Runs the CLI on `argv` (without node and script); returns the exit status. */
export function runCli(argv: readonly string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'syntax-only': { type: 'boolean', default: false },
        api: { type: 'string' },
        profile: { type: 'string' },
        'max-bytes': { type: 'string' },
        'max-depth': { type: 'string' },
        'max-forms': { type: 'string' },
        'warn-forbidden': { type: 'boolean', default: false },
        'warn-loops': { type: 'boolean', default: false },
        hints: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`esp32-fleet-steel: ${(err as Error).message}`);
    io.err(USAGE);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { io.out(USAGE); return 0; }
  const [command, ...files] = positionals;
  try {
    if (command !== 'check') throw new UsageError(command === undefined ? 'no command given' : `unknown command ${JSON.stringify(command)}`);
    if (files.length === 0) throw new UsageError('check needs at least one FILE');
    let deviceApi: readonly string[] | undefined;
    if (values.profile !== undefined) {
      deviceApi = DEVICE_PROFILES.get(values.profile);
      if (!deviceApi) throw new UsageError(`unknown --profile ${JSON.stringify(values.profile)}; known: ${[...DEVICE_PROFILES.keys()].join(', ')}`);
      if (values.api !== undefined) throw new UsageError('give --api or --profile, not both');
    }
    if (values.api !== undefined) {
      let text: string;
      try { text = io.readFile(values.api); } catch (err) { throw new UsageError(`cannot read --api ${values.api}: ${(err as Error).message}`); }
      try { deviceApi = parseDeviceApi(text, `--api ${values.api}`); } catch (err) { throw new UsageError((err as Error).message); }
    }
    const warn = (b: boolean | undefined): Severity => (b ? 'warning' : 'error');
    const options: CheckOptions = {
      syntaxOnly: values['syntax-only'], deviceApi,
      maxBytes: positive('max-bytes', values['max-bytes']), maxDepth: positive('max-depth', values['max-depth']), maxForms: positive('max-forms', values['max-forms']),
      forbidden: warn(values['warn-forbidden']), unboundedLoops: warn(values['warn-loops']),
    };
    const sources = files.map((f) => {
      try { return io.readFile(f); } catch (err) { throw new UsageError(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); }
    });
    let errors = 0;
    files.forEach((file, i) => {
      const r = checkProgram(sources[i], options);
      errors += r.errors;
      for (const f of r.findings) {
        io.out(`${file}:${f.line}:${f.col}: ${f.severity}: ${f.rule}: ${f.message}`);
        if (values.hints) io.out(`  hint: ${f.hint}`);
      }
    });
    return errors > 0 ? 1 : 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`esp32-fleet-steel: ${err.message}`);
    io.err(USAGE);
    return 2;
  }
}

if (require.main === module) {
  const status = runCli(process.argv.slice(2), {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    // '-' is descriptor 0: /dev/stdin cannot be opened when standard input is a socket.
    readFile: (f) => fs.readFileSync(f === '-' ? 0 : f, 'utf8'),
  });
  process.exitCode = status;
}

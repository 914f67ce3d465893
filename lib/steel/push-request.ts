/**
 * A command message for fleet-steel read against the node's configuration: what the message names
 * wins, the node's settings fill the rest. Answers with the field at fault, never throws.
 */
import { programIdProblem } from '../../firmware/contract/steel';
import { MAX_SOURCE_CHARS, parseAction, targetsFromMessage, versionProblem, type Parsed, type SelectorCompiler, type SteelPushConfig } from './push-config';
import type { Command } from './pusher';

/** The fields of `msg` a command may carry. */
export interface PushRequestFields {
  readonly payload?: unknown;
  readonly action?: unknown;
  readonly targets?: unknown;
  readonly target?: unknown;
  readonly programId?: unknown;
  readonly programName?: unknown;
  readonly version?: unknown;
  readonly force?: unknown;
  readonly parameters?: unknown;
  readonly autoStart?: unknown;
  readonly file?: unknown;
}

/** Reads a program file (the node resolves it against Node-RED's user directory). */
export type ProgramFileReader = (file: string) => string;

const fail = (field: string, reason: string): { ok: false; field: string; reason: string } => ({ ok: false, field, reason });
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function programSource(m: PushRequestFields, config: SteelPushConfig, readFile: ProgramFileReader): Parsed<string> {
  if (config.sourceFrom === 'payload') {
    const p = m.payload;
    const s = typeof p === 'string' ? p : Buffer.isBuffer(p) ? p.toString('utf8') : null;
    if (s === null) return fail('msg.payload', 'expected the program as text');
    if (s.length > MAX_SOURCE_CHARS) return fail('msg.payload', `longer than ${MAX_SOURCE_CHARS} characters`);
    return { ok: true, value: s };
  }
  if (config.sourceFrom === 'file') {
    const file = text(m.file) ?? config.file;
    try {
      return { ok: true, value: readFile(file) };
    } catch (err) {
      return fail(text(m.file) ? 'msg.file' : 'file', err instanceof Error ? err.message : String(err));
    }
  }
  return { ok: true, value: config.source };
}

export function readPushRequest(m: PushRequestFields, config: SteelPushConfig, readFile: ProgramFileReader, compile?: SelectorCompiler): Parsed<Command> {
  const action = m.action === undefined ? { ok: true as const, value: config.action } : parseAction(m.action, 'msg.action');
  if (!action.ok) return action;
  const fromMsg = targetsFromMessage(m.targets ?? m.target, compile);
  if (fromMsg && !fromMsg.ok) return fromMsg;
  const targets = fromMsg?.ok ? fromMsg.value : config.targets;
  if (!targets) return fail('msg.targets', 'no targets: set them in the node or send msg.targets ("broadcast", a device id, a list, or {"selector": [...]})');
  const programId = text(m.programId) ?? config.programId;
  const idProblem = programIdProblem(programId);
  if (idProblem) return fail('programId', programId === '' ? 'no program id: set it in the node or send msg.programId' : idProblem);
  const version = text(m.version) ?? config.version;
  const vp = versionProblem(version);
  if (vp) return fail('version', vp);
  let source: string | undefined;
  if (action.value === 'load') {
    const s = programSource(m, config, readFile);
    if (!s.ok) return s;
    source = s.value;
  }
  return {
    ok: true,
    value: {
      action: action.value, programId, programName: typeof m.programName === 'string' ? m.programName : config.programName, version, source,
      autoStart: typeof m.autoStart === 'boolean' ? m.autoStart : config.autoStart, targets, force: m.force === true, parameters: m.parameters,
    },
  };
}

/**
 * The program registry: id, version, SHA-256 and source of every program the fleet pushes, and what
 * each device last reported running, so a program is not re-sent to a device that already runs that
 * version. `prepareLoad` is the one way to a load message: the program is checked first and a
 * rejected program never becomes a message. Optionally durable through the journal (written before
 * the message is handed out, so a restart does not forget what was sent).
 */
import {
  buildLoadMessage, steelChecksum, steelTopic, programIdProblem,
  type LoadInput, type SteelLoadMessage, type SteelStatusReport,
} from '../../firmware/contract/steel';
import { Journal } from '../store/journal';
import { checkProgram, type CheckOptions, type CheckResult } from './checker';

export interface SteelProgram {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly source: string;
  readonly registeredAt: number;
}

export interface DeviceProgramState {
  readonly version: string;
  readonly sha256: string;
  /** Last status the device reported for it, or 'Sent' before any report. */
  readonly status: string;
  readonly at: number;
}

export class SteelProgramRejected extends Error {
  override readonly name = 'SteelProgramRejected';
  constructor(readonly programId: string, readonly check: CheckResult) {
    const first = check.findings.find((f) => f.severity === 'error');
    super(`program ${programId} rejected: ${check.errors} error(s)${first ? `; first at ${first.line}:${first.col}: ${first.rule}: ${first.message}` : ''}`);
  }
}

/** Where the registry keeps its entries: a Journal, or a node's durable state store (the same calls). */
export interface ProgramStore {
  keys(): Iterable<string>;
  get(key: string): unknown;
  commit(changes: Iterable<readonly [string, unknown]>): void;
}

const PROGRAM = 'program:';
const DEVICE = 'device:';

export class SteelProgramRegistry {
  private readonly programs = new Map<string, SteelProgram>();
  /** device → program id → state */
  private readonly devices = new Map<string, Map<string, DeviceProgramState>>();

  private constructor(private readonly journal: ProgramStore | null, private readonly owned: Journal | null = null) {
    if (!journal) return;
    for (const k of [...journal.keys()]) {
      const v = journal.get(k);
      if (k.startsWith(PROGRAM)) this.programs.set(k.slice(PROGRAM.length), v as SteelProgram);
      else if (k.startsWith(DEVICE)) {
        const rest = k.slice(DEVICE.length);
        const cut = rest.indexOf('\u0000');
        if (cut > 0) this.deviceMap(rest.slice(0, cut)).set(rest.slice(cut + 1), v as DeviceProgramState);
      }
    }
  }

  static inMemory(): SteelProgramRegistry { return new SteelProgramRegistry(null); }
  static open(file: string): SteelProgramRegistry { const j = Journal.open(file); return new SteelProgramRegistry(j, j); }
  /** Over a store someone else opens and closes (fleet-steel's durable state). */
  static over(store: ProgramStore): SteelProgramRegistry { return new SteelProgramRegistry(store); }

  private deviceMap(device: string): Map<string, DeviceProgramState> {
    let m = this.devices.get(device);
    if (!m) { m = new Map(); this.devices.set(device, m); }
    return m;
  }

  get(id: string): SteelProgram | undefined { return this.programs.get(id); }
  list(): SteelProgram[] { return [...this.programs.values()]; }
  deviceState(device: string, id: string): DeviceProgramState | undefined { return this.devices.get(device)?.get(id); }

  /**
   * Records a program. The same id and version with different code is refused: a device that runs
   * the version would never get the new code.
   */
  register(p: { id: string; name?: string; version: string; source: string }, now = Date.now()): { program: SteelProgram; changed: boolean } {
    const problem = programIdProblem(p.id);
    if (problem) throw new TypeError(problem);
    const sha256 = steelChecksum(p.source);
    const old = this.programs.get(p.id);
    if (old && old.version === p.version) {
      if (old.sha256 !== sha256) throw new Error(`program ${p.id} version ${p.version} is already registered with other code (sha256 ${old.sha256.slice(0, 12)}…); give the new code a new version`);
      return { program: old, changed: false };
    }
    const program: SteelProgram = { id: p.id, name: p.name ?? p.id, version: p.version, sha256, source: p.source, registeredAt: now };
    this.programs.set(p.id, program);
    this.journal?.commit([[PROGRAM + p.id, program]]);
    return { program, changed: true };
  }

  /** True when the device is not known to run this exact code already (a failed or stopped run counts as not running). */
  needsLoad(device: string, program: SteelProgram): boolean {
    const s = this.deviceState(device, program.id);
    return !s || s.sha256 !== program.sha256 || s.status === 'Failed' || s.status === 'Removed';
  }

  /** Notes that a load went out; durable before the caller publishes it. */
  markSent(devices: readonly string[], program: SteelProgram, now = Date.now()): void {
    const changes: Array<[string, DeviceProgramState]> = [];
    for (const d of devices) {
      const st: DeviceProgramState = { version: program.version, sha256: program.sha256, status: 'Sent', at: now };
      this.deviceMap(d).set(program.id, st);
      changes.push([`${DEVICE}${d}\u0000${program.id}`, st]);
    }
    this.journal?.commit(changes);
  }

  /** Applies a device's status report; returns false for a program the registry does not hold. */
  noteStatus(device: string, report: SteelStatusReport, now = Date.now()): boolean {
    const m = this.devices.get(device);
    const cur = m?.get(report.program_id);
    const program = this.programs.get(report.program_id);
    if (!cur && !program) return false;
    const st: DeviceProgramState = { version: cur?.version ?? program?.version ?? '', sha256: cur?.sha256 ?? program?.sha256 ?? '', status: report.status, at: now };
    this.deviceMap(device).set(report.program_id, st);
    this.journal?.commit([[`${DEVICE}${device}\u0000${report.program_id}`, st]]);
    return true;
  }

  noteRemoved(device: string, id: string, now = Date.now()): void {
    const cur = this.deviceState(device, id);
    if (!cur) return;
    const st = { ...cur, status: 'Removed', at: now };
    this.deviceMap(device).set(id, st);
    this.journal?.commit([[`${DEVICE}${device}\u0000${id}`, st]]);
  }

  close(): void { this.owned?.close(); }
}

export interface PreparedLoad {
  readonly check: CheckResult;
  readonly message: SteelLoadMessage;
  readonly program: SteelProgram;
  /** One publish per target still needing the program; broadcast is one message for all. */
  readonly publishes: ReadonlyArray<{ readonly topic: string; readonly payload: SteelLoadMessage; readonly device: string | null }>;
  /** Targets skipped because they already run this exact version. */
  readonly skipped: readonly string[];
}

/**
 * Checks the program, registers it, and plans the load messages for `targets` (device ids, or the
 * single word 'broadcast'). Throws SteelProgramRejected (with every finding) when the check finds
 * an error: nothing is registered or planned.
 */
export function prepareLoad(
  registry: SteelProgramRegistry,
  input: Omit<LoadInput, 'steelCode'> & { readonly source: string },
  targets: readonly string[] | 'broadcast',
  options: { readonly check?: CheckOptions; readonly force?: boolean; readonly now?: number } = {},
): PreparedLoad {
  const check = checkProgram(input.source, options.check);
  if (!check.ok) throw new SteelProgramRejected(input.programId, check);
  const message = buildLoadMessage({ ...input, steelCode: input.source });
  const { program } = registry.register({ id: input.programId, name: input.programName, version: input.version, source: input.source }, options.now);
  if (targets === 'broadcast') {
    return { check, message, program, publishes: [{ topic: steelTopic('load', 'broadcast'), payload: message, device: null }], skipped: [] };
  }
  const publishes: Array<{ topic: string; payload: SteelLoadMessage; device: string | null }> = [];
  const skipped: string[] = [];
  const topics = targets.map((d) => steelTopic('load', d)); // every target checked before anything is planned
  targets.forEach((d, i) => {
    if (!options.force && !registry.needsLoad(d, program)) skipped.push(d);
    else publishes.push({ topic: topics[i], payload: message, device: d });
  });
  registry.markSent(publishes.map((p) => p.device as string), program, options.now);
  return { check, message, program, publishes, skipped };
}

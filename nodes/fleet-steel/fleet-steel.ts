/**
 * fleet-steel: checks Steel programs and pushes them to devices. Input: a command (program, targets,
 * action) or a device's Steel message (from `mqtt in` or fleet-decode). Outputs: 1 publish messages
 * for `mqtt out`, 2 per-device outcomes, 3 per-program summaries, 4 alerts.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';

import { SteelProgramRegistry, SteelProgramRejected } from '../../lib/steel/program';
import { parseSteelPushConfig, MAX_SOURCE_CHARS, type SteelPushConfig } from '../../lib/steel/push-config';
import { readPushRequest } from '../../lib/steel/push-request';
import { SteelPusher } from '../../lib/steel/pusher';
import type { Outcome, ProgramSummary } from '../../lib/steel/push-tracker';
import { readSteelUplink } from '../../lib/steel/uplink';
import { compileSelector } from '../../lib/steel/selector';
import { matchSteelTopic } from '../../firmware/contract/steel';
import type { FleetAlert } from '../../lib/alert-shape';
import { defineNode, type Send } from '../shared/kit';
import { registryOf } from '../shared/registry-node';
import { checkBodyErrors, registerSteelAdmin } from './admin';
import { alertMsg, outcomeMsg, publishMsg, summaryMsg } from './messages';
import { FLEET_STEEL_VERSION, migrations } from './migrations';

type InMessage = NodeMessageInFlow & {
  action?: unknown; targets?: unknown; target?: unknown; programId?: unknown; programName?: unknown; version?: unknown;
  force?: unknown; parameters?: unknown; autoStart?: unknown; file?: unknown; contract?: unknown;
};

const COUNTS = 'counts';

/** A catchable error carrying the checker's findings (msg.error.findings in a catch node). */
class RejectedProgramError extends Error {
  constructor(message: string, readonly findings: SteelProgramRejected['check']['findings']) { super(message); }
}

function readProgramFile(RED: NodeAPI, file: string): string {
  const userDir = (RED.settings as unknown as { userDir?: unknown }).userDir;
  const full = path.isAbsolute(file) || typeof userDir !== 'string' ? file : path.join(userDir, file);
  const st = fs.statSync(full);
  if (st.size > MAX_SOURCE_CHARS * 4) throw new Error(`program file ${file} is ${st.size} bytes, over ${MAX_SOURCE_CHARS * 4}`);
  return fs.readFileSync(full, 'utf8');
}

export = defineNode<SteelPushConfig, InMessage>({
  type: 'fleet-steel',
  version: FLEET_STEEL_VERSION,
  migrations,
  parse: (def) => parseSteelPushConfig(def, compileSelector),
  state: { mode: 'durable' },
  admin: (routes, RED) => {
    registerSteelAdmin(routes);
    RED.httpAdmin?.use('/fleet-steel/check', checkBodyErrors);
  },
  create({ RED, node, config, def, status, state, t, send: sendLater, every }) {
    const fleet = registryOf(RED, typeof def.registry === 'string' ? def.registry : undefined);
    let pusher: SteelPusher | null = null;
    let rejected = 0;
    const get = (): SteelPusher => {
      if (!pusher) throw new Error('fleet-steel: state not restored');
      return pusher;
    };
    status.now({ fill: 'grey', shape: 'ring', text: t('status.waiting') });

    const pct = (x: number | null): string => (x === null ? '–' : `${Math.round(x * 1000) / 10} %`);
    const showSummary = (s: ProgramSummary): void => {
      status.set(() => ({
        fill: s.meetsTarget === false ? 'red' : s.failed + s.timedOut > 0 || rejected > 0 ? 'yellow' : 'green', shape: 'dot',
        text: t('status.summary', { program: s.programId, rate: pct(s.successRate), ok: s.succeeded, failed: s.failed, timedOut: s.timedOut, pending: s.pending }),
      }));
    };

    const emit = (send: Send, r: { outcomes: readonly Outcome[]; summaries: readonly ProgramSummary[]; alerts: readonly FleetAlert[] }): void => {
      if (r.outcomes.length === 0 && r.alerts.length === 0) return;
      send([null, r.outcomes.map(outcomeMsg), r.summaries.map((s) => summaryMsg(s)), r.alerts.map(alertMsg)]);
      if (r.summaries.length) {
        state.set(COUNTS, get().tracker.snapshot());
        showSummary(r.summaries[r.summaries.length - 1]);
      }
    };

    every(1000, () => {
      if (pusher && pusher.tracker.pendingCount() > 0) emit(sendLater, pusher.tick(Date.now()));
    });

    return {
      ready() {
        const registry = SteelProgramRegistry.over(state);
        pusher = new SteelPusher(registry, {
          check: config.check, timeoutMs: config.timeoutMs, target: config.target, source: `fleet-steel:${node.name || node.id}`,
          devices: fleet ? () => fleet.records() : undefined,
        });
        pusher.tracker.restore(state.get(COUNTS));
      },
      input(msg, send) {
        const now = Date.now();
        const up = readSteelUplink(msg.topic, msg.payload);
        if (up) {
          if (up.kind === 'invalid') throw new Error(`fleet-steel: ${msg.topic}: ${up.errors.map((e) => `${e.field || 'payload'}: ${e.message}`).join('; ')}`);
          if (up.kind === 'shadow') {
            send([null, { topic: `${up.device}/shadow`, payload: { device: up.device, kind: 'shadow', shadow: up.value } } as NodeMessage, null, null]);
            return;
          }
          emit(send, get().uplink(up, now));
          return;
        }

        // A device message that is not a Steel answer (fleet-decode passes on OTA progress, our own
        // downlinks when it decodes commands) is not a command: acting on it could loop a load back out.
        if (matchSteelTopic(msg.topic) !== null || (msg.contract !== null && typeof msg.contract === 'object')) return;

        const req = readPushRequest(msg, config, (file) => readProgramFile(RED, file), compileSelector);
        if (!req.ok) throw new Error(`fleet-steel: ${req.field}: ${req.reason}`);
        const { programId } = req.value;
        let r;
        try {
          r = get().push(req.value, now);
        } catch (err) {
          if (err instanceof SteelProgramRejected) {
            rejected++;
            const first = err.check.findings.find((f) => f.severity === 'error');
            status.now({ fill: 'red', shape: 'dot', text: t('status.rejected', { program: programId, where: first ? `${first.line}:${first.col}` : '?', rule: first?.rule ?? '', message: (first?.message ?? '').slice(0, 60) }) });
            const lines = err.check.findings.map((f) => `${f.line}:${f.col}: ${f.severity}: ${f.rule}: ${f.message}`);
            throw new RejectedProgramError(`fleet-steel: program ${programId} rejected, nothing sent: ${lines.join(' | ')}`, err.check.findings);
          }
          throw err;
        }
        const publishes = r.publishes.map(publishMsg);
        const extra: Record<string, unknown> = { operation: req.value.action, skipped: r.skipped, sentTo: r.publishes.map((p) => p.device ?? 'broadcast') };
        if (r.check) extra.findings = r.check.findings;
        send([publishes, r.outcomes.map(outcomeMsg), summaryMsg(r.summary, extra), r.alerts.map(alertMsg)]);
        state.set(COUNTS, get().tracker.snapshot());
        if (r.publishes.length === 0 && r.skipped.length > 0) status.now({ fill: 'green', shape: 'ring', text: t('status.upToDate', { program: programId, count: r.skipped.length }) });
        else showSummary(r.summary);
      },
    };
  },
});

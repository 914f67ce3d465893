/** The messages fleet-steel sends, one shape per output. */
import type { NodeMessage } from 'node-red';

import type { FleetAlert } from '../../lib/alert-shape';
import type { Publish } from '../../lib/steel/pusher';
import type { Outcome, ProgramSummary } from '../../lib/steel/push-tracker';

export const outcomeMsg = (o: Outcome): NodeMessage => ({ topic: `${o.device}/${o.programId}`, payload: o } as NodeMessage);
export const summaryMsg = (s: ProgramSummary, extra: Record<string, unknown> = {}): NodeMessage => ({ topic: s.programId, payload: s, ...extra } as NodeMessage);
export const alertMsg = (a: FleetAlert): NodeMessage => ({ topic: a.name, payload: a } as NodeMessage);
export const publishMsg = (p: Publish): NodeMessage =>
  ({ topic: p.topic, payload: p.payload, qos: p.qos, retain: false, device: p.device, operation: p.operation, programId: p.programId } as NodeMessage);

/**
 * Every flow in flows/ deploys on first start in a fresh Node-RED without an error, carries what the
 * editor requires, and says so when an alert receiver is not configured.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

import { startAedes, type Broker } from '../support/brokers';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';

const root = path.resolve(__dirname, '..', '..', '..');
const FLOWS = fs.readdirSync(path.join(root, 'flows')).filter((f) => f.endsWith('.json'));

describe('shipped flows deploy on first start', function () {
  this.timeout(60_000);
  let broker: Broker;
  before(async () => { broker = await startAedes(); });
  after(async () => { await broker.close(); });

  for (const file of FLOWS) {
    it(`${file}: starts, connects, logs no error`, async () => {
      const flow = shippedFlow(file, broker.port);
      const red = new NodeRedProcess();
      try {
        red.writeFlows(flow);
        await red.start();
        if (flow.some((n) => n.type === 'mqtt-broker')) await waitFor('the broker connection', () => red.output.includes('Connected to broker'), 15_000);
        await new Promise((r) => setTimeout(r, 1000));
        assert.doesNotMatch(red.output, /\[error\]/, red.output);
        const deployed = (await (await fetch(`${red.url}/flows`)).json()) as Array<{ type: string }>;
        for (const n of flow) assert.ok(deployed.some((d) => d.type === n.type), `${String(n.type)} missing`);
      } finally {
        await red.stop();
        red.cleanup();
      }
    });
  }
});

type FlowNode = Record<string, unknown> & { id: string; type: string };
const read = (file: string): FlowNode[] => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as FlowNode[];
const ALL = [...FLOWS.map((f) => `flows/${f}`), 'demo/fleet-dashboard.json'];

describe('shipped flows as the editor sees them', () => {
  // What nodes/fleet-decode/fleet-decode.html validates: the runtime fills defaults the editor does not.
  for (const file of ALL) {
    it(`${file}: every fleet-decode node has profiles, kinds and a size limit`, () => {
      for (const n of read(file).filter((x) => x.type === 'fleet-decode')) {
        assert.ok(Array.isArray(n.profiles) && n.profiles.length > 0, `${n.id}: profiles`);
        assert.ok(Array.isArray(n.kinds) && n.kinds.length > 0, `${n.id}: kinds`);
        assert.ok(Number.isInteger(Number(n.maxBytes)) && Number(n.maxBytes) >= 64, `${n.id}: maxBytes`);
      }
    });
  }

  it('one fleet, one view: the dashboard has no registry, broker or health node of its own, and reads the quick start', () => {
    const db = read('demo/fleet-dashboard.json');
    for (const t of ['fleet-registry', 'fleet-health', 'fleet-decode', 'mqtt-broker', 'mqtt in']) assert.ok(!db.some((n) => n.type === t), t);
    const qs = read('flows/quick-start.json');
    const linkIn = db.find((n) => n.type === 'link in')!;
    const linkOut = qs.find((n) => n.type === 'link out')!;
    assert.deepEqual(linkOut.links, [linkIn.id]);
    assert.ok((qs.find((n) => n.type === 'fleet-health')!.wires as string[][])[2].includes(linkOut.id), 'the summary output feeds the link');
  });

  it('the sidebar is not flooded: sensor readings ship inactive, health and alert lines are one string', () => {
    const qs = read('flows/quick-start.json');
    assert.equal(qs.find((n) => n.id === 'qs-debug-sensor')!.active, false);
    for (const id of ['qs-debug-changes', 'qs-debug-alerts']) assert.equal(qs.find((n) => n.id === id)!.complete, 'summary', id);
  });

  it('each example\'s comment says that Import → copy reuses its config nodes', () => {
    for (const file of FLOWS) {
      const comments = read(`flows/${file}`).filter((n) => n.type === 'comment' || n.type === 'tab').map((n) => String(n.info ?? '')).join('\n');
      assert.match(comments, /Import \u2192 copy[^]*reuses/, file);
    }
  });

  describe('alert-routing: a receiver whose variables are unset says so and sends nothing', () => {
    const ar = read('flows/alert-routing.json');
    const run = (id: string, vars: Record<string, string>) => {
      const fn = ar.find((n) => n.id === id)!;
      const statuses: Array<{ text?: string }> = [];
      const sandbox = {
        env: { get: (k: string) => vars[k] }, node: { status: (s: { text?: string }) => statuses.push(s) }, msg: { topic: 'DeviceCritical', payload: {} },
      };
      const result = vm.runInNewContext(`(function () { ${String(fn.func)} })()`, sandbox) as unknown;
      return { result, status: statuses.at(-1)?.text ?? '' };
    };
    it('e-mail', () => {
      const off = run('ar-email-check', {});
      assert.equal(off.result, null);
      assert.match(off.status, /FLEET_SMTP_HOST.* not set: not sent/);
      const on = run('ar-email-check', { FLEET_SMTP_HOST: '127.0.0.1', FLEET_SMTP_PORT: '2525', FLEET_ALERT_EMAIL: 'a@example.invalid' });
      assert.equal((on.result as { from?: string }).from, 'fleet-alerts@example.invalid');
      assert.match(on.status, /to a@example\.invalid via 127\.0\.0\.1:2525/);
      assert.equal((ar.find((n) => n.id === 'ar-alerts')!.wires as string[][])[0][0], 'ar-email-check');
    });
    it('chat', () => {
      const off = run('ar-chat-check', {});
      assert.equal(off.result, null);
      assert.equal(off.status, 'FLEET_CHAT_WEBHOOK not set: not sent');
      assert.ok(run('ar-chat-check', { FLEET_CHAT_WEBHOOK: 'http://127.0.0.1:1/chat' }).result);
      assert.equal((ar.find((n) => n.id === 'ar-alerts')!.wires as string[][])[1][0], 'ar-chat-check');
    });
    it('quiet hours name their time zone', () => {
      const routing = JSON.parse(String(ar.find((n) => n.id === 'ar-alerts')!.routing)) as { time_intervals: Array<{ time_intervals: Array<{ location?: string }> }> };
      for (const t of routing.time_intervals) for (const i of t.time_intervals) assert.equal(i.location, 'UTC');
    });
  });
});

/** Every flow in flows/ deploys on first start in a fresh Node-RED without an error. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

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

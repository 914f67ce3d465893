/**
 * Each example of examples/ (flows/ copied by scripts/copy-assets.js) as a user takes it, in
 * Debian's Chromium against a real Node-RED under a custom httpAdminRoot: Import → Examples →
 * @esp32-fleet/node-red-fleet → the flow, its broker set in the mqtt-broker dialog (the one setting
 * an imported example needs; the serial example also its port, the OTA example its key file), Deploy
 * with no "not properly configured" prompt, no node with a red status and no [error] in the log,
 * then the output the example's comment promises, read in the debug sidebar's messages and the
 * nodes' status, against a broker and what `npm start` simulates (scripts/start.js: the virtual
 * fleet with command firmware, the OTA device side, three Steel devices; here also a serial device
 * on a socat pseudo-terminal). The deeper behaviour of each flow has its own test (shipped-flows,
 * quick-start-editor, alert-delivery, fleet-command, ota-demo, serial, steel-push); this one is the
 * Import → Examples path, on both runtimes. Screenshots go to .screenshots/examples/.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { VirtualFleet } from '../../firmware/simulator/fleet';
import { SerialDevice } from '../../firmware/simulator/serial-device';
import { SteelFleet } from '../../firmware/simulator/steel-device';
import { launchChromium } from '../support/browser';
import { startAedes, type Broker } from '../support/brokers';
import { deploy, EDITOR_THEME, openEditor, watchPage, type PageProblem } from '../support/editor-page';
import { NodeRedProcess } from '../support/node-red';
import { waitFor } from '../support/ports';
import { compatPass, runtimeLabel } from '../support/runtime';

const root = path.resolve(__dirname, '..', '..', '..');
const ADMIN = '/admin';
const shots = path.join(root, '.screenshots', compatPass() ? 'examples-node-red-5' : 'examples');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const otaDemo = require('../../../scripts/ota-demo.js') as {
  prepare(userDir: string): { publicPem: string; folder: string; image: string };
  startDevices(fleet: VirtualFleet, brokerUrl: string, demo: unknown, stepMs?: number): Promise<{ stop(): Promise<void> }>;
};

interface DebugMsg { id: string; name?: string; topic?: string; msg: string; format?: string }
interface NodeStatus { id: string; type: string; name?: string; status?: { fill?: string; shape?: string; text?: string } }
interface Seen { debug: DebugMsg[]; statuses: NodeStatus[] }
interface FlowNode { id: string; type: string; name?: string; [k: string]: unknown }

interface Rig { page: Page; red: NodeRedProcess; fleet: VirtualFleet; serialHost: string; serialDevice: SerialDevice }

interface Expectation {
  /** What the example shows once deployed, as its comment says. */
  readonly says: string;
  /** Fields to set in the imported flow's dialogs before the deploy, beyond the broker. */
  readonly setup?: (rig: Rig, flow: FlowNode[]) => Promise<void>;
  /** Run after the deploy (a device plugged in). */
  readonly afterDeploy?: (rig: Rig, read: () => Promise<Seen>) => Promise<void>;
  /** What the example's comment says to wait for before pressing its buttons. */
  readonly ready?: (s: Seen, rig: Rig) => boolean;
  /** Inject buttons to press after the deploy, by node id. */
  readonly press?: readonly string[];
  /** Null while waiting; true when the output is there. */
  readonly seen: (s: Seen, rig: Rig) => boolean;
}

const lines = (s: Seen, name: string): string[] => s.debug.filter((d) => d.name === name).map((d) => d.msg);

/**
 * Examples whose import is tested elsewhere: the dashboard needs the quick start beside it (its
 * link nodes read that flow's nodes), so test/e2e/dashboard.test.ts imports it next to the quick start.
 */
const ELSEWHERE: ReadonlySet<string> = new Set(['fleet-dashboard']);

const EXPECTED: Record<string, Expectation> = {
  'quick-start': {
    says: 'scores every device of the fleet: a health change to healthy for each in the sidebar, the fleet summary under its debug node',
    seen: (s, rig) => {
      const summary = /^(\d+) devices: (\d+) healthy/.exec(s.statuses.find((n) => n.id === 'qs-debug-summary')?.status?.text ?? '');
      return rig.fleet.devices.every((d) => lines(s, 'health changes').some((l) => l.startsWith(`${d.id}: `) && l.includes('→ healthy')))
        && !!summary && Number(summary[1]) >= rig.fleet.devices.length && Number(summary[2]) >= rig.fleet.devices.length;
    },
  },
  'alert-routing': {
    says: 'takes the test alert into fleet-alerts, which shows it as active',
    press: ['ar-test'],
    seen: (s) => /^1 active/.test(s.statuses.find((n) => n.id === 'ar-alerts')?.status?.text ?? ''),
  },
  'fleet-commands': {
    says: 'pushes the fleet file: a result per device of the file, applied once the device acknowledges',
    press: ['fc-push'],
    seen: (s) => ['esp32-c3-sync-001', 'esp32-c3-async-002', 'esp32-c3-full-003', 'esp32-c3-sync-004']
      .every((d) => s.debug.some((m) => m.name === 'results' && m.msg.includes(d) && m.msg.includes('applied'))),
  },
  'ota-rollout': {
    says: 'starts the rollout of the signed demo image once health knows the env-sensors: its first wave summary',
    setup: async (rig) => {
      await editNode(rig.page, 'ota-node', async () => {
        await rig.page.fill('#node-input-keysFile', 'ota-demo/keys/ota-signing.pub');
      });
    },
    // "Wait ~20 s for the registry to see the env-sensors": health has scored each of them.
    ready: (s, rig) => Number(/^(\d+) healthy/.exec(s.statuses.find((n) => n.id === 'ota-health')?.status?.text ?? '')?.[1] ?? 0) >= rig.fleet.devices.filter((d) => d.kind === 'env-sensor').length,
    press: ['ota-start'],
    seen: (s) => lines(s, 'wave summary').length > 0,
  },
  'serial-provisioning': {
    says: 'reads the bench device\'s console into health, and provisions it over the same port',
    setup: async (rig) => {
      await editConfig(rig.page, 'sp-port', async () => { await rig.page.fill('#node-config-input-path', rig.serialHost); });
    },
    // The bench device plugged in once the flow holds the port: its boot lines name it, and lines
    // written before the port is open are flushed when it opens (it missed them once, under load).
    afterDeploy: async (rig, read) => {
      await waitFor('the serial console holding its port', async () => (await read()).statuses.some((n) => n.id === 'sp-console' && n.status?.fill === 'green'), 30_000, 100);
      await rig.serialDevice.start();
    },
    ready: (s) => lines(s, 'health').some((l) => l.includes('"device":"esp32-c3-bench-01"')),
    press: ['sp-inject'],
    seen: (s) => lines(s, 'provisioning result').some((l) => /"ok":\s*true/.test(l) && l.includes('"device_id":"esp32-c3-201"'))
      && lines(s, 'health').some((l) => l.includes('"device":"esp32-c3-201"')),
  },
  'steel-push': {
    says: 'checks and pushes sensor-monitor on deploy: a result from each Steel device and the success rate',
    seen: (s) => ['steel-001', 'steel-002', 'steel-003'].every((d) => lines(s, 'results').some((l) => l.includes(d))) && lines(s, 'success rate').length > 0,
  },
};

/**
 * Clicks an inject node's button until the editor says it injected: under load a click right after
 * a deploy was once lost (the test alert never arrived). A click the runtime took shows the notice,
 * so nothing is injected twice.
 */
async function pressInject(page: Page, id: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const notice = page.waitForSelector('.red-ui-notification:has-text("Successfully injected")', { timeout: 5_000 }).then(() => true, () => false);
    await page.locator(`[id="${id}"] .red-ui-flow-node-button`).click();
    if (await notice) return;
    if (attempt === 3) throw new Error(`pressing ${id}: no "Successfully injected" notice after 3 clicks`);
  }
}

/** Opens a node's edit dialog from the workspace (double click), runs `edit`, and clicks Done. */
async function editNode(page: Page, id: string, edit: () => Promise<void>): Promise<void> {
  await page.evaluate((nid) => {
    const RED = (window as unknown as { RED: { nodes: { node(i: string): { z: string } }; workspaces: { show(z: string): void } } }).RED;
    RED.workspaces.show(RED.nodes.node(nid).z);
  }, id);
  await page.locator(`[id="${id}"] .red-ui-flow-node`).dblclick();
  await page.waitForSelector('#node-dialog-ok');
  await page.waitForTimeout(300);
  await edit();
  await page.click('#node-dialog-ok');
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10_000 });
}

/** Opens a config node's dialog, as the Configuration nodes sidebar does, runs `edit`, and clicks Update. */
async function editConfig(page: Page, id: string, edit: () => Promise<void>): Promise<void> {
  await page.evaluate((cid) => {
    const RED = (window as unknown as { RED: { nodes: { node(i: string): { type: string } }; editor: { editConfig(n: string, t: string, i: string): void } } }).RED;
    RED.editor.editConfig('', RED.nodes.node(cid).type, cid);
  }, id);
  await page.waitForSelector('#node-config-dialog-ok');
  await page.waitForTimeout(300);
  await edit();
  await page.click('#node-config-dialog-ok');
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10_000 });
}

function socat(dev: string, host: string): ChildProcess {
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${host}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}
const exists = (p: string): boolean => { try { fs.lstatSync(p); return true; } catch { return false; } };

const EXAMPLES = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();

describe(`examples through Import → Examples in Chromium (${runtimeLabel()})`, function () {
  this.timeout(90_000);
  let broker: Broker;
  let red: NodeRedProcess;
  let fleet: VirtualFleet;
  let steel: SteelFleet;
  let ota: { stop(): Promise<void> };
  let serialDevice: SerialDevice;
  let link: ChildProcess;
  let browser: Browser;
  let page: Page;
  let problems: PageProblem[];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-examples-'));
  const serialDev = path.join(dir, 'dev');
  const serialHost = path.join(dir, 'host');

  before(async function () {
    this.timeout(120_000);
    fs.mkdirSync(shots, { recursive: true });
    broker = await startAedes();
    red = new NodeRedProcess({
      settings: { httpAdminRoot: ADMIN, editorTheme: EDITOR_THEME },
      // The serial example's provisioning reads the Wi-Fi secret from the environment, as its help says.
      env: { FLEET_WIFI_PASSWORD: 'examples-test-secret' },
    });
    const demo = otaDemo.prepare(red.userDir);
    red.writeFlows([]);
    await red.start();
    // What npm start runs beside Node-RED (scripts/start.js), smaller and faster.
    fleet = new VirtualFleet({ brokerUrl: broker.url, devices: 10, seed: 1, speed: 20, tickMs: 50, controlTopic: true, commands: true });
    await fleet.start();
    ota = await otaDemo.startDevices(fleet, broker.url, demo, 100);
    steel = new SteelFleet({ brokerUrl: broker.url, devices: 3, controlTopic: true });
    await steel.start();
    link = socat(serialDev, serialHost);
    await waitFor('socat links', () => exists(serialDev) && exists(serialHost), 5000, 20);
    serialDevice = new SerialDevice({ path: serialDev, factoryId: 'esp32-c3-bench-01', perfEveryMs: 400, echo: true });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await serialDevice?.stop();
    link?.kill('SIGTERM');
    await steel?.stop();
    await ota?.stop();
    await fleet?.stop();
    await red?.stop();
    red?.cleanup();
    await broker?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const file = path.join(shots, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      console.log(`    screenshot: ${file}`);
    }
    await page?.close().catch(() => undefined);
  });

  it('offers each example of examples/ under Import → Examples, and each has an expectation here', async () => {
    const res = await red.getJson<Array<{ fn: string }>>(`${ADMIN}/library/examples/flows/${pkg.name}`);
    assert.deepEqual(res.body.map((e) => e.fn).sort(), EXAMPLES);
    assert.deepEqual(EXAMPLES.filter((e) => !EXPECTED[e] && !ELSEWHERE.has(e)), [], 'examples without an expected output in this test');
  });

  for (const name of EXAMPLES.filter((e) => !ELSEWHERE.has(e))) {
    const expected = EXPECTED[name];
    it(`${name}: imports from Import → Examples, deploys with no node in error, and ${expected?.says ?? '(no expectation)'}`, async () => {
      assert.ok(expected, `no expectation for ${name}`);
      const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', `${name}.json`), 'utf8')) as FlowNode[];
      // A clean runtime for each example: two of them share config-node ids (an editor would ask which to keep).
      const cleared = await fetch(`${red.url}${ADMIN}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: '[]' });
      assert.equal(cleared.status, 204);
      const logFrom = red.output.length;
      page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
      page.setDefaultTimeout(15_000);
      problems = watchPage(page);
      await openEditor(page, `${red.url}${ADMIN}/`);
      await page.evaluate(() => {
        const w = window as unknown as { __debug: unknown[]; RED: { comms: { subscribe(t: string, f: (topic: string, m: unknown) => void): void } } };
        w.__debug = [];
        w.RED.comms.subscribe('debug', (_t, m) => { w.__debug.push(m); });
      });

      // Import → Examples → our package → the flow → Import.
      await page.click('#red-ui-header-button-sidemenu');
      await page.click('#menu-item-import');
      await page.click('#red-ui-clipboard-dialog-import-tabs a:has-text("Examples")');
      const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      await tree.locator(`.red-ui-treeList-label:has-text("${pkg.name}")`).first().click();
      // The dialog fetches the example when it is selected and only then enables Import; a click while
      // the tree still lays itself out can be lost, so select again until it is enabled.
      const label = tree.locator('.red-ui-treeList-label').filter({ hasText: new RegExp(`^\\s*${name}\\s*$`) }).first();
      await waitFor(`the ${name} example selected`, async () => {
        if (await page.locator('#red-ui-clipboard-dialog-ok').isEnabled()) return true;
        await label.click().catch(() => undefined);
        return false;
      }, 20_000, 500);
      await page.click('#red-ui-clipboard-dialog-ok');
      const tab = flow.find((n) => n.type === 'tab')!.id;
      await page.waitForFunction((id) => (window as unknown as { RED: { nodes: { workspace(i: string): unknown } } }).RED.nodes.workspace(id) !== undefined, tab);
      // The example comes in as a tab of its own: open it (a click while the import dialog closes can be lost).
      const activeTab = (): Promise<string> => page.evaluate(() => (window as unknown as { RED: { workspaces: { active(): string } } }).RED.workspaces.active());
      await waitFor(`the ${name} tab open`, async () => {
        if (await activeTab() === tab) return true;
        await page.click(`#red-ui-tab-${tab} a`).catch(() => undefined);
        return false;
      }, 10_000, 500);

      // The broker, set as a user would in its dialog; then what this example needs besides.
      for (const b of flow.filter((n) => n.type === 'mqtt-broker')) {
        await editConfig(page, b.id, async () => {
          await page.fill('#node-config-input-broker', '127.0.0.1');
          await page.fill('#node-config-input-port', String(broker.port));
        });
      }
      const rig: Rig = { page, red, fleet, serialHost, serialDevice };
      await expected.setup?.(rig, flow);
      const invalid = await page.evaluate(() => {
        const out: string[] = [];
        (window as unknown as { RED: { nodes: { eachNode(f: (n: { id: string; valid?: boolean }) => void): void; eachConfig(f: (n: { id: string; valid?: boolean }) => void): void } } })
          .RED.nodes.eachNode((n) => { if (n.valid === false) out.push(n.id); });
        return out;
      });
      assert.deepEqual(invalid, [], 'nodes the editor marks invalid after the import');
      // Before the first deploy, a dialog opened to set a field asks our admin endpoints about a node
      // the runtime does not run yet: they answer 404 and the dialog says to deploy first.
      const undeployed = new Set(flow.map((n) => n.id));
      const beforeDeploy = problems.splice(0).filter((p) => !(p.kind === 'http' && p.status === 404 && p.url && undeployed.has(/^\/admin\/fleet-[a-z-]+\/([^/]+)\//.exec(new URL(p.url).pathname)?.[1] ?? '')));
      await deploy(page);

      const read = (): Promise<Seen> => page.evaluate((ids) => {
        const w = window as unknown as { __debug: DebugMsg[]; RED: { nodes: { node(i: string): NodeStatus | undefined } } };
        return { debug: w.__debug, statuses: ids.map((i) => w.RED.nodes.node(i)).filter((n): n is NodeStatus => !!n).map((n) => ({ id: n.id, type: n.type, name: n.name, status: n.status })) };
      }, flow.map((n) => n.id));
      let last: Seen = { debug: [], statuses: [] };
      await expected.afterDeploy?.(rig, read);
      if (expected.ready) await waitFor(`${name} ready for its buttons`, async () => { last = await read(); return expected.ready!(last, rig); }, 45_000, 250);
      assert.equal(await activeTab(), tab);
      for (const id of expected.press ?? []) await pressInject(page, id);
      await waitFor(`${name}: ${expected.says}`, async () => { last = await read(); return expected.seen(last, rig); }, 60_000, 250)
        .catch((err: Error) => {
          const debug = last.debug.slice(-20).map((d) => `${d.name}: ${d.msg.slice(0, 160)}`).join('\n  ');
          throw new Error(`${err.message}\ndebug:\n  ${debug}\nstatus: ${JSON.stringify(last.statuses.filter((x) => x.status).map((x) => [x.name ?? x.id, x.status?.text]))}`);
        });
      await page.screenshot({ path: path.join(shots, `${name}.png`) });

      const red_ = last.statuses.filter((s) => s.status?.fill === 'red').map((s) => `${s.type} ${s.name ?? s.id}: ${s.status?.text ?? ''}`);
      assert.deepEqual(red_, [], 'nodes with a red status');
      assert.doesNotMatch(red.output.slice(logFrom), /\[error\]/, red.output.slice(logFrom));
      // The browser's own "Failed to load resource" line stands for a refused request, judged as such.
      assert.deepEqual([...beforeDeploy, ...problems].filter((p) => !(p.kind === 'console' && /^Failed to load resource:/.test(p.text))), [], 'errors in the editor');
    });
  }
});

/**
 * The dashboard of `npm start` in Chromium (issue 17): the Fleet page lists the virtual fleet live
 * and filters it, a click opens the device's page with its readings, firmware and actions (a reset
 * behind a typed confirmation that the simulated device reports as a restart, a configuration dry
 * run and push it acknowledges), on the Alerts page an alert from a fault button is acknowledged and
 * its device silenced through the quick start's fleet-alerts node, the OTA example's rollout started,
 * watched, paused and resumed from the Rollouts page, and a Steel program checked, pushed and
 * answered on the Steel page (each checked in the node's own journal or the device's own report, not
 * only on the page). Screenshots of each page go to .screenshots/dashboard/.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

import type { Browser, Page } from 'playwright-core';

import { startAedes } from '../support/brokers';
import { launchChromium } from '../support/browser';
import { shippedFlow } from '../support/flows';
import { NodeRedProcess } from '../support/node-red';
import { freePort, waitFor } from '../support/ports';
import { stopGroup } from '../support/process-group';

const root = path.resolve(__dirname, '..', '..', '..');
const shots = path.join(root, '.screenshots', 'dashboard');
const DEVICES = 12;

/** The last value of each key in a fleet-alerts journal (`{"k", "v"}` or `{"k", "d": 1}` lines). */
function journal(file: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as { k: string; v?: unknown; d?: number };
      if (r.d) out.delete(r.k); else out.set(r.k, r.v);
    } catch { /* a torn last line */ }
  }
  return out;
}

describe('npm start: the dashboard pages', function () {
  this.timeout(120_000);
  let child: ChildProcess;
  let output = '';
  let port = 0;
  let browser: Browser;
  let page: Page;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-dashboard-'));
  const api = (p: string) => `http://127.0.0.1:${port}${p}`;
  const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });
  const alertsJournal = () => journal(path.join(userDir, 'fleet-state', 'fleet-alerts-qs-alerts.jsonl'));
  const otaJournal = () => journal(path.join(userDir, 'fleet-state', 'fleet-ota-ota-node.jsonl'));
  const steelJournal = () => journal(path.join(userDir, 'fleet-state', 'fleet-steel-db4-steel.jsonl'));
  const text = async (selector: string) => (await page.locator(selector).allTextContents()).join(' ');

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    port = await freePort();
    const mqttPort = await freePort();
    child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORT: String(port), FLEET_MQTT_PORT: String(mqttPort), FLEET_USER_DIR: userDir, FLEET_DEVICES: String(DEVICES), FLEET_SIM_SPEED: '10' },
    });
    child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    browser = await launchChromium();
    await waitFor(`npm start to start its flows\n${output}`, () => {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      return output.includes('Started flows');
    }, 45_000);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    await browser?.close();
    await stopGroup(child);
    fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  it('Fleet page: every device of the virtual fleet, live, filtered by kind', async () => {
    await page.goto(api('/dashboard/fleet'));
    const rows = page.locator('.fleet-row');
    // Rows come first from the retained presence (state unknown), then scored by fleet-health.
    await waitFor('a row for every device, every one scored', async () => (await rows.count()) === DEVICES && (await page.locator('.fleet-row .st-unknown').count()) === 0, 40_000);
    await waitFor('the health counts', async () => /devices: \d+ healthy/.test((await page.locator('.fleet-line').allTextContents()).join(' ')), 10_000);
    // Live: the "last seen" column moves without a reload.
    const seen = async () => (await page.locator('.fleet-row td:nth-child(7)').allTextContents()).join('|');
    const before = await seen();
    await waitFor('the rows to update', async () => (await seen()) !== before, 10_000);
    const firmware = await page.locator('.fleet-row td:nth-child(4)').allTextContents();
    assert.ok(firmware.every((f) => /^\d+\.\d+\.\d+/.test(f)), firmware.join(','));
    await shot('fleet');

    await page.locator('.fleet-filters select').first().selectOption('env-monitor');
    await waitFor('only env-monitors listed', async () => {
      const kinds = await page.locator('.fleet-row td:nth-child(2)').allTextContents();
      return kinds.length > 0 && kinds.length < DEVICES && kinds.every((k) => k === 'env-monitor');
    }, 10_000);
    await page.locator('.fleet-filters select').first().selectOption('');
    await waitFor('every device again', async () => (await rows.count()) === DEVICES, 10_000);
  });

  it('a click on a device opens its page with readings over time and health factors', async () => {
    await page.locator('.fleet-row[data-device="esp32c3_001"]').click();
    await page.waitForURL(/\/dashboard\/device/, { timeout: 10_000 });
    await waitFor('the device page', async () => ((await page.locator('.dev-id').textContent()) ?? '') === 'esp32c3_001', 10_000);
    // Signal and CPU come in its metrics (often), heap and chip temperature in its health report (less often).
    for (const s of ['wifi_rssi', 'cpu_usage_percent', 'free_heap', 'chip_temperature']) await page.locator(`.dev-chart[data-series="${s}"]`).waitFor({ timeout: 30_000 });
    // Over time: the signal chart draws more than one point.
    await waitFor('a line of readings', async () => ((await page.locator('.dev-chart[data-series="wifi_rssi"] polyline').getAttribute('points')) ?? '').split(' ').length > 2, 20_000);
    assert.ok(await page.locator('.dev-factors tbody tr').count() > 0, 'health factors listed');
    // Its firmware, as the device reports it; no serial console under npm start, and the page says why.
    assert.match(await text('.dev-fw'), /^\d+\.\d+\.\d+$/);
    assert.match(await text('.dev-console-empty'), /fleet-serial[^]*npm start[^]*no serial port/);
    await shot('device');
  });

  it('Device page: a reset needs its phrase typed, then reaches the device, which reports the restart', async () => {
    const restarts = async () => Number(/restarts (\d+)/.exec(await text('.dev-restarts'))?.[1] ?? NaN);
    await waitFor('the device\'s restart count (its metrics)', async () => Number.isFinite(await restarts()), 30_000);
    const before = await restarts();
    await page.locator('.dev-reset').click();
    const confirm = page.locator('.dev-reset-confirm');
    assert.equal(await confirm.isDisabled(), true, 'no reset before the phrase is typed');
    await page.locator('.dev-reset-phrase').fill('reset esp32c3_002');
    assert.equal(await confirm.isDisabled(), true, 'another device\'s phrase does not confirm this one');
    await page.locator('.dev-reset-phrase').fill('reset esp32c3_001');
    await confirm.click();
    await waitFor('fleet-command to send the reset', async () => /reset\s*sent \(1 message\)/.test(await text('.dev-log')), 10_000);
    // The simulated device reboots (uptime from zero) and counts the restart in its next metrics.
    await waitFor('the device to report the restart', async () => (await restarts()) === before + 1, 30_000);
    assert.ok(Number(/up (\d+) s/.exec(await text('.dev-uptime'))?.[1]) < 60, await text('.dev-uptime'));
  });

  it('Device page: a configuration is pushed only as dry-run, and the device acknowledges it', async () => {
    await page.locator('.dev-cfg-interval').fill('20');
    await page.locator('.dev-cfg-dry').click();
    await waitFor('the dry run\'s diff', async () => /sensor\.measurement_interval_seconds: \(unset\) → 20/.test(await text('.dev-dry')), 10_000);
    // Changed after the dry run: the push is held until the dry run is run again.
    await page.locator('.dev-cfg-interval').fill('25');
    assert.equal(await page.locator('.dev-cfg-push').isDisabled(), true);
    await page.locator('.dev-cfg-interval').fill('20');
    await page.locator('.dev-cfg-push').click();
    await waitFor('the device\'s acknowledgement (config/ack)', async () => /configuration v1\s*applied/.test(await text('.dev-log')), 20_000);
    await page.locator('.dev-firmware').evaluate((el) => { el.previousElementSibling?.scrollIntoView({ block: 'start' }); });
    await shot('device-actions');
  });

  it('Rollouts page: the OTA example\'s rollout started here moves, and pauses and resumes through fleet-ota', async () => {
    await page.goto(api('/dashboard/rollouts'));
    // The image field comes prefilled with the demo's signed image (npm start makes it).
    await waitFor('the demo image in the form', async () => (await page.locator('.ro-image').inputValue()) === 'env-sensor-1.3.0', 15_000);
    // The OTA example's registry has to know the env-sensors first: until then a start plans no wave.
    await waitFor('the OTA tab to know its env-sensors', async () => {
      const state = (await (await fetch(api('/fleet-ota/ota-node/state'))).json()) as { known: number };
      return state.known >= 5;
    }, 30_000);
    await page.locator('.ro-start-btn').click();
    const card = page.locator('.ro-rollout').first();
    await card.waitFor({ timeout: 15_000 });
    const id = (await card.getAttribute('data-rollout'))!;
    const done = async () => Number(/(\d+) \/ \d+ updated/.exec(await text(`.ro-rollout[data-rollout="${id}"] .ro-progress-text`))?.[1] ?? NaN);
    const waves = async () => text(`.ro-rollout[data-rollout="${id}"] .ro-waves tbody`);
    const first = await waves();
    assert.equal(await done(), 0);
    // Progress moves without a reload: devices download, reboot on 1.3.0 and pass the health window.
    await waitFor('a wave\'s table to change', async () => (await waves()) !== first, 20_000);
    await waitFor('a device updated and through its health gate', async () => (await done()) >= 1, 45_000)
      .catch(async (err: Error) => { throw new Error(`${err.message}\n${await text(`.ro-rollout[data-rollout="${id}"]`)}`); });
    assert.match(await text(`.ro-rollout[data-rollout="${id}"] .ro-gate`), /health gate: /);

    await card.locator('.ro-pause').click();
    await waitFor('the rollout paused on the page', async () => (await card.getAttribute('data-status')) === 'paused', 10_000);
    const meta = () => otaJournal().get(`ota:${id}:meta`) as { status?: string } | undefined;
    assert.equal(meta()?.status, 'paused', 'fleet-ota\'s journal holds the pause');
    await card.locator('.ro-resume').click();
    await waitFor('the rollout running again', async () => ['running', 'completed'].includes((await card.getAttribute('data-status')) ?? ''), 10_000);
    assert.ok(['running', 'completed'].includes(meta()?.status ?? ''), meta()?.status);
    // The screenshot with the next wave under way, when it gets there in time.
    await waitFor('the next wave under way', async () => /in flight/.test(await text(`.ro-rollout[data-rollout="${id}"] .ro-progress-text`))
      && !/· 0 in flight/.test(await text(`.ro-rollout[data-rollout="${id}"] .ro-progress-text`)), 15_000).catch(() => null);
    await shot('rollouts');
    if ((await card.getAttribute('data-status')) !== 'running') return;
    // An abort asks for the rollout's id typed; then fleet-ota stops it and cancels the devices in flight
    // (ota/cancel/<device>, a contract route the quick start's decoder reads without complaint).
    await card.locator('.ro-abort').click();
    await card.locator('.ro-abort-phrase').fill('abort');
    assert.equal(await card.locator('.ro-abort-confirm').isDisabled(), true);
    await card.locator('.ro-abort-phrase').fill(`abort ${id}`);
    assert.equal(await card.locator('.ro-abort-confirm').isDisabled(), false);
    await card.locator('.ro-abort-confirm').click();
    await waitFor('the rollout aborted on the page', async () => (await card.getAttribute('data-status')) === 'aborted', 10_000);
    assert.equal(meta()?.status, 'aborted', 'fleet-ota\'s journal holds the abort');
  });


  it('Alerts page: an injected fault\'s alert is acknowledged and its device silenced through fleet-alerts', async () => {
    // Weak Wi-Fi (the quick start's button): straight to critical, for 2 minutes, so the alert stays.
    const victim = 'esp32-c3-full-003';
    assert.equal((await fetch(api('/inject/qs-fault-4'), { method: 'POST' })).status, 200);
    await page.goto(api('/dashboard/alerts'));
    // Its DeviceCritical (weak Wi-Fi goes straight to critical); a DeviceDegraded it may have from the
    // rollout's reboot resolves when the critical one fires.
    const first = page.locator(`.al-row[data-device="${victim}"]`, { hasText: 'DeviceCritical' }).first();
    await first.waitFor({ timeout: 45_000 });
    const fingerprint = (await first.getAttribute('data-fingerprint'))!;
    const row = page.locator(`.al-row[data-fingerprint="${fingerprint}"]`);
    assert.match(await row.locator('.al-state').textContent() ?? '', /new/);

    await row.locator('.al-ack').click();
    await waitFor('the row acknowledged', async () => /acknowledged/.test((await row.locator('.al-state').textContent()) ?? ''), 10_000);
    await waitFor('fleet-alerts to record the acknowledgement', () => (alertsJournal().get(`f:${fingerprint}`) as { acked?: boolean } | undefined)?.acked === true, 10_000);

    // Notified after the route's group_wait (5 s), before the silence mutes the device.
    await waitFor('a notification to the dashboard receiver', async () => /dashboard\s*firing/.test((await page.locator('.al-notes tbody').textContent()) ?? ''), 30_000);

    await row.locator('.al-silence').click();
    assert.match(await page.locator('.al-matchers').inputValue(), new RegExp(`device="${victim}"`));
    await page.locator('.al-duration').selectOption('15m');
    await page.locator('.al-create').click();
    await page.locator('.al-silence-row').first().waitFor({ timeout: 10_000 });
    await waitFor('the row silenced', async () => /silenced/.test((await row.locator('.al-state').textContent()) ?? ''), 10_000);
    const silences = () => [...alertsJournal().keys()].filter((k) => k.startsWith('s:dashboard-'));
    await waitFor('fleet-alerts to hold the silence', () => silences().length === 1, 10_000);
    await waitFor('fleet-alerts\' own count', async () => /1 silences/.test((await page.locator('.al-status').textContent()) ?? ''), 10_000);
    await shot('alerts');

    await page.locator('.al-end').first().click();
    await waitFor('the silence ended in fleet-alerts', () => silences().length === 0, 10_000);
    await waitFor('the silence gone from the page', async () => (await page.locator('.al-silence-row').count()) === 0, 10_000);

    // A matcher fleet-alerts refuses: its refusal (through the quick start's catch node) shows here, and no silence is listed.
    await row.locator('.al-silence').click();
    await page.locator('.al-matchers').fill('device=~"(("');
    await page.locator('.al-create').click();
    await waitFor('the refusal', async () => /silence refused: /.test((await page.locator('.al-refused').textContent({ timeout: 1000 }).catch(() => '')) ?? ''), 10_000);
    assert.equal(await page.locator('.al-silence-row').count(), 0);
    assert.equal(silences().length, 0);
  });

  it('Steel page: a program is checked, pushed to the Steel devices and their results shown against the 95 % target', async () => {
    await page.goto(api('/dashboard/steel'));
    await waitFor('the Steel devices of npm start in the form', async () => (await page.locator('.st-targets').inputValue()) === 'steel-001 steel-002 steel-003', 15_000);
    // A program with an unknown function: refused with its line:column, nothing published.
    const good = await page.locator('.st-source').inputValue();
    await page.locator('.st-id').fill('broken');
    await page.locator('.st-source').fill('(define (go) (led-onn))\n(go)\n');
    await page.locator('.st-push-btn').click();
    await waitFor('the refusal', async () => /load broken refused: .*1:15: error: unknown-function/.test(await text('.st-note')), 10_000);
    assert.equal(await page.locator('.st-program[data-program="broken"]').count(), 0);

    await page.locator('.st-id').fill('sensor-monitor');
    await page.locator('.st-source').fill(good);
    await page.locator('.st-push-btn').click();
    const rows = page.locator('.st-program[data-program="sensor-monitor"] .st-row');
    await waitFor('a result from each Steel device', async () => (await rows.count()) === 3 && (await page.locator('.st-program[data-program="sensor-monitor"] .st-row[data-outcome="success"]').count()) === 3, 20_000);
    assert.match(await text('.st-program[data-program="sensor-monitor"] .st-rate'), /success rate 100 %.*over 95 %.*meets it/);
    // fleet-steel's own registry (its journal) holds the program the devices run.
    assert.ok([...steelJournal().keys()].some((k) => k.includes('sensor-monitor')), [...steelJournal().keys()].join(', '));
    await page.locator('.st-source').evaluate((el) => { el.scrollTop = 0; });
    await shot('steel');
  });

  it('logged no [error]', () => {
    assert.doesNotMatch(output, /\[error\]/, output.split('\n').filter((l) => l.includes('[error]')).join('\n'));
  });
});

type Out = Array<{ topic?: string; payload?: { rows?: unknown[]; total?: number; shown?: number; pages?: number } } | null> | null;
type FlowNode = { id: string; type: string; func?: string; outputs?: number; wires?: string[][]; [k: string]: unknown };
const flow = JSON.parse(fs.readFileSync(path.join(root, 'demo', 'fleet-dashboard.json'), 'utf8')) as FlowNode[];

/** A function node of the dashboard flow, run as Node-RED runs it: its own context, `env` from a map. */
function functionNode(nodes: FlowNode[], id: string, vars: Record<string, string> = {}) {
  const code = nodes.find((n) => n.id === id)!.func!;
  const store = new Map<string, unknown>();
  const sandbox = {
    context: { get: (k: string) => store.get(k), set: (k: string, v: unknown) => { store.set(k, v); } }, env: { get: (k: string) => vars[k] },
    msg: {} as unknown, Date, Math, JSON, Object, Map, Set, Number, String, Array,
  };
  const script = new vm.Script(`(function () { ${code} })()`);
  // Through JSON, as a message reaches the browser or the next node (and out of the vm's realm, for deepEqual).
  const run = (msg: unknown): Out => { sandbox.msg = msg; const r = script.runInNewContext(sandbox) as Out; return r === null ? null : JSON.parse(JSON.stringify(r)) as Out; };
  return { run };
}

describe('the fleet view of the dashboard flow (its function node, run as Node-RED runs it)', () => {
  const { run } = functionNode(flow, 'db2-model');

  it('takes 10,000 devices\' readings without sending, then sends one page of 25 rows a tick, and nothing when nothing changed', () => {
    for (let i = 0; i < 10_000; i++) {
      const id = `dev-${String(i).padStart(5, '0')}`;
      const sent = run({ topic: `esp32/${id}/health`, kind: 'health', contract: {}, device: { id, kind: 'env-monitor', firmware: '1.2.0', online: true, labels: { site: i % 2 ? 'north' : 'south' } }, payload: { free_heap: 20_000 + i, wifi_rssi: -50 } });
      assert.equal(sent, null);
    }
    const tick = run({ topic: 'tick' })!;
    const page = tick[0]!.payload!;
    assert.equal(page.total, 10_000);
    assert.equal(page.rows!.length, 25);
    assert.equal(page.pages, 400);
    assert.ok(JSON.stringify(tick[0]).length < 20_000, `a page is ${JSON.stringify(tick[0]).length} characters`);
    assert.equal(run({ topic: 'tick' })![0], null, 'nothing changed: nothing sent');
    const north = run({ topic: 'ui/filter', payload: { site: 'north' } })![0]!.payload!;
    assert.equal(north.shown, 5_000);
    assert.equal(north.rows!.length, 25);
  });

  it('sends fleet-alerts a silence only with a duration it offers, and forgets one fleet-alerts refused', () => {
    assert.equal(run({ topic: 'ui/silence', payload: { matchers: ['device="dev-00001"'], duration: '30 years' } })![3], null);
    const sent = run({ topic: 'ui/silence', payload: { matchers: ['device=~"(("'], duration: '1h' } })![3] as unknown as { topic: string; payload: { id: string; matchers: string[] } };
    assert.equal(sent.topic, 'silence');
    assert.deepEqual([...sent.payload.matchers], ['device=~"(("']);
    // Through JSON, as the message reaches the browser (and out of the vm's realm, for deepEqual).
    const listed = () => (JSON.parse(JSON.stringify(run({ topic: 'ui/ack', payload: { fingerprint: 'none' } })![2])) as { payload: { silences: Array<{ id: string }>; refused: string } }).payload;
    assert.deepEqual(listed().silences.map((x) => x.id), [sent.payload.id]);
    // What a catch node on fleet-alerts hands back: the message it refused, with the error.
    assert.equal(run({ ...sent, error: { message: 'fleet-alerts: silence: missing closing )', source: { id: 'qs-alerts', type: 'fleet-alerts' } } }), null);
    const after = listed();
    assert.deepEqual(after.silences, []);
    assert.match(after.refused, /silence refused: .*missing closing/);
  });
});

describe('the Alerts page in the fleet view', () => {
  it('puts an alert still in group_wait into the group fleet-alerts notified for its labels', () => {
    const { run } = functionNode(flow, 'db2-model');
    const alert = (fp: string, device: string) => ({ topic: `alert/DeviceCritical/${device}`, payload: { fingerprint: fp, status: 'firing', name: 'DeviceCritical', severity: 'critical', device, labels: { alertname: 'DeviceCritical', device }, summary: `${device} is critical` } });
    run(alert('f1', 'a'));
    run({ topic: '[FIRING:1] alertname=DeviceCritical', notification: { id: 'n1', groupKey: '{}:{alertname="DeviceCritical"}', groupLabels: { alertname: 'DeviceCritical' }, receiver: 'dashboard', status: 'firing', at: Date.now(), alerts: [{ fingerprint: 'f1' }] } });
    run(alert('f2', 'b'));
    const page = run({ topic: 'tick' })![2]!.payload as unknown as { groups: Array<{ receiver: string; alerts: Array<{ fingerprint: string }> }> };
    assert.deepEqual(page.groups.map((g) => [g.receiver, g.alerts.map((a) => a.fingerprint)]), [['dashboard', ['f1', 'f2']]]);
  });
});

describe('the Device page\'s actions in the fleet view', () => {
  type Msg = Record<string, unknown> & { payload?: Record<string, unknown> };
  const at = (o: Out, i: number) => (o ? (o[i] as unknown as Msg | null) : null);
  const setup = () => {
    const { run } = functionNode(flow, 'db2-model', { FLEET_MQTT_PORT: '18831' });
    run({ topic: 'esp32/esp32c3_001/metrics', kind: 'metrics', contract: { direction: 'up' }, device: { id: 'esp32c3_001', kind: 'env-monitor', firmware: '1.2.0' }, payload: { uptime: 300, restart_count: 2 } });
    run({ topic: 'ui/open', payload: { device: 'esp32c3_001' } });
    return run;
  };

  it('sends fleet-command a reset only with the phrase "reset <device>" typed', () => {
    const run = setup();
    const refused = run({ topic: 'ui/reset', payload: { device: 'esp32c3_001', confirm: 'reset esp32c3_002' } });
    assert.equal(at(refused, 5), null);
    // The page answers at once, with why nothing was sent.
    const page = at(refused, 1)!.payload as { actions: Array<{ what: string; result: string }>; restarts: number; firmware: string };
    assert.match(page.actions.map((a) => `${a.what}: ${a.result}`).join('\n'), /reset: not sent: type "reset esp32c3_001" to confirm/);
    assert.equal(page.restarts, 2);
    assert.equal(page.firmware, '1.2.0');
    const sent = at(run({ topic: 'ui/reset', payload: { device: 'esp32c3_001', confirm: 'reset esp32c3_001' } }), 5)!;
    assert.deepEqual(sent.payload, { command: 'reset', device: 'esp32c3_001', reason: 'from the dashboard', confirm: 'reset esp32c3_001' });
    // fleet-command's input shape (docs/command.md): the output is wired to it.
    assert.deepEqual(flow.find((n) => n.id === 'db2-model')!.wires![5], ['db4-command']);
    assert.equal(flow.find((n) => n.id === 'db4-command')!.type, 'fleet-command');
  });

  it('pushes a configuration only with the values of its dry run, as a one-device fleet file', () => {
    const run = setup();
    const fields = { interval: 20, heartbeat: 1, logLevel: 'info' };
    assert.equal(at(run({ topic: 'ui/config', payload: { device: 'esp32c3_001', dryRun: false, fields } }), 5), null, 'no push before a dry run');
    const dry = at(run({ topic: 'ui/config', payload: { device: 'esp32c3_001', dryRun: true, fields } }), 5)!;
    assert.equal(dry.dryRun, true);
    assert.deepEqual(dry.targets, ['esp32c3_001']);
    assert.deepEqual(dry.deviceOverrides, { esp32c3_001: { measurement_interval_seconds: 20, heartbeat_interval_minutes: 1, log_level: 'info' } });
    const fleet = (dry.payload as { fleet: { devices: Array<{ device_id: string }>; configuration: { base: { network: { mqtt_port: number } } } } }).fleet;
    assert.deepEqual(fleet.devices.map((d) => d.device_id), ['esp32c3_001']);
    assert.equal(fleet.configuration.base.network.mqtt_port, 18831, 'the broker npm start runs');
    // fleet-command answers the dry run on its output 2.
    run({ topic: 'fleet-command/dry-run', payload: { devices: [{ device: 'esp32c3_001', action: 'push', version: 1, changes: [{ field: 'sensor.measurement_interval_seconds', to: 20 }], errors: [], warnings: [] }] } });
    assert.equal(at(run({ topic: 'ui/config', payload: { device: 'esp32c3_001', dryRun: false, fields: { ...fields, interval: 25 } } }), 5), null, 'other values than the dry run\'s');
    const push = at(run({ topic: 'ui/config', payload: { device: 'esp32c3_001', dryRun: false, fields } }), 5)!;
    assert.equal(push.dryRun, false);
  });

  it('hands the devices\' answers to fleet-command and fleet-steel, ignores our own downlinks, and never re-sends what a catch node hands back', () => {
    const run = setup();
    const ack = run({ topic: 'config/ack/esp32c3_001', kind: 'config-ack', contract: { direction: 'up' }, device: { id: 'esp32c3_001' }, payload: { config_version: 1, result: 'applied' } });
    assert.equal(at(ack, 5)!.topic, 'config/ack/esp32c3_001');
    const result = run({ topic: 'steel-programs/steel-001/result', kind: 'steel-result', contract: { direction: 'up' }, device: { id: 'steel-001', kind: 'steel-device' }, payload: { program_id: 'p', success: true } });
    assert.equal(at(result, 6)!.topic, 'steel-programs/steel-001/result');
    assert.equal(run({ topic: 'config/update/esp32c3_001', kind: 'config-update', contract: { direction: 'down' }, device: { id: 'esp32c3_001' }, payload: {} }), null);
    // fleet-steel refusing that answer: the catch node's message is the one this node sent.
    assert.equal(run({ topic: 'steel-programs/steel-001/result', kind: 'steel-result', contract: { direction: 'up' }, device: { id: 'steel-001' }, payload: {}, error: { message: 'bad', source: { id: 'db4-steel', type: 'fleet-steel' } } }), null);
  });

  it('shows why there are no console lines, and the lines of a fleet-serial node when there are', () => {
    const run = setup();
    type Console = { console: Array<{ line: string; via: string }>; serialLines: number };
    const empty = at(run({ topic: 'tick' }), 1)!.payload as Console;
    assert.deepEqual(empty.console, []);
    assert.equal(empty.serialLines, 0);
    run({ topic: 'console/esp32c3_001', payload: 'I (1234) wifi: connected', port: '/dev/ttyUSB0' });
    const lines = at(run({ topic: 'tick' }), 1)!.payload as Console;
    assert.deepEqual(lines.console.map((l) => `${l.via}: ${l.line}`), ['serial /dev/ttyUSB0: I (1234) wifi: connected']);
  });
});

describe('the Rollouts and Steel pages of the dashboard flow (their function node)', () => {
  type Page = { rollouts: Array<{ id: string; status: string; total: number; succeeded: number; failures: unknown[]; waveRows: unknown[] }>; image: string };
  const counts = (o: Partial<Record<string, number>> = {}) => ({ pending: 0, inFlight: 0, gating: 0, succeeded: 0, failed: 0, rolledBack: 0, rejected: 0, timedOut: 0, canceled: 0, ...o });
  const summary = (id: string, status: string, size: number, o: Partial<Record<string, number>> = {}) => ({
    topic: `fleet-ota/rollout/${id}`, payload: { id, status, wave: 0, waveName: 'wave 1', waveState: 'updating', note: null, waves: [{ name: 'wave 1', size, counts: counts(o) }], totals: counts(o), refused: 0 }, events: [],
  });

  it('keeps 5 rollouts and 20 failures each however many devices fail, sends them once a tick when changed', () => {
    const { run } = functionNode(flow, 'db3-model', { FLEET_OTA_IMAGE: 'env-sensor-1.3.0' });
    for (let r = 0; r < 8; r++) run(summary(`r${r}`, r === 7 ? 'running' : 'completed', 10_000, { succeeded: r }));
    for (let i = 0; i < 10_000; i++) {
      const sent = run({ topic: `fleet-ota/device/d${i}`, payload: { rollout: 'r7', device: `d${i}`, from: 'DOWNLOADING', to: 'FAILED', attempt: 1, reason: 'checksum mismatch', percent: 40, at: Date.now() } });
      assert.equal(sent, null);
    }
    const page = run({ topic: 'tick' })![0]!.payload as unknown as Page;
    assert.deepEqual(page.rollouts.map((r) => r.id), ['r7', 'r6', 'r5', 'r4', 'r3']);
    assert.equal(page.rollouts[0].failures.length, 20);
    assert.equal(page.image, 'env-sensor-1.3.0');
    assert.ok(JSON.stringify(page).length < 30_000, `${JSON.stringify(page).length} characters`);
    assert.equal(run({ topic: 'tick' })![0], null, 'nothing changed: nothing sent');
  });

  it('shows the health gate: a held wave with fleet-ota\'s comparison of updated and waiting devices', () => {
    const { run } = functionNode(flow, 'db3-model');
    const held = summary('r1', 'running', 10, { gating: 2 });
    const wave = { ...held.payload.waves[0], gate: { held: true, margin: 10, kinds: [{ kind: 'env-sensor', updated: 70, updatedDevices: 2, waiting: 95, waitingDevices: 5 }], at: Date.now() } };
    run({ ...held, payload: { ...held.payload, waveState: 'held', waves: [wave] } });
    const r = (run({ topic: 'tick' })![0]!.payload as unknown as { rollouts: Array<{ gate: string; waveRows: Array<{ gate: string; held: boolean }> }> }).rollouts[0];
    assert.equal(r.gate, 'holding wave 1: env-sensor: updated 70.0 (2) vs not yet 95.0 (5), margin 10: held');
    assert.deepEqual([r.waveRows[0].held, r.waveRows[0].gate], [true, 'env-sensor: updated 70.0 (2) vs not yet 95.0 (5), margin 10: held']);
  });

  it('sends fleet-ota pause and resume, and an abort only with "abort <rollout>" typed', () => {
    const { run } = functionNode(flow, 'db3-model');
    run(summary('r1', 'running', 10));
    assert.deepEqual(run({ topic: 'ui/ota/pause', payload: {} })![2], { topic: 'pause', payload: { reason: 'pause from the dashboard' }, dashboard: true, dashboardWhat: 'pause' });
    assert.equal(run({ topic: 'ui/ota/abort', payload: { confirm: 'abort' } })![2], null);
    assert.equal((run({ topic: 'ui/ota/abort', payload: { confirm: 'abort r1' } })![2] as { topic: string }).topic, 'abort');
    // Wired to the link that reaches the OTA tab's fleet-ota (npm start adds its other end).
    const model = flow.find((n) => n.id === 'db3-model')!;
    assert.deepEqual(model.wires![2], ['db3-link-ota-out']);
    const ota = JSON.parse(fs.readFileSync(path.join(root, 'demo', 'fleet-dashboard-ota.json'), 'utf8')) as FlowNode[];
    assert.deepEqual(flow.find((n) => n.id === 'db3-link-ota-out')!.links, [ota.find((n) => n.type === 'link in')!.id]);
    assert.deepEqual(ota.find((n) => n.type === 'link in')!.wires, [['ota-node']]);
    assert.deepEqual(ota.find((n) => n.type === 'link out')!.links, ['db4-link-ota']);
  });

  it('lists a program\'s device results failures first, 25 at most, with its success rate against the target', () => {
    const { run } = functionNode(flow, 'db3-model');
    for (let i = 0; i < 500; i++) run({ topic: `d${i}/p`, payload: { device: `d${String(i).padStart(3, '0')}`, programId: 'p', version: '1.0.0', operation: 'execute', outcome: i === 250 ? 'failure' : 'success', status: 'Result', message: i === 250 ? 'sensor read failed' : null, result: null, executionTimeMs: 3, latencyMs: 40, at: Date.now() } });
    run({ topic: 'p', payload: { programId: 'p', version: '1.0.0', sent: 500, succeeded: 499, failed: 1, timedOut: 0, delivered: 0, pending: 0, successRate: 0.998, target: 0.95, meetsTarget: true, devices: 500 } });
    const steel = run({ topic: 'tick' })![1]!.payload as unknown as { programs: Array<{ rate: number; target: number; meets: boolean; rows: Array<{ device: string; outcome: string }>; more: number }> };
    const p = steel.programs[0];
    assert.equal(p.rate, 99.8);
    assert.equal(p.target, 95);
    assert.equal(p.meets, true);
    assert.equal(p.rows.length, 25);
    assert.equal(p.more, 475);
    assert.deepEqual(p.rows[0], { ...p.rows[0], device: 'd250', outcome: 'failure' });
  });
});

describe('the dashboard flow ships as an example', function () {
  this.timeout(60_000);

  it('imported next to the quick start into a fresh Node-RED, deploys with no error and serves its pages', async () => {
    const broker = await startAedes();
    const red = new NodeRedProcess();
    try {
      const example = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'fleet-dashboard.json'), 'utf8')) as FlowNode[];
      red.writeFlows([...shippedFlow('quick-start.json', broker.port), ...example]);
      await red.start();
      await waitFor('the broker connection', () => red.output.includes('Connected to broker'), 15_000);
      await new Promise((r) => setTimeout(r, 1000));
      assert.doesNotMatch(red.output, /\[error\]/, red.output);
      for (const p of ['fleet', 'device', 'alerts', 'rollouts', 'steel']) assert.equal((await fetch(`${red.url}/dashboard/${p}`)).status, 200, p);
    } finally {
      await red.stop();
      red.cleanup();
      await broker.close();
    }
  });

  it('Import → Examples offers it (examples/fleet-dashboard.json, as demo/ has it), with a comment that it needs the dashboard package', () => {
    const shipped = fs.readFileSync(path.join(root, 'examples', 'fleet-dashboard.json'), 'utf8');
    assert.equal(shipped, fs.readFileSync(path.join(root, 'demo', 'fleet-dashboard.json'), 'utf8'));
    const needs = flow.find((n) => n.type === 'comment' && /@flowfuse\/node-red-dashboard/.test(String(n.name)));
    assert.ok(needs, 'a comment node naming @flowfuse/node-red-dashboard');
    assert.match(String(needs.info), /quick start/i);
  });
});

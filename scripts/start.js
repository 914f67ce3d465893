#!/usr/bin/env node
// `npm start`: an embedded MQTT broker (aedes) on 127.0.0.1:1883, a simulated fleet publishing into it,
// local mail and chat webhook sinks for the alert-routing example, and Node-RED on 127.0.0.1:1880
// (loopback names only, no cross-origin access) with this package and the quick-start flow.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const settings = require(path.join(root, 'settings.js'));
const { linkPackage } = require('./user-dir.js');
const { scoringForSpeed } = require('./sim-scoring.js');
const { startSinks } = require('./sinks.js');
const otaDemo = require('./ota-demo.js');
const mqttHost = process.env.FLEET_MQTT_HOST || '127.0.0.1';
const mqttPort = Number(process.env.FLEET_MQTT_PORT || 1883);
const devices = Number(process.env.FLEET_DEVICES || 50);
const speed = Number(process.env.FLEET_SIM_SPEED || 5);
const fresh = process.argv.includes('--fresh');

function hasDashboard() {
  try {
    require.resolve('@flowfuse/node-red-dashboard/package.json', { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

function prepareUserDir(demo) {
  const userDir = settings.userDir;
  fs.mkdirSync(userDir, { recursive: true });
  linkPackage(userDir);
  const flowFile = path.join(userDir, settings.flowFile);
  if (fresh || !fs.existsSync(flowFile)) {
    // The shipped flow points at 127.0.0.1:1883; here it points at the broker this script starts.
    const flow = JSON.parse(fs.readFileSync(path.join(root, 'flows', 'quick-start.json'), 'utf8'));
    // The dashboard tab needs @flowfuse/node-red-dashboard (a devDependency), so it lives in demo/,
    // not in flows/ where every flow must work on any Node-RED.
    if (hasDashboard()) flow.push(...JSON.parse(fs.readFileSync(path.join(root, 'demo', 'fleet-dashboard.json'), 'utf8')));
    // The OTA example as its own tab, with the demo's public key and image folder (never the private key).
    flow.push(...otaDemo.patchFlow(JSON.parse(fs.readFileSync(path.join(root, 'flows', 'ota-rollout.json'), 'utf8')), demo));
    if (hasDashboard()) linkOtaToDashboard(flow);
    for (const n of flow) if (n.type === 'mqtt-broker') Object.assign(n, { broker: mqttHost, port: String(mqttPort) });
    scaleHealthWindows(flow);
    fs.writeFileSync(flowFile, JSON.stringify(flow, null, 2));
    console.log(`[start] deployed flows/quick-start.json to ${flowFile}`);
  } else {
    console.log(`[start] keeping your flows in ${flowFile} (npm start -- --fresh puts the quick-start flow back)`);
  }
}

/**
 * The dashboard's Rollouts page and the OTA example's fleet-ota node: the link and catch nodes of
 * demo/fleet-dashboard-ota.json go onto the OTA tab, and the node's outputs 2-4 feed their link out.
 * The example ships without them, as it must deploy where there is no dashboard.
 */
function linkOtaToDashboard(flow) {
  const links = JSON.parse(fs.readFileSync(path.join(root, 'demo', 'fleet-dashboard-ota.json'), 'utf8'));
  const out = links.find((n) => n.type === 'link out');
  const catcher = links.find((n) => n.type === 'catch');
  for (const ota of flow.filter((n) => catcher.scope.includes(n.id))) {
    for (const wire of ota.wires.slice(1)) wire.push(out.id);
  }
  flow.push(...links);
}

/** The fleet runs `speed` times faster than the guides: shorten the health node's counting windows to match. */
function scaleHealthWindows(flow) {
  if (!(speed > 1)) return;
  const { defaultHealthConfig } = require(path.join(root, 'dist', 'lib', 'health', 'config.js'));
  const scaled = scoringForSpeed(defaultHealthConfig(), speed);
  for (const n of flow) {
    if (n.type !== 'fleet-health') continue;
    let scoring = {};
    try { scoring = n.scoring ? JSON.parse(n.scoring) : {}; } catch { continue; }
    n.scoring = JSON.stringify({ ...scoring, windows: { ...scaled.windows, ...(scoring.windows || {}) } });
  }
  const w = scaled.windows;
  console.log(`[start] health windows scaled to the simulator's ${speed}x: rejected readings ${w.invalidReadings} s, restarts ${w.restarts} s, failures ${w.failures} s`);
}

/** Mail and webhook sinks, unless the environment already names real receivers. */
async function receivers() {
  const own = ['FLEET_SMTP_HOST', 'FLEET_CHAT_WEBHOOK'].filter((v) => process.env[v]);
  if (own.length) {
    console.log(`[start] alert receivers from your environment (${own.join(', ')}): no local sinks`);
    return { env: {}, close: async () => undefined };
  }
  const sinks = await startSinks({ host: '127.0.0.1' });
  console.log(`[start] mail sink on smtp://${sinks.env.FLEET_SMTP_HOST}:${sinks.env.FLEET_SMTP_PORT}, chat webhook sink on ${sinks.env.FLEET_CHAT_WEBHOOK}; received: ${sinks.env.FLEET_SINK_URL}/notifications`);
  return sinks;
}

async function startBroker() {
  const { Aedes } = require('aedes');
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(mqttPort, mqttHost, resolve);
  });
  console.log(`[start] MQTT broker (aedes) on mqtt://${mqttHost}:${mqttPort}`);
  return { broker, server };
}

async function main() {
  if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  // A signing key pair and a newer signed image for the OTA example, made once in the user directory.
  const demo = otaDemo.prepare(settings.userDir);
  prepareUserDir(demo);
  const { broker, server } = await startBroker();
  const sinks = await receivers();
  const { VirtualFleet } = require(path.join(root, 'dist', 'firmware', 'simulator', 'fleet.js'));
  const fleet = new VirtualFleet({ brokerUrl: `mqtt://${mqttHost}:${mqttPort}`, devices, speed, controlTopic: true, commands: true, seed: 1 });
  await fleet.start();
  console.log(`[start] virtual fleet: ${devices} devices at ${speed}x the guides' rates`);
  const otaAgent = await otaDemo.startDevices(fleet, `mqtt://${mqttHost}:${mqttPort}`, demo);
  // Three Steel devices (steel-001 … steel-003) for the steel-push example: they take programs and answer.
  const { SteelFleet } = require(path.join(root, 'dist', 'firmware', 'simulator', 'steel-device.js'));
  const steel = new SteelFleet({ brokerUrl: `mqtt://${mqttHost}:${mqttPort}`, devices: 3, controlTopic: true });
  await steel.start();
  console.log('[start] Steel devices steel-001 … steel-003 for the steel-push example');

  // The dashboard prefills its Rollouts and Steel forms with the demo's image and Steel devices.
  const demoEnv = { FLEET_OTA_IMAGE: demo.image, FLEET_STEEL_DEVICES: steel.devices.map((d) => d.id).join(',') };
  const red = spawn(process.execPath, [path.join(__dirname, 'node-red-server.js')], { cwd: root, stdio: 'inherit', env: { ...process.env, ...sinks.env, ...demoEnv } });
  console.log(`[start] Node-RED on http://${settings.uiHost}:${settings.uiPort}/`);
  if (hasDashboard()) console.log(`[start] dashboard on http://${settings.uiHost}:${settings.uiPort}/dashboard`);
  console.log(settings.adminAuth ? `[start] editor and admin API need a login: user ${process.env.FLEET_ADMIN_USER}` : '[start] no editor login (set FLEET_ADMIN_USER and FLEET_ADMIN_PASSWORD to require one)');

  let stopping = false;
  const redExited = new Promise((resolve) => red.once('exit', resolve));
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    red.kill('SIGINT');
    // Node-RED writes its context on the way out: wait for it (10 s at most) before going.
    await Promise.race([redExited, new Promise((r) => setTimeout(r, 10_000))]);
    await otaAgent.stop();
    await steel.stop();
    await fleet.stop();
    await sinks.close();
    await new Promise((r) => broker.close(r));
    server.close();
    process.exit(code);
  };
  red.on('exit', (code) => { void stop(code ?? 0); });
  process.on('SIGINT', () => { void stop(0); });
  process.on('SIGTERM', () => { void stop(0); });
}

main().catch((err) => {
  console.error(`[start] ${err.message}`);
  process.exit(1);
});

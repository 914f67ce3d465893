#!/usr/bin/env node
// The OTA demo for `npm start` (flows/ota-rollout.json). On first start it makes a signing key pair
// and a newer demo image for the simulated env-sensors (1.2.0 → 1.3.0), signed, in the git-ignored
// user directory: <userDir>/ota-demo/keys and <userDir>/ota-demo/images. The private key stays in
// keys/ and never reaches a flow; the flow gets the public key. It then runs the device side of OTA
// for the simulated fleet (firmware/simulator/ota-device.ts).
//
// scripts/start.js calls, in order:
//   const otaDemo = require('./ota-demo.js');
//   const demo = otaDemo.prepare(settings.userDir);           // before Node-RED starts
//   otaDemo.patchFlow(flowNodes, demo);                        // when it writes flows/ota-rollout.json into the flow file
//   const agent = await otaDemo.startDevices(fleet, brokerUrl, demo);  // after fleet.start()
//   await agent.stop();                                        // on the way out
// Run alone (`node scripts/ota-demo.js [userDir]`) it only prepares the keys and image and prints them.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = (...p) => path.join(root, 'dist', ...p);

const DEMO_IMAGE = 'env-sensor-1.3.0';
const DEMO_VERSION = '1.3.0';
const DEMO_KIND = 'env-sensor';

/** A deterministic stand-in for an ESP-IDF app image: a header naming it, then filler. */
function demoImage() {
  const size = 256 * 1024;
  const img = Buffer.alloc(size);
  img.write(`\xe9ESP32-FLEET DEMO ${DEMO_KIND} ${DEMO_VERSION}\n`, 0, 'latin1');
  let x = 0x9e3779b9;
  for (let i = 64; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    img[i] = x & 0xff;
  }
  return img;
}

function prepare(userDir) {
  const { generateSigningKey, readPrivateKey, trustedKeys } = require(dist('lib', 'ota', 'keys.js'));
  const { signImage } = require(dist('lib', 'ota', 'manifest.js'));
  const { ImageRepository } = require(dist('lib', 'ota', 'repository.js'));
  const base = path.join(userDir, 'ota-demo');
  const keysDir = path.join(base, 'keys');
  const keyFile = path.join(keysDir, 'ota-signing.key');
  const pubFile = path.join(keysDir, 'ota-signing.pub');
  fs.mkdirSync(keysDir, { recursive: true });
  let created = false;
  if (!fs.existsSync(keyFile) || !fs.existsSync(pubFile)) {
    const pair = generateSigningKey('ed25519');
    fs.writeFileSync(keyFile, pair.privatePem, { mode: 0o600 });
    fs.writeFileSync(pubFile, pair.publicPem);
    created = true;
  }
  const publicPem = fs.readFileSync(pubFile, 'utf8');
  const repo = new ImageRepository(path.join(base, 'images'), trustedKeys([publicPem]).keys);
  if (!repo.get(DEMO_IMAGE)) {
    const key = readPrivateKey(fs.readFileSync(keyFile, 'utf8'));
    if (!key.ok) throw new Error(`${keyFile}: ${key.reason}`);
    const image = demoImage();
    const r = repo.add(DEMO_IMAGE, image, signImage(image, key.value, { version: DEMO_VERSION, kind: DEMO_KIND }));
    if (!r.ok) throw new Error(`demo image refused: ${r.reason}`);
    created = true;
  }
  if (created) console.log(`[ota-demo] signed ${DEMO_IMAGE} with a new key pair in ${base}`);
  return { publicPem, folder: path.join('ota-demo', 'images'), image: DEMO_IMAGE, version: DEMO_VERSION, kind: DEMO_KIND };
}

/** Gives the flow's fleet-ota nodes the demo's public key and folder (the flow ships without keys). */
function patchFlow(flow, demo) {
  for (const n of flow) {
    if (n.type !== 'fleet-ota') continue;
    if (!n.publicKeys) n.publicKeys = demo.publicPem;
    if (!n.folder || n.folder === 'ota-images') n.folder = demo.folder;
  }
  return flow;
}

/** The device side for the simulated fleet's devices; stepMs paces the stages so progress is visible. */
async function startDevices(fleet, brokerUrl, demo, stepMs = 400) {
  const { OtaDeviceAgent } = require(dist('firmware', 'simulator', 'ota-device.js'));
  const agent = new OtaDeviceAgent({ brokerUrl, devices: fleet.devices, trustedKeys: [demo.publicPem], stepMs, chunkBytes: 32 * 1024 });
  await agent.start();
  console.log('[ota-demo] simulated devices take ota/update/+; the fault button publishes sim/ota-fault/all');
  return agent;
}

module.exports = { prepare, patchFlow, startDevices, DEMO_IMAGE };

if (require.main === module) {
  const settings = require(path.join(root, 'settings.js'));
  const demo = prepare(process.argv[2] || settings.userDir);
  console.log(JSON.stringify({ folder: demo.folder, image: demo.image, version: demo.version }, null, 2));
}

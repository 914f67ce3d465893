#!/usr/bin/env node
/** esp32-fleet-sim: runs a virtual fleet against a broker until interrupted. */
import { FLEET_USAGE, parseFleetArgs } from './cli-args';
import { VirtualFleet } from './fleet';

async function main(): Promise<void> {
  const args = parseFleetArgs(process.argv.slice(2));
  if (!args.ok) {
    console.error(args.usage);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    console.log(FLEET_USAGE);
    return;
  }
  const fleet = new VirtualFleet(args.options);
  await fleet.start();
  console.log(`virtual fleet: ${args.options.devices} devices publishing to ${args.options.brokerUrl} at ${args.options.speed ?? 1}x`);
  const stop = (): void => { void fleet.stop().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`esp32-fleet-sim: ${err.message}`);
  process.exit(1);
});

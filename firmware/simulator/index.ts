/**
 * The simulator's entry (`@esp32-fleet/node-red-fleet/simulator`): a virtual fleet speaking the wire
 * contract over MQTT, for tests, benches and demos. Kept apart from the domain API so that using
 * the decoder or health does not load an MQTT client.
 */
export { VirtualFleet, fleetSpecs, scaledIntervals, DEFAULT_MIX, type FleetOptions } from './fleet';
export { VirtualDevice, FAULTS, GUIDE_INTERVALS, IDLE, type DeviceProfile, type DeviceSpec, type Fault, type Intervals, type Publication } from './device';
export { parseFleetArgs, FLEET_USAGE, type FleetArgs } from './cli-args';

/** The package's domain API, for flows' function nodes, scripts and other packages. */
export { Decoder, DEFAULT_DECODER_OPTIONS, DEVICE_KINDS, type Decoded, type DecodeResult, type DeviceRef } from './decode/decoder';
export { RejectError, describeReject, type Reject, type RejectCode } from './decode/reject';
export { FleetRegistry, type PresenceEvent } from './registry/registry';
export { DeviceTable, type DeviceRecord } from './registry/device-table';
export { TOPIC_ROUTES, topicFor, PROFILES } from '../firmware/contract/topics';
export { CONTRACT_VERSION, schemaFor, schemaNames } from '../firmware/contract/schemas';
export { parseConsoleLine } from '../firmware/contract/console';
export { VirtualFleet, fleetSpecs } from '../firmware/simulator/fleet';
export { VirtualDevice, FAULTS, type Fault } from '../firmware/simulator/device';

/**
 * Typed builders for what the server sends a device: the topic from the topic map, the body typed by
 * the type generated from its schema and checked by the schema itself before it leaves. For the
 * nodes that send (OTA, configuration, commands, Steel).
 */
import type { Command, ConfigUpdate, Emergency, OtaCancel, OtaUpdate, SteelProgramLoad, SteelProgramRequest, WhofiIdfCommand } from './generated';
import { deviceIdProblem } from './identity';
import { CONTRACT_VERSION, SchemaBook } from './schemas';
import { BROADCAST_TARGET, TOPIC_ROUTES, topicFor } from './topics';

export interface Downlink {
  readonly topic: string;
  /** JSON text, as it goes on the wire. */
  readonly payload: string;
  /** Commands must arrive; a retained command would run again at every reconnect. */
  readonly qos: 1;
  readonly retain: false;
}

/** A body the schema refuses or a device id the contract does not allow; names the field. */
export class DownlinkError extends TypeError {
  constructor(readonly routeId: string, readonly path: string, reason: string) {
    super(`${routeId}: ${path === '' ? 'body' : path} ${reason}`);
    this.name = 'DownlinkError';
  }
}

const book = new SchemaBook();

function build(routeId: string, device: string, body: object): Downlink {
  const r = TOPIC_ROUTES.find((x) => x.id === routeId);
  if (!r || r.direction !== 'down' || r.schema === null) throw new Error(`${routeId} is not a downlink route with a schema`);
  const broadcast = r.broadcast === true && device === BROADCAST_TARGET;
  const problem = broadcast ? null : deviceIdProblem(device);
  if (problem !== null) throw new DownlinkError(routeId, 'device', problem);
  const error = book.validator(r.schema, 'keep', CONTRACT_VERSION)(body);
  if (error !== null) throw new DownlinkError(routeId, error.path, error.reason);
  return { topic: topicFor(routeId, { device }), payload: JSON.stringify(body), qos: 1, retain: false };
}

/** `ota/update/{device}`: fetch, verify and install an image. */
export const otaUpdate = (device: string, body: OtaUpdate): Downlink => build('ota.update', device, body);

/** `ota/cancel/{device}`: stop working on a job whose rollout was aborted. */
export const otaCancel = (device: string, body: OtaCancel): Downlink => build('ota.cancel', device, body);

/** `config/update/{device}`: new settings, applied when `config_version` is newer than the device's. */
export const configUpdate = (device: string, body: ConfigUpdate): Downlink => build('config.update', device, body);

/** `esp32/{device}/command`: an environmental monitor's command (reset, restart, report, identify). */
export const command = (device: string, body: Command): Downlink => build('esp32.command', device, body);

/** `esp32/{device}/emergency`: shutdown, safe mode or resume. */
export const emergency = (device: string, body: Emergency): Downlink => build('esp32.emergency', device, body);

/** `steel-programs/{device|broadcast}/load`: a Steel program to load (and start): aws-iot-steel's ProgramMessage (steel.ts buildLoadMessage). */
export const steelLoad = (device: string, body: SteelProgramLoad): Downlink => build('steel.load', device, body);

/** `steel-programs/{device|broadcast}/execute`, `…/{device}/stop|remove|status`: a ProgramExecutionRequest (steel.ts buildRequest). */
export const steelRequest = (operation: 'execute' | 'stop' | 'remove' | 'status', device: string, body: SteelProgramRequest): Downlink => build(`steel.${operation}`, device, body);

/** `devices/{device}/command`: whofi ESP-IDF's command. */
export const whofiCommand = (device: string, body: WhofiIdfCommand): Downlink => build('whofi.idf.command', device, body);

/** `csi/{device}/config`: the CSI server's node configuration (its fields are the firmware's own). */
export const csiConfig = (device: string, body: Readonly<Record<string, unknown>>): Downlink => build('csi.config', device, body);

/** `devices/{device}/config`: whofi ESP-IDF's configuration (the CSI server's fields). */
export const whofiConfig = (device: string, body: Readonly<Record<string, unknown>>): Downlink => build('whofi.idf.config', device, body);

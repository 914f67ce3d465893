/**
 * fleet-decode's saved-flow migrations, run by the runtime on deploy and by the editor when it opens a node.
 * Version 0 (no configVersion: flows from before versioning or written by hand) left out the fields whose
 * default the runtime filled in; version 1 writes them, so the editor's checks see what the runtime runs.
 */
import { DEFAULT_DECODER_OPTIONS } from '../../lib/decode/decoder';
import { fillAbsent, type Migration } from '../shared/migrations';

export const FLEET_DECODE_VERSION = 1;

export const migrations: readonly Migration[] = [
  fillAbsent({
    profiles: DEFAULT_DECODER_OPTIONS.profiles,
    kinds: DEFAULT_DECODER_OPTIONS.deviceKinds,
    unknownFields: DEFAULT_DECODER_OPTIONS.unknownFields,
    maxBytes: DEFAULT_DECODER_OPTIONS.maxPayloadBytes,
    prefixMap: '',
    rejects: 'output',
    includeCommands: DEFAULT_DECODER_OPTIONS.includeCommands,
  }),
];

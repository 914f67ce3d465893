/**
 * fleet-decode's saved-flow migrations, run by the runtime on deploy and by the editor when it opens a node.
 * Version 0 (no configVersion: flows from before versioning or written by hand) left out the fields whose
 * default the runtime filled in; version 1 writes them, so the editor's checks see what the runtime runs.
 */
import { DEFAULT_DECODER_OPTIONS } from '../../lib/decode/decoder';
import type { Migration } from '../shared/migrations';

export const FLEET_DECODE_VERSION = 1;

const absent = (v: unknown): boolean => v === undefined || v === null || v === '';

export const migrations: readonly Migration[] = [
  {
    from: 0,
    to: 1,
    migrate: (def) => ({
      ...def,
      profiles: absent(def.profiles) ? [...DEFAULT_DECODER_OPTIONS.profiles] : def.profiles,
      kinds: absent(def.kinds) ? [...DEFAULT_DECODER_OPTIONS.deviceKinds] : def.kinds,
      unknownFields: absent(def.unknownFields) ? DEFAULT_DECODER_OPTIONS.unknownFields : def.unknownFields,
      maxBytes: absent(def.maxBytes) ? DEFAULT_DECODER_OPTIONS.maxPayloadBytes : def.maxBytes,
      prefixMap: def.prefixMap ?? '',
      rejects: absent(def.rejects) ? 'output' : def.rejects,
      includeCommands: def.includeCommands ?? DEFAULT_DECODER_OPTIONS.includeCommands,
    }),
  },
];

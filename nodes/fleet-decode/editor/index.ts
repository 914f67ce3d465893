/**
 * fleet-decode's editor. Profiles, kinds and defaults come from the contract and the decoder; every
 * field is checked by the runtime's own parser (parseDecodeConfig), so a value the dialog accepts deploys.
 */
import { PROFILES } from '../../../firmware/contract/topics';
import { parseDecodeConfig, type SavedDecodeConfig } from '../../../lib/decode/config';
import { DEFAULT_DECODER_OPTIONS, DEVICE_KINDS } from '../../../lib/decode/decoder';
import { inputs, isEnvReference, migrateOnOpen, validator } from '../../shared/editor/helpers';
import { FLEET_DECODE_VERSION, migrations } from '../migrations';

/** The runtime's verdict on one field: its reason when that field is at fault, else null. */
function runtimeRule(field: keyof SavedDecodeConfig) {
  return (value: unknown): string | null => {
    if (field === 'maxBytes' && isEnvReference(value)) return null;
    const r = parseDecodeConfig({ [field]: value });
    return r.ok || r.field !== field ? null : r.reason;
  };
}

const DEFAULTS = ['name', 'registry', 'profiles', 'kinds', 'unknownFields', 'maxBytes', 'prefixMap', 'rejects', 'includeCommands'];

RED.nodes.registerType('fleet-decode', {
  category: 'ESP32 fleet',
  color: '#9fd4c7',
  icon: 'fleet-decode.svg',
  inputs: 1,
  outputs: 2,
  defaults: {
    name: { value: '' },
    registry: { value: '', type: 'fleet-registry', required: false },
    profiles: { value: [...PROFILES], validate: validator('fleet-decode.errors.profiles', runtimeRule('profiles')) },
    kinds: { value: [...DEVICE_KINDS], validate: validator('fleet-decode.errors.kinds', runtimeRule('kinds')) },
    unknownFields: { value: DEFAULT_DECODER_OPTIONS.unknownFields },
    maxBytes: { value: DEFAULT_DECODER_OPTIONS.maxPayloadBytes, validate: validator('fleet-decode.errors.maxBytes', runtimeRule('maxBytes')) },
    prefixMap: { value: '', validate: validator('fleet-decode.errors.prefixMap', runtimeRule('prefixMap')) },
    rejects: { value: 'output' },
    includeCommands: { value: DEFAULT_DECODER_OPTIONS.includeCommands },
    configVersion: { value: FLEET_DECODE_VERSION },
  },
  outputLabels(i) { return this._(i === 0 ? 'fleet-decode.outputs.decoded' : 'fleet-decode.outputs.rejected'); },
  label() { return typeof this.name === 'string' && this.name ? this.name : 'fleet decode'; },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  paletteLabel: 'fleet decode',
  oneditprepare() {
    migrateOnOpen(this, migrations, FLEET_DECODE_VERSION, DEFAULTS);
    const saved = (v: unknown, all: readonly string[]): string[] => (Array.isArray(v) ? v.map(String) : [...all]);
    inputs.checkboxes('#fleet-decode-profiles', PROFILES, saved(this.profiles, PROFILES));
    inputs.checkboxes('#fleet-decode-kinds', DEVICE_KINDS, saved(this.kinds, DEVICE_KINDS));
  },
  oneditsave() {
    this.profiles = inputs.checkedValues('#fleet-decode-profiles');
    this.kinds = inputs.checkedValues('#fleet-decode-kinds');
  },
});

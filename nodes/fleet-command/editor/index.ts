/**
 * fleet-command's editor. Fields are checked by the runtime's own parser (parseCommandConfig); the
 * fleet file is checked by the runtime's fleet parser and resolver through the node's admin endpoint
 * (the YAML and schema code stays on the server). Targets can be picked from the registry's devices.
 */
import { parseCommandConfig, parseScopeText, type SavedCommandConfig } from '../../../lib/command/node-config';
import { askRuntime, getFromRuntime, inputs, migrateOnOpen, showResult, validator } from '../../shared/editor/helpers';
import { FLEET_COMMAND_VERSION, migrations } from '../migrations';

function runtimeRule(field: keyof SavedCommandConfig) {
  return (value: unknown): string | null => {
    const r = parseCommandConfig({ [field]: value });
    return r.ok || r.field !== field ? null : r.reason;
  };
}

const DEFAULTS = ['name', 'mode', 'registry', 'fleetFile', 'dryRun', 'targets', 'scope', 'broadcast', 'broker', 'brokerUrl', 'brokerTls', 'allowCleartextSecrets', 'wifiSecretName', 'mqttSecretName', 'ackTimeoutS', 'retries'];

interface ValidateAnswer { ok: boolean; devices?: number; errors: string[]; warnings: string[] }
interface DevicesAnswer { devices: Array<{ id: string }> }

/** The confirmation phrase a message must carry, restated from the mode and scope. */
function phrase(mode: string, scope: string, targets: string): string | null {
  if (mode === 'emergency') {
    const s = parseScopeText(scope);
    if (s === null) return null;
    const name = s === 'fleet' ? 'fleet' : 'site' in s ? `site ${s.site}` : `location ${s.location}`;
    return `shutdown ${name} (resume: "resume ${name}")`;
  }
  if (mode === 'reset' && targets.trim() === '') return 'reset fleet';
  return null;
}

/** Mode-dependent rows, the confirmation reminder, the fleet-file check and the device picker. */
function prepare(node: EditorNode): void {
  const show = () => {
    const mode = inputs.text('#node-input-mode');
    $('.fleet-command-push').toggle(mode === 'push');
    $('.fleet-command-reset').toggle(mode === 'reset');
    $('.fleet-command-emergency').toggle(mode === 'emergency');
    const p = phrase(mode, inputs.text('#node-input-scope'), inputs.text('#node-input-targets'));
    $('.fleet-command-confirm').toggle(p !== null);
    if (p !== null) $('#fleet-command-confirm').text(node._('fleet-command.editor.confirm', { phrase: p }));
  };
  $('#node-input-mode, #node-input-scope, #node-input-targets').on('change keyup', show);
  show();

  $('#fleet-command-check').on('click', () => {
    // Relative URL: works under any httpAdminRoot.
    askRuntime<ValidateAnswer>('fleet-command/validate', { text: inputs.text('#node-input-fleetFile') }, {
      messageElement: '#fleet-command-check-result', node,
      done: (a) => {
        const lines = [...a.errors, ...a.warnings.map((w) => `warning: ${w}`)];
        const head = a.ok ? node._('fleet-command.editor.valid', { devices: a.devices ?? 0 }) : node._('fleet-command.editor.invalid', { count: a.errors.length });
        showResult('#fleet-command-check-result', a.ok, [head, ...lines.slice(0, 12)].join('\n'));
      },
    });
  });

  $('#fleet-command-pick').on('click', () => {
    const reg = inputs.text('#node-input-registry');
    if (!reg || reg === '_ADD_') { showResult('#fleet-command-check-result', false, node._('fleet-command.editor.noRegistry')); return; }
    getFromRuntime<DevicesAnswer>(`fleet-registry/${encodeURIComponent(reg)}/devices`, { limit: 500 }, {
      messageElement: '#fleet-command-check-result', node,
      done: (a) => {
        const chosen = new Set(inputs.text('#node-input-targets').split(/[\s,]+/).filter(Boolean));
        const $s = $('#fleet-command-devices').empty().show();
        for (const d of a.devices) $('<option>').val(d.id).text(d.id).prop('selected', chosen.has(d.id)).appendTo($s);
        $s.off('change').on('change', () => {
          const v = $s.val();
          $('#node-input-targets').val(Array.isArray(v) ? v.join(', ') : '').trigger('change');
        });
      },
    });
  });
}

RED.nodes.registerType('fleet-command', {
  category: 'ESP32 fleet',
  color: '#e2b48f',
  icon: 'fleet-command.svg',
  inputs: 1,
  outputs: 3,
  defaults: {
    name: { value: '' },
    mode: { value: 'push', validate: validator('fleet-command.errors.config', runtimeRule('mode')) },
    registry: { value: '', type: 'fleet-registry', required: false },
    fleetFile: { value: '' },
    dryRun: { value: false },
    targets: { value: '', validate: validator('fleet-command.errors.targets', runtimeRule('targets')) },
    scope: { value: 'fleet', validate: validator('fleet-command.errors.scope', runtimeRule('scope')) },
    broadcast: { value: false },
    broker: { value: '', type: 'mqtt-broker', required: false },
    brokerUrl: { value: '', validate: validator('fleet-command.errors.brokerUrl', runtimeRule('brokerUrl')) },
    brokerTls: { value: false },
    allowCleartextSecrets: { value: false },
    wifiSecretName: { value: 'PROD_WIFI_PASSWORD', validate: validator('fleet-command.errors.secretName', runtimeRule('wifiSecretName')) },
    mqttSecretName: { value: 'PROD_MQTT_PASSWORD', validate: validator('fleet-command.errors.secretName', runtimeRule('mqttSecretName')) },
    ackTimeoutS: { value: 60, validate: validator('fleet-command.errors.ackTimeoutS', runtimeRule('ackTimeoutS')) },
    retries: { value: 2, validate: validator('fleet-command.errors.retries', runtimeRule('retries')) },
    configVersion: { value: FLEET_COMMAND_VERSION },
  },
  credentials: { wifiPassword: { type: 'password' }, mqttPassword: { type: 'password' } },
  outputLabels(i) { return this._(['fleet-command.outputs.mqtt', 'fleet-command.outputs.results', 'fleet-command.outputs.alerts'][i] ?? ''); },
  label() { return typeof this.name === 'string' && this.name ? this.name : `fleet command: ${String(this.mode ?? 'push')}`; },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  paletteLabel: 'fleet command',
  oneditprepare() {
    migrateOnOpen(this, migrations, FLEET_COMMAND_VERSION, DEFAULTS);
    prepare(this);
  },
});

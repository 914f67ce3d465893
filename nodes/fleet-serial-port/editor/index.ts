/**
 * fleet-serial-port's editor: the port's path (picked from the runtime's list of ports, or typed) and its
 * line settings, each checked by the runtime's own parser (parsePortSettings).
 */
import { BAUD_RATES, DATA_BITS, DEFAULT_BAUD, PARITIES, parsePortSettings, STOP_BITS } from '../../../lib/serial/config';
import { DEFAULT_LINE_MAX_BYTES } from '../../../lib/serial/line-splitter';
import type { PortInfo } from '../../../lib/serial/port-list';
import { getFromRuntime, migrateOnOpen, showResult, validator } from '../../shared/editor/helpers';
import { FLEET_SERIAL_PORT_VERSION, migrations } from '../migrations';

const DEFAULTS = ['name', 'path', 'baudRate', 'dataBits', 'parity', 'stopBits', 'lineMaxBytes'];

/** The runtime's verdict on one field, with the others at their defaults. */
function runtimeRule(field: string) {
  return (value: unknown): string | null => {
    const r = parsePortSettings({ path: '/dev/ttyUSB0', [field]: value });
    return r.ok || r.field !== field ? null : r.reason;
  };
}

function fillSelect(selector: string, values: readonly (string | number)[], current: unknown): void {
  const $s = $(selector).empty();
  for (const v of values) $('<option>').val(String(v)).text(String(v)).appendTo($s);
  $s.val(String(current));
}

function listPorts(node: EditorNode): void {
  const $list = $('#node-config-fleet-serial-port-list').empty();
  showResult('#node-config-fleet-serial-port-message', true, node._('fleet-serial-port.editor.searching'));
  // Relative URL: resolved under the editor's httpAdminRoot.
  getFromRuntime<{ ports: PortInfo[] }>('fleet-serial-port/ports', {}, {
    node,
    messageElement: '#node-config-fleet-serial-port-message',
    done: ({ ports }) => {
      for (const p of ports) $('<option>').val(p.path).text([p.path, p.manufacturer, p.serialNumber].filter(Boolean).join(' · ')).appendTo($list);
      showResult('#node-config-fleet-serial-port-message', ports.length > 0, node._(ports.length ? 'fleet-serial-port.editor.found' : 'fleet-serial-port.editor.none', { count: ports.length }));
    },
  });
}

RED.nodes.registerType('fleet-serial-port', {
  category: 'config',
  defaults: {
    name: { value: '' },
    path: { value: '', required: true, validate: validator('fleet-serial-port.errors.path', runtimeRule('path')) },
    baudRate: { value: DEFAULT_BAUD, validate: validator('fleet-serial-port.errors.baudRate', runtimeRule('baudRate')) },
    dataBits: { value: 8, validate: validator('fleet-serial-port.errors.dataBits', runtimeRule('dataBits')) },
    parity: { value: 'none', validate: validator('fleet-serial-port.errors.parity', runtimeRule('parity')) },
    stopBits: { value: 1, validate: validator('fleet-serial-port.errors.stopBits', runtimeRule('stopBits')) },
    lineMaxBytes: { value: DEFAULT_LINE_MAX_BYTES, validate: validator('fleet-serial-port.errors.lineMaxBytes', runtimeRule('lineMaxBytes')) },
    configVersion: { value: FLEET_SERIAL_PORT_VERSION },
  },
  label() {
    const path = typeof this.path === 'string' ? this.path : '';
    return typeof this.name === 'string' && this.name ? this.name : `${path}:${String(this.baudRate ?? DEFAULT_BAUD)}`;
  },
  oneditprepare() {
    migrateOnOpen(this, migrations, FLEET_SERIAL_PORT_VERSION, DEFAULTS, 'node-config-input');
    fillSelect('#node-config-input-dataBits', DATA_BITS, this.dataBits ?? 8);
    fillSelect('#node-config-input-parity', PARITIES, this.parity ?? 'none');
    fillSelect('#node-config-input-stopBits', STOP_BITS, this.stopBits ?? 1);
    const $bauds = $('#node-config-fleet-serial-port-bauds').empty();
    for (const b of BAUD_RATES) $('<option>').val(String(b)).appendTo($bauds);
    $('#node-config-fleet-serial-port-search').on('click', (e) => { e.preventDefault(); listPorts(this); });
    listPorts(this);
  },
});

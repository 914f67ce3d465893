/**
 * fleet-registry's editor: its settings, checked against the bounds the runtime uses (lib/registry/defaults),
 * and the devices the deployed registry holds, read from its admin endpoint.
 */
import { AUDIT_CAPACITY, parseAuditCapacity } from '../../../lib/registry/audit';
import { FLUSH_MS, MAX_DEVICES, parseFlushMs, parseMaxDevices } from '../../../lib/registry/defaults';
import { getFromRuntime, inputs, migrateOnOpen, validator } from '../../shared/editor/helpers';
import { FLEET_REGISTRY_VERSION, migrations } from '../migrations';

interface DeviceRow { id: string; kind?: string; arch?: string; firmware?: string; online: boolean; health?: string | null; score?: number | null; lastSeen: number }

const HEALTH_COLOURS = new Map([['healthy', '#5a8'], ['degraded', '#d90'], ['critical', '#c33'], ['offline', '#888'], ['unknown', '#aaa']]);
const DEFAULTS = ['name', 'persist', 'store', 'flushMs', 'maxDevices'];
const LIST = '#node-config-fleet-registry-devices';

function renderDevices(node: EditorNode): void {
  const $list = $(LIST).empty();
  const $count = $('#node-config-fleet-registry-device-count').text('');
  // Relative URL: the editor resolves it under its own httpAdminRoot.
  getFromRuntime<{ count: number; devices: DeviceRow[] }>(`fleet-registry/${encodeURIComponent(node.id)}/devices`, { q: inputs.text('#node-config-fleet-registry-filter'), limit: 500 }, {
    node,
    messageElement: LIST,
    done: (data) => {
      $count.text(node._('fleet-registry.devices.count', { count: data.count }));
      if (!data.devices.length) { $('<li>').text(node._('fleet-registry.devices.none')).appendTo($list); return; }
      for (const d of data.devices) {
        const $li = $('<li class="fleet-registry-device">').appendTo($list);
        $('<span class="fleet-registry-dot">').css('background', d.online ? '#5a8' : '#aaa').appendTo($li);
        $('<code>').text(d.id).appendTo($li);
        $('<span>').text(` ${[d.kind, d.arch, d.firmware].filter(Boolean).join(' · ')}`).appendTo($li);
        if (d.health) {
          $('<span class="fleet-registry-health">').css('color', HEALTH_COLOURS.get(d.health) ?? '#aaa')
            .text(` ${d.health}${d.score !== null && d.score !== undefined ? ` ${d.score}` : ''}`).appendTo($li);
        }
        $('<span class="fleet-registry-seen">').text(new Date(d.lastSeen).toLocaleString()).appendTo($li);
      }
    },
    fail: (xhr) => {
      const msg = xhr.status === 404 ? node._('fleet-registry.devices.notDeployed') : node._('fleet-registry.devices.failed', { message: xhr.statusText || xhr.status });
      $('<li>').text(msg).appendTo($list);
    },
  });
}

RED.nodes.registerType('fleet-registry', {
  category: 'config',
  defaults: {
    name: { value: '' },
    persist: { value: true },
    store: { value: '' },
    flushMs: {
      value: FLUSH_MS.default,
      validate: validator('fleet-registry.errors.flushMs', (v) => { const r = parseFlushMs(v); return r.ok ? null : r.reason; }),
    },
    // Empty: the runtime's FLEET_MAX_DEVICES, else the default.
    maxDevices: {
      value: '',
      validate: validator('fleet-registry.errors.maxDevices', (v) => { const r = parseMaxDevices(v); return r.ok ? null : r.reason; }),
    },
    // Empty: AUDIT_CAPACITY.default entries (fleet-command's pushes and commands).
    auditMax: {
      value: '',
      validate: validator('fleet-registry.errors.auditMax', (v) => { const r = parseAuditCapacity(v); return r.ok ? null : r.reason; }),
    },
    configVersion: { value: FLEET_REGISTRY_VERSION },
  },
  label() { return typeof this.name === 'string' && this.name ? this.name : 'fleet registry'; },
  oneditprepare() {
    migrateOnOpen(this, migrations, FLEET_REGISTRY_VERSION, DEFAULTS, 'node-config-input');
    $('#node-config-input-flushMs').spinner({ min: FLUSH_MS.min, max: FLUSH_MS.max, step: 100 });
    $('#node-config-input-maxDevices').spinner({ min: MAX_DEVICES.min, max: MAX_DEVICES.max, step: 100 });
    $('#node-config-input-auditMax').spinner({ min: AUDIT_CAPACITY.min, max: AUDIT_CAPACITY.max, step: 100 });
    $('#node-config-fleet-registry-refresh').on('click', (e) => { e.preventDefault(); renderDevices(this); });
    $('#node-config-fleet-registry-filter').on('change', () => renderDevices(this));
    renderDevices(this);
  },
});

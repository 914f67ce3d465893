/**
 * fleet-health's editor. The factor table, kinds and defaults come from the domain
 * (defaultHealthConfig); the dialog is checked by the runtime's own parser (parseHealthConfig), and a
 * refusal is shown at the field it names, highlighted.
 */
import { defaultHealthConfig, parseHealthConfig, type FactorName, type HealthConfig } from '../../../lib/health/config';
import { DEFAULT_OVERLOAD, OVERLOAD_BOUNDS } from '../../../lib/health/overload-config';
import type { DeviceKind } from '../../../firmware/contract/topics';
import { inputs, migrateOnOpen, showResult, validator } from '../../shared/editor/helpers';
import { FLEET_HEALTH_VERSION, migrations } from '../migrations';

const COLS = ['warn', 'crit', 'warnCost', 'critCost'] as const;
const DEFAULTS = ['name', 'registry', 'scoring', 'sweepS', 'summaryS'];
const SWEEP_S = { min: 1, max: 3600 };
const SUMMARY_S = { min: 0, max: 86400 };
const CHECK = '#fleet-health-check';

const base = (): HealthConfig => defaultHealthConfig();
const kindsOf = (cfg: HealthConfig): DeviceKind[] => Object.keys(cfg.silence.intervals) as DeviceKind[];
const intervalInput = (k: string): string => `#fleet-health-interval-${k}`;

/** The dialog read back into a scoring configuration; throws on per-kind overrides that are not JSON. */
function readDialog(): HealthConfig {
  const cfg = base();
  $('#fleet-health-factors tbody tr.fh-factor').each(function () {
    const name = String($(this).data('factor')) as FactorName;
    const f = cfg.factors[name];
    f.enabled = $(this).find('input.fh-on').prop('checked') === true;
    for (const c of COLS) f[c] = Number($(this).find(`input.fh-${c}`).val());
  });
  cfg.silence.multiple = inputs.number('#fleet-health-multiple');
  for (const k of kindsOf(cfg)) cfg.silence.intervals[k] = inputs.number(intervalInput(k));
  cfg.hysteresis.raiseAfter = inputs.number('#fleet-health-raise');
  cfg.hysteresis.clearAfter = inputs.number('#fleet-health-clear');
  cfg.degradedBelow = inputs.number('#fleet-health-degraded');
  cfg.criticalBelow = inputs.number('#fleet-health-critical');
  const kinds = inputs.text('#fleet-health-kinds').trim();
  cfg.kinds = kinds ? JSON.parse(kinds) as HealthConfig['kinds'] : {};
  return cfg;
}

function fillDialog(node: EditorNode, cfg: HealthConfig): void {
  const $body = $('#fleet-health-factors tbody').empty();
  for (const [name, f] of Object.entries(cfg.factors)) {
    const $tr = $('<tr class="fh-factor">').data('factor', name).appendTo($body);
    const worse = node._(f.direction === 'lower' ? 'fleet-health.editor.lowerWorse' : 'fleet-health.editor.higherWorse');
    $('<td>').append($('<span>').text(name).attr('title', `${f.label} (${worse})`)).appendTo($tr);
    $('<td class="fh-unit">').text(f.unit).appendTo($tr);
    $('<td>').append($('<input type="checkbox" class="fh-on">').prop('checked', f.enabled)).appendTo($tr);
    for (const c of COLS) $('<td>').append($('<input type="number" step="any">').addClass(`fh-${c}`).val(f[c])).appendTo($tr);
  }
  const $iv = $('#fleet-health-intervals').empty();
  for (const k of kindsOf(cfg)) {
    const $pair = $('<span class="fh-interval">').appendTo($iv);
    $('<label>').attr('for', intervalInput(k).slice(1)).text(k).appendTo($pair);
    $('<input type="number" step="any">').attr('id', intervalInput(k).slice(1)).val(cfg.silence.intervals[k]).appendTo($pair);
  }
  $('#fleet-health-multiple').val(cfg.silence.multiple);
  $('#fleet-health-raise').val(cfg.hysteresis.raiseAfter);
  $('#fleet-health-clear').val(cfg.hysteresis.clearAfter);
  $('#fleet-health-degraded').val(cfg.degradedBelow);
  $('#fleet-health-critical').val(cfg.criticalBelow);
  $('#fleet-health-kinds').val(Object.keys(cfg.kinds).length ? JSON.stringify(cfg.kinds, null, 2) : '');
}

/** The inputs a refused field names, so they can be highlighted where the user typed. */
function inputsFor(field: string, reason: string): JQuery {
  const factor = /^factors\.([\w-]+)$/.exec(field);
  if (factor) {
    const $row = $('#fleet-health-factors tbody tr.fh-factor').filter(function () { return $(this).data('factor') === factor[1]; });
    const key = /\.(warn|crit|warnCost|critCost|enabled) must/.exec(reason)?.[1];
    if (key) return $row.find(key === 'enabled' ? 'input.fh-on' : `input.fh-${key}`);
    return $row.find(/costs/.test(reason) ? 'input.fh-warnCost, input.fh-critCost' : 'input.fh-warn, input.fh-crit');
  }
  const ids: Record<string, string> = {
    'silence.multiple': '#fleet-health-multiple', 'hysteresis.raiseAfter': '#fleet-health-raise', 'hysteresis.clearAfter': '#fleet-health-clear',
    degradedBelow: '#fleet-health-degraded', criticalBelow: '#fleet-health-degraded, #fleet-health-critical',
  };
  const interval = /^silence\.intervals\.([\w-]+)$/.exec(field);
  if (interval) return $(intervalInput(interval[1]));
  if (Object.prototype.hasOwnProperty.call(ids, field)) return $(ids[field]);
  return field.startsWith('kinds') ? $('#fleet-health-kinds') : $();
}

/** The runtime's parser checks the dialog: the editor cannot accept what a deploy would refuse. */
function check(node: EditorNode): void {
  $('#fleet-health-form .input-error').removeClass('input-error');
  $('#fleet-health-factors tr.fh-error-row').remove();
  let cfg: HealthConfig;
  try {
    cfg = readDialog();
  } catch {
    $('#fleet-health-kinds').addClass('input-error');
    showResult(CHECK, false, node._('fleet-health.errors.json'));
    return;
  }
  const r = parseHealthConfig(cfg);
  if (r.ok) { showResult(CHECK, true, node._('fleet-health.text.valid')); return; }
  // The parser's reason often starts with the field already ("factors.heap: crit ..."): say it once.
  const reason = r.reason.startsWith(`${r.field}:`) ? r.reason.slice(r.field.length + 1).trim() : r.reason;
  const text = node._('fleet-health.text.invalid', { field: r.field, reason });
  inputsFor(r.field, r.reason).addClass('input-error');
  const factor = /^factors\.([\w-]+)$/.exec(r.field)?.[1];
  if (factor) {
    // The reason under the factor's row, where the user typed, not only at the bottom of the dialog.
    const $row = $('#fleet-health-factors tbody tr.fh-factor').filter(function () { return $(this).data('factor') === factor; });
    $('<tr class="fh-error-row">').append($('<td colspan="7" class="fh-error">').text(reason)).insertAfter($row);
  }
  showResult(CHECK, false, text);
}

const bounded = (b: { min: number; max: number }) => (v: unknown): string | null => {
  const n = Number(v);
  return v !== '' && Number.isFinite(n) && n >= b.min && n <= b.max ? null : `${b.min}–${b.max}`;
};

/** A field flows saved before it existed leave out: absent is the runtime's default, not an error. */
const optional = (rule: (v: unknown) => string | null) => (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : rule(v));

RED.nodes.registerType('fleet-health', {
  category: 'ESP32 fleet',
  color: '#a6d4a0',
  icon: 'fleet-health.svg',
  inputs: 1,
  outputs: 3,
  defaults: {
    name: { value: '' },
    registry: { value: '', type: 'fleet-registry', required: false },
    scoring: {
      value: '',
      validate: validator('fleet-health.errors.config', (v) => {
        if (!v) return null;
        const r = parseHealthConfig(v);
        return r.ok ? null : `${r.field}: ${r.reason.startsWith(`${r.field}:`) ? r.reason.slice(r.field.length + 1).trim() : r.reason}`;
      }),
    },
    sweepS: { value: 5, validate: validator('fleet-health.errors.sweepS', bounded(SWEEP_S)) },
    summaryS: { value: 60, validate: validator('fleet-health.errors.summaryS', bounded(SUMMARY_S)) },
    // Absent in flows saved before these existed: the runtime reads that as the same defaults.
    coalesceMs: { value: DEFAULT_OVERLOAD.coalesceMs, validate: validator('fleet-health.errors.coalesceMs', optional(bounded(OVERLOAD_BOUNDS.coalesceMs))) },
    overloadMs: { value: DEFAULT_OVERLOAD.overloadMs, validate: validator('fleet-health.errors.overloadMs', optional(bounded(OVERLOAD_BOUNDS.overloadMs))) },
    overloadS: { value: DEFAULT_OVERLOAD.overloadForMs / 1000, validate: validator('fleet-health.errors.overloadS', optional(bounded(OVERLOAD_BOUNDS.overloadS))) },
    configVersion: { value: FLEET_HEALTH_VERSION },
  },
  outputLabels(i) { return this._(['fleet-health.outputs.changes', 'fleet-health.outputs.alerts', 'fleet-health.outputs.summary'][i] ?? ''); },
  label() { return typeof this.name === 'string' && this.name ? this.name : 'fleet health'; },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  paletteLabel: 'fleet health',
  oneditprepare() {
    migrateOnOpen(this, migrations, FLEET_HEALTH_VERSION, DEFAULTS);
    const saved = typeof this.scoring === 'string' && this.scoring ? parseHealthConfig(this.scoring) : null;
    // A saved configuration the parser refuses is shown as saved over the defaults, and the check names the fault.
    let shown = base();
    if (saved?.ok) shown = saved.value;
    else if (saved) { try { shown = $.extend(true, base(), JSON.parse(String(this.scoring))) as HealthConfig; } catch { /* not JSON: the defaults */ } }
    fillDialog(this, shown);
    $('#fleet-health-form').on('change keyup', 'input, textarea', () => check(this));
    $('#fleet-health-reset').on('click', (e) => { e.preventDefault(); fillDialog(this, base()); check(this); });
    check(this);
  },
  oneditsave() {
    // Node-RED reads #node-input-scoring after this, so the hidden input carries the new value.
    try { $('#node-input-scoring').val(JSON.stringify(readDialog())); } catch { /* keep the saved value; the check shows the fault */ }
  },
});

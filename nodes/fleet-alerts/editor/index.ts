/**
 * fleet-alerts' editor: receivers, the route list kept in step with the routing document, a sample
 * alert checked by the runtime's own parser, and Alertmanager YAML import/export. A new node starts
 * from the domain's default receivers and routing, the same the runtime reads when routing is absent.
 */
import { DEFAULT_RECEIVERS, defaultRouting } from '../../../lib/alerts/defaults';
import type { RouteConfig, RoutingDocumentLike } from './routing';
import { askRuntime, inputs, migrateOnOpen, showResult, validator } from '../../shared/editor/helpers';
import { FLEET_ALERTS_VERSION, migrations } from '../migrations';

const DEFAULTS = ['name', 'receivers', 'routing', 'outputs'];
const CHECK = '#fleet-alerts-check';
const ROUTING = '#node-input-routing';

interface CheckAnswer { ok: boolean; path?: string; field?: string; reason?: string; receivers?: Array<{ receiver: string; route: string }> }
interface ImportAnswer { ok: boolean; reason?: string; unsupported: string[]; config: { receivers: string[]; route: RouteConfig; inhibit_rules?: unknown[]; time_intervals?: unknown[] } }

const words = (text: string): string[] => text.split(',').map((x) => x.trim()).filter(Boolean);

function receivers(): string[] {
  return $('#fleet-alerts-receivers').editableList('items').map(function (this: HTMLElement) { return String($(this).find('input').val() ?? '').trim(); }).get().filter(Boolean);
}

function routingDoc(): RoutingDocumentLike | null {
  try {
    const d = JSON.parse(inputs.text(ROUTING)) as unknown;
    return d && typeof d === 'object' && !Array.isArray(d) ? d as RoutingDocumentLike : null;
  } catch {
    return null;
  }
}

function receiverSelect(value: string | undefined): JQuery {
  const names = receivers();
  const $s = $('<select class="fa-route-receiver">');
  for (const r of names) $('<option>').val(r).text(r).appendTo($s);
  if (value && !names.includes(value)) $('<option>').val(value).text(value).appendTo($s);
  return $s.val(value || names[0] || '');
}

function routeRow(node: EditorNode, row: JQuery, route: RouteConfig): void {
  const $top = $('<div class="fa-route-top">').appendTo(row);
  $('<input type="text" class="fa-route-matchers">').attr('placeholder', node._('fleet-alerts.editor.matchersPlaceholder')).val((route.matchers ?? []).join(', ')).appendTo($top);
  $('<span class="fa-route-arrow"> → </span>').appendTo($top);
  receiverSelect(route.receiver).appendTo($top);
  const $cont = $('<label class="fa-route-continue-label">').appendTo($top);
  $('<input type="checkbox" class="fa-route-continue">').prop('checked', route.continue === true).appendTo($cont);
  $('<span>').text(` ${node._('fleet-alerts.editor.continue')}`).appendTo($cont);
  const $more = $('<div class="fa-route-more">').appendTo(row);
  $('<input type="text" class="fa-route-mute">').attr('placeholder', node._('fleet-alerts.editor.mutePlaceholder')).val((route.mute_time_intervals ?? []).join(', ')).appendTo($more);
  $('<input type="text" class="fa-route-repeat">').attr('placeholder', node._('fleet-alerts.editor.repeatPlaceholder')).val(route.repeat_interval ?? '').appendTo($more);
  row.data('route', route);
}

let syncing = false;

function renderRoutes(): void {
  const doc = routingDoc();
  if (!doc || !doc.route) return;
  syncing = true;
  $('#fleet-alerts-default').empty().append(receiverSelect(doc.route.receiver).attr('id', 'fleet-alerts-default-receiver'));
  $('#fleet-alerts-groupby').val((doc.route.group_by ?? []).join(', '));
  $('#fleet-alerts-routes').editableList('empty');
  for (const r of doc.route.routes ?? []) $('#fleet-alerts-routes').editableList('addItem', r);
  syncing = false;
}

/** The route list written back into the routing document; what the list does not show is kept. */
function routesToJson(node: EditorNode): void {
  if (syncing) return;
  const doc = routingDoc() ?? { route: {} };
  doc.route.receiver = String($('#fleet-alerts-default-receiver').val() ?? '');
  const gb = words(inputs.text('#fleet-alerts-groupby'));
  if (gb.length) doc.route.group_by = gb; else delete doc.route.group_by;
  const routes: RouteConfig[] = $('#fleet-alerts-routes').editableList('items').map(function (this: HTMLElement) {
    const row = $(this);
    const r: RouteConfig = { ...(row.data('route') as RouteConfig | undefined) };
    const m = words(String(row.find('.fa-route-matchers').val() ?? ''));
    if (m.length) r.matchers = m; else delete r.matchers;
    r.receiver = String(row.find('.fa-route-receiver').val() ?? '');
    if (row.find('.fa-route-continue').prop('checked') === true) r.continue = true; else delete r.continue;
    const mute = words(String(row.find('.fa-route-mute').val() ?? ''));
    if (mute.length) r.mute_time_intervals = mute; else delete r.mute_time_intervals;
    const rep = String(row.find('.fa-route-repeat').val() ?? '').trim();
    if (rep) r.repeat_interval = rep; else delete r.repeat_interval;
    return r;
  }).get() as RouteConfig[];
  if (routes.length) doc.route.routes = routes; else delete doc.route.routes;
  $(ROUTING).val(JSON.stringify(doc, null, 2));
  check(node);
}

function labelsFrom(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(/\s+/)) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** The runtime's own parser checks the dialog, and answers which receivers the sample alert reaches. */
function check(node: EditorNode): void {
  const test = inputs.text('#fleet-alerts-test');
  askRuntime<CheckAnswer>('fleet-alerts/check', { receivers: receivers(), routing: inputs.text(ROUTING), labels: labelsFrom(test) }, {
    node,
    messageElement: CHECK,
    done: (r) => {
      if (!r.ok) {
        showResult(CHECK, false, node._('fleet-alerts.text.invalid', { where: r.field ? `${r.path} ${r.field}` : r.path, reason: r.reason }));
        $('#fleet-alerts-reaches').text('');
        return;
      }
      showResult(CHECK, true, node._('fleet-alerts.text.valid'));
      const list = (r.receivers ?? []).map((x) => `${x.receiver} (${x.route})`).join(', ');
      $('#fleet-alerts-reaches').text(test ? node._('fleet-alerts.text.reaches', { list }) : '');
    },
  });
}

/** The two lists share what the dialog leaves free: receivers a third, routes the rest. */
function resizeLists(size: { height: number }): void {
  const $rows = $('#dialog-form > div.form-row:not(.fa-list-row)');
  let free = size.height;
  $rows.each(function () { free -= $(this).outerHeight(true) ?? 0; });
  $('#dialog-form > div.fa-list-row').each(function () { free -= ($(this).outerHeight(true) ?? 0) - ($(this).height() ?? 0); });
  $('#fleet-alerts-receivers').editableList('height', Math.max(120, Math.floor(free * 0.3)));
  $('#fleet-alerts-routes').editableList('height', Math.max(160, Math.floor(free * 0.7)));
}

/** Builds the dialog: both lists, the route rows from the routing document, and the YAML buttons. */
function prepare(node: EditorNode): void {
  migrateOnOpen(node, migrations, FLEET_ALERTS_VERSION, DEFAULTS);
  $('#fleet-alerts-receivers').editableList({
    addItem: (row: JQuery, _i: number, data: { name?: string }) => {
      $('<input type="text" style="width:100%">').val(data.name ?? '').appendTo(row).on('change', () => { renderRoutes(); check(node); });
    },
    removable: true,
    sortable: true,
    height: 120,
  });
  for (const r of Array.isArray(node.receivers) ? node.receivers : []) $('#fleet-alerts-receivers').editableList('addItem', { name: String(r) });
  $('#fleet-alerts-routes').editableList({
    addItem: (row: JQuery, _i: number, route: RouteConfig) => routeRow(node, row, route ?? {}),
    removable: true,
    sortable: true,
    height: 160,
    addButton: node._('fleet-alerts.editor.addRoute'),
    sortItems: () => routesToJson(node),
    removeItem: () => routesToJson(node),
  });
  $('#fleet-alerts-routes').on('input change', 'input, select', () => routesToJson(node));
  $('#fleet-alerts-default, #fleet-alerts-groupby').parent().on('input change', 'input, select', () => routesToJson(node));
  $(ROUTING).on('input', () => { renderRoutes(); check(node); });
  $('#fleet-alerts-test').on('input change', () => check(node));
  renderRoutes();
  $('#fleet-alerts-import').on('click', (e) => {
    e.preventDefault();
    askRuntime<ImportAnswer>('fleet-alerts/import', { yaml: inputs.text('#fleet-alerts-yaml') }, {
      node,
      messageElement: CHECK,
      done: (r) => {
        if (!r.ok) { showResult(CHECK, false, r.reason ?? ''); return; }
        const list = $('#fleet-alerts-receivers');
        list.editableList('empty');
        for (const name of r.config.receivers) list.editableList('addItem', { name });
        $(ROUTING).val(JSON.stringify({ route: r.config.route, inhibit_rules: r.config.inhibit_rules, time_intervals: r.config.time_intervals }, null, 2));
        renderRoutes();
        $('#fleet-alerts-unsupported').text(r.unsupported.length ? node._('fleet-alerts.text.unsupported', { list: r.unsupported.join('; ') }) : '');
        check(node);
      },
    });
  });
  $('#fleet-alerts-export').on('click', (e) => {
    e.preventDefault();
    askRuntime<string>('fleet-alerts/export', { receivers: receivers(), routing: inputs.text(ROUTING) }, {
      node, messageElement: CHECK, dataType: 'text', done: (text) => { $('#fleet-alerts-yaml').val(text); },
    });
  });
  check(node);
}

RED.nodes.registerType('fleet-alerts', {
  category: 'ESP32 fleet',
  color: '#f3b567',
  icon: 'fleet-alerts.svg',
  inputs: 1,
  defaults: {
    name: { value: '' },
    receivers: {
      value: [...DEFAULT_RECEIVERS],
      validate: validator('fleet-alerts.errors.receivers', (v) => (Array.isArray(v) && v.length > 0 && new Set(v).size === v.length ? null : '')),
    },
    routing: {
      value: JSON.stringify(defaultRouting(DEFAULT_RECEIVERS), null, 2),
      validate: validator('fleet-alerts.errors.routing', (v) => {
        try {
          const o = JSON.parse(String(v)) as unknown;
          return o && typeof o === 'object' && 'route' in o ? null : '';
        } catch (err) {
          return (err as Error).message;
        }
      }),
    },
    outputs: { value: DEFAULT_RECEIVERS.length },
    configVersion: { value: FLEET_ALERTS_VERSION },
  },
  // A literal, so the Flow Library's scorecard parser reads the node (DEFAULT_RECEIVERS.length: test/unit/scorecard.test.ts).
  outputs: 3,
  outputLabels(i) { return Array.isArray(this.receivers) ? String(this.receivers[i] ?? '') : ''; },
  label() { return typeof this.name === 'string' && this.name ? this.name : 'fleet alerts'; },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  paletteLabel: 'fleet alerts',
  oneditprepare() { prepare(this); },
  oneditresize(size) { resizeLists(size); },
  oneditsave() {
    this.receivers = receivers();
    this.outputs = (this.receivers as string[]).length;
  },
});

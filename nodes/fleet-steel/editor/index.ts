/**
 * fleet-steel's editor. The program is written in Node-RED's code editor (Scheme highlighting under
 * Monaco; plain text under Ace, which Node-RED ships without a Scheme mode) and checked as you type
 * by the runtime's own checker through `POST fleet-steel/check`: the checker and Steel's 953 builtin
 * names stay on the server, so the dialog does not carry them. Devices are picked from the chosen
 * fleet-registry's endpoint. Every field is checked by the runtime's parser (parseSteelPushConfig).
 */
import { KIND } from '../../../firmware/contract/topics';
import { parseSteelPushConfig } from '../../../lib/steel/push-config';
import { askRuntime, getFromRuntime, migrateOnOpen, showResult, validator } from '../../shared/editor/helpers';
import { FLEET_STEEL_VERSION, migrations } from '../migrations';

interface CodeEditor {
  getValue(): string;
  setValue(v: string, cursor?: number): void;
  getSession(): { on(event: 'change', cb: () => void): void };
  gotoLine(line: number, col: number, animate?: boolean): void;
  focus(): void;
  resize?(): void;
  destroy(): void;
}
interface EditorApi {
  editor: {
    createEditor(options: { id: string; mode: string; value: string }): CodeEditor;
    codeEditor?: { settings?: { lib?: string } };
  };
}
interface Finding { line: number; col: number; severity: 'error' | 'warning'; rule: string; message: string; hint: string }
interface CheckAnswer { ok: boolean; errors: number; warnings: number; findings: Finding[] }
interface DeviceRow { id: string; kind: string | null; online: boolean }

const FIELDS = ['name', 'registry', 'programId', 'programName', 'version', 'sourceFrom', 'source', 'file', 'action', 'targetType', 'target', 'autoStart', 'timeoutS', 'successTarget', 'profile'];

// Stand-ins for another field that fails first (a new node has no source yet), so each field is
// judged on its own; a field not named here falls back to the runtime's default (undefined).
const STAND_IN: Record<string, unknown> = { source: ';', file: 'program.scm' };

/** The runtime's verdict on one field, read with the rest of the node as saved. */
function runtimeRule(field: string) {
  return (value: unknown, node: EditorNode): string | null => {
    const def: Record<string, unknown> = {};
    for (const k of FIELDS) def[k] = node[k];
    def[field] = value;
    for (let i = 0; i < FIELDS.length; i++) {
      const r = parseSteelPushConfig(def);
      if (r.ok) return null;
      const failed = r.field.replace(/\[\d+\]$/, '');
      if (failed === field) return r.reason;
      if (!FIELDS.includes(failed) || def[failed] === STAND_IN[failed]) return null;
      def[failed] = STAND_IN[failed];
    }
    return null;
  };
}

/** Ace as Node-RED ships it has no Scheme mode; asking for one would fetch a file that is not there. */
function codeMode(api: EditorApi): string {
  if (api.editor.codeEditor?.settings?.lib === 'monaco') return 'ace/mode/scheme';
  const ace = (window as unknown as { ace?: { require?(m: string): unknown } }).ace;
  return ace?.require?.('ace/mode/scheme') ? 'ace/mode/scheme' : 'ace/mode/text';
}

let codeEditor: CodeEditor | null = null;
let checkTimer: number | null = null;
let checkSeq = 0;

function renderFindings(node: EditorNode, answer: CheckAnswer): void {
  const $f = $('#fleet-steel-findings').empty();
  if (answer.findings.length === 0) {
    showResult('#fleet-steel-findings', true, node._('fleet-steel.editor.clean'));
    return;
  }
  $('<div>').text(node._('fleet-steel.editor.counts', { errors: answer.errors, warnings: answer.warnings }))
    .css('color', answer.errors > 0 ? 'var(--red-ui-text-color-error, #d00)' : 'var(--red-ui-text-color-warning, #c80)').appendTo($f);
  for (const f of answer.findings.slice(0, 50)) {
    $('<div>').css({ cursor: 'pointer', color: f.severity === 'error' ? 'var(--red-ui-text-color-error, #d00)' : 'var(--red-ui-text-color-warning, #c80)' })
      .attr('title', f.hint)
      .text(`${f.line}:${f.col}: ${f.severity}: ${f.rule}: ${f.message}`)
      .on('click', () => { codeEditor?.gotoLine(f.line, f.col - 1, false); codeEditor?.focus(); })
      .appendTo($f);
  }
}

function checkNow(node: EditorNode): void {
  if (!codeEditor) return;
  const seq = ++checkSeq;
  $('#fleet-steel-findings').text(node._('fleet-steel.editor.checking')).css('color', '');
  askRuntime<CheckAnswer>('fleet-steel/check', { source: codeEditor.getValue(), profile: $('#node-input-profile').val() }, {
    messageElement: '#fleet-steel-findings', node,
    done: (answer) => { if (seq === checkSeq) renderFindings(node, answer); },
  });
}

function scheduleCheck(node: EditorNode): void {
  if (checkTimer !== null) window.clearTimeout(checkTimer);
  checkTimer = window.setTimeout(() => { checkTimer = null; checkNow(node); }, 400);
}

function showRows(): void {
  const from = $('#node-input-sourceFrom').val();
  const action = $('#node-input-action').val();
  $('.fleet-steel-source-row').toggle(from === 'editor');
  $('.fleet-steel-file-row').toggle(from === 'file');
  const tt = $('#node-input-targetType').val();
  $('.fleet-steel-target-row').toggle(tt === 'device' || tt === 'list' || tt === 'selector');
  $('#fleet-steel-picker, #fleet-steel-pick').prop('disabled', tt === 'selector');
  $('#node-input-target').attr('placeholder', tt === 'selector' ? `kind="${KIND.steelDevice}"\nsite=~"north|south"` : tt === 'list' ? 'steel-001\nsteel-002' : 'steel-001');
  $('#node-input-autoStart').closest('.form-row').toggle(action === 'load');
}

function loadPicker(node: EditorNode): void {
  const registry = $('#node-input-registry').val();
  const $p = $('#fleet-steel-picker').empty();
  if (typeof registry !== 'string' || registry === '' || registry === '_ADD_') {
    $('#fleet-steel-picker-message').text(node._('fleet-steel.editor.noRegistry')).css('color', '');
    return;
  }
  $('#fleet-steel-picker-message').text('');
  // Relative to the editor's own root, so it works under any httpAdminRoot.
  getFromRuntime<{ devices: DeviceRow[] }>(`fleet-registry/${encodeURIComponent(registry)}/devices`, { limit: 500 }, {
    messageElement: '#fleet-steel-picker-message', node,
    done: (answer) => {
      const rows = answer.devices.filter((d) => d.kind === KIND.steelDevice || d.kind === null);
      for (const d of rows) $('<option>').val(d.id).text(`${d.id}${d.online ? '' : ' (offline)'}`).appendTo($p);
    },
    fail: (xhr) => {
      showResult('#fleet-steel-picker-message', false, xhr.status === 404 ? node._('fleet-steel.editor.notDeployed') : node._('fleet-steel.editor.unreachable', { reason: `${xhr.status} ${xhr.statusText}` }));
    },
  });
}

function pick(): void {
  const id = $('#fleet-steel-picker').val();
  if (typeof id !== 'string' || id === '') return;
  const $t = $('#node-input-target');
  if ($('#node-input-targetType').val() === 'device') { $t.val(id); return; }
  const cur = String($t.val() ?? '').split(/[\s,]+/).filter((s) => s !== '');
  if (!cur.includes(id)) cur.push(id);
  $t.val(cur.join('\n'));
}

function closeEditor(): void {
  if (checkTimer !== null) window.clearTimeout(checkTimer);
  checkTimer = null;
  codeEditor?.destroy();
  codeEditor = null;
}

RED.nodes.registerType('fleet-steel', {
  category: 'ESP32 fleet',
  color: '#c7b2d6',
  icon: 'fleet-steel.svg',
  inputs: 1,
  outputs: 4,
  defaults: {
    name: { value: '' },
    registry: { value: '', type: 'fleet-registry', required: false },
    programId: { value: '', validate: validator('fleet-steel.errors.programId', runtimeRule('programId')) },
    programName: { value: '' },
    version: { value: '1.0.0', validate: validator('fleet-steel.errors.version', runtimeRule('version')) },
    sourceFrom: { value: 'editor' },
    source: { value: '', validate: validator('fleet-steel.errors.source', runtimeRule('source')) },
    file: { value: '', validate: validator('fleet-steel.errors.file', runtimeRule('file')) },
    action: { value: 'load' },
    targetType: { value: 'device' },
    target: { value: '', validate: validator('fleet-steel.errors.target', runtimeRule('target')) },
    autoStart: { value: true },
    timeoutS: { value: 30, validate: validator('fleet-steel.errors.timeoutS', runtimeRule('timeoutS')) },
    successTarget: { value: 95, validate: validator('fleet-steel.errors.successTarget', runtimeRule('successTarget')) },
    profile: { value: 'default' },
    configVersion: { value: FLEET_STEEL_VERSION },
  },
  outputLabels(i) { return this._(`fleet-steel.outputs.${['publish', 'result', 'summary', 'alert'][i]}`); },
  label() { return typeof this.name === 'string' && this.name ? this.name : typeof this.programId === 'string' && this.programId ? `steel ${this.programId}` : 'fleet steel'; },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  paletteLabel: 'fleet steel',
  oneditprepare() {
    migrateOnOpen(this, migrations, FLEET_STEEL_VERSION, FIELDS);
    const api = RED as unknown as EditorApi;
    codeEditor = api.editor.createEditor({ id: 'fleet-steel-source-editor', mode: codeMode(api), value: typeof this.source === 'string' ? this.source : '' });
    const node: EditorNode = this as EditorNode;
    codeEditor.getSession().on('change', () => scheduleCheck(node));
    $('#node-input-profile').on('change', () => scheduleCheck(node));
    $('#node-input-sourceFrom, #node-input-targetType, #node-input-action').on('change', showRows);
    $('#node-input-registry').on('change', () => loadPicker(node));
    $('#fleet-steel-pick').on('click', pick);
    showRows();
    checkNow(node);
  },
  oneditsave() {
    if (codeEditor) {
      const v = codeEditor.getValue();
      $('#node-input-source').val(v);
      this.source = v;
    }
    closeEditor();
  },
  oneditcancel() { closeEditor(); },
  oneditresize(size) {
    const rows = $('#dialog-form>div:not(.node-text-editor-row):visible');
    let height = size.height;
    rows.each((_i, el) => { height -= $(el).outerHeight(true) ?? 0; });
    const $row = $('#dialog-form>div.node-text-editor-row');
    height -= (parseInt($row.css('marginTop'), 10) || 0) + (parseInt($row.css('marginBottom'), 10) || 0) + ($('#fleet-steel-findings').outerHeight(true) ?? 0);
    $('#fleet-steel-source-editor').css('height', `${Math.max(120, height)}px`);
    codeEditor?.resize?.();
  },
});

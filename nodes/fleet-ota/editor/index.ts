/**
 * fleet-ota's editor. Fields are checked by the runtime's own parsers (parseOtaConfig, parsePlan,
 * parseStartRequest), bundled in; the image picker, the upload, the rollout's state and its buttons use
 * the node's admin endpoints (read for lists and state, write for upload and start/pause/resume/abort).
 */
import { parseOtaConfig, parseStartRequest, splitPem, DEFAULT_OTA_CONFIG, type SavedOtaConfig } from '../../../lib/ota/node-config';
import { defaultPlan, exportPlan, parsePlan } from '../../../lib/ota/plan';
import { askRuntime, getFromRuntime, inputs, migrateOnOpen, showResult, validator } from '../../shared/editor/helpers';
import { FLEET_OTA_VERSION, migrations } from '../migrations';

declare global {
  interface EditorNodeDef {
    credentials?: Record<string, { type: 'text' | 'password' }>;
  }
}

interface ImageList { images: Array<{ name: string; manifest: Record<string, unknown> }>; problems: string[] }
interface UploadAnswer { name: string; manifest: Record<string, unknown> }
interface StateAnswer { rollout: { id: string; status: string; wave: number; waveName: string | null; waveState: string; note: string | null; waves: Array<{ name: string; size: number; counts: Record<string, number>; gate: { held: boolean; margin: number; kinds: Array<{ kind: string; updated: number; waiting: number }> } | null }>; totals: Record<string, number>; refused: number } | null; refusals: Record<string, number>; known: number }

function runtimeRule(field: keyof SavedOtaConfig) {
  return (value: unknown): string | null => {
    // Keys are parsed by node:crypto, which the editor lacks: here only their PEM shape is checked.
    if (field === 'publicKeys' && typeof value === 'string' && (value.trim() === '' || splitPem(value).length > 0)) return null;
    const r = parseOtaConfig({ [field]: value });
    return r.ok || r.field !== field ? null : r.reason;
  };
}

const DEFAULTS = ['name', 'registry', 'folder', 'publicKeys', 'keysFile', 'baseUrl', 'tokenTtlS', 'tickMs', 'plan'];

function targetsFrom(mode: string, value: string): unknown {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (mode === 'kinds') return { kinds: list };
  if (mode === 'devices') return { devices: list };
  if (mode === 'labels') { try { return { labels: JSON.parse(value) as unknown }; } catch { return { labels: value }; } }
  return 'all';
}

function showState(node: EditorNode): void {
  getFromRuntime<StateAnswer>(`fleet-ota/${node.id}/state`, {}, {
    node, messageElement: '#fleet-ota-state',
    fail: () => $('#fleet-ota-state').text(node._('fleet-ota.editor.deployFirst')),
    done: (a) => {
      const r = a.rollout;
      const $s = $('#fleet-ota-state').empty();
      if (!r) { $s.text(`${a.known} devices known · no rollout`); return; }
      $('<div>').text(`${r.id}: ${r.status}, ${r.waveName ?? ''} ${r.waveState}${r.note ? ` (${r.note})` : ''}`).appendTo($s);
      for (const w of r.waves) {
        const c = w.counts;
        $('<div>').text(`${w.name}: ${w.size} devices · ${c.succeeded} ok · ${c.inFlight + c.gating} in flight · ${c.failed + c.rolledBack + c.timedOut + c.rejected} failed · ${c.canceled} canceled`).appendTo($s);
        // The health margin as last judged: updated devices' mean score against the not-yet-updated ones'.
        if (w.gate) $('<div>').css('margin-left', '1em').text(`health gate ${w.gate.held ? 'holds' : 'passes'} (margin ${w.gate.margin}): ${w.gate.kinds.map((k) => `${k.kind} updated ${k.updated} vs waiting ${k.waiting}`).join('; ') || 'no scores to compare'}`).appendTo($s);
      }
      $('<div>').text(`refused downloads: ${a.refusals.unauthorized} unauthorised, ${a.refusals.forbidden} forbidden`).appendTo($s);
    },
  });
}

RED.nodes.registerType('fleet-ota', {
  category: 'ESP32 fleet',
  color: '#e2b86b',
  icon: 'fleet-ota.svg',
  inputs: 1,
  outputs: 4,
  defaults: {
    name: { value: '' },
    registry: { value: '', type: 'fleet-registry', required: false },
    folder: { value: DEFAULT_OTA_CONFIG.folder, validate: validator('fleet-ota.errors.folder', runtimeRule('folder')) },
    publicKeys: { value: '', validate: validator('fleet-ota.errors.publicKeys', runtimeRule('publicKeys')) },
    keysFile: { value: '', validate: validator('fleet-ota.errors.keysFile', runtimeRule('keysFile')) },
    baseUrl: { value: DEFAULT_OTA_CONFIG.baseUrl, validate: validator('fleet-ota.errors.baseUrl', runtimeRule('baseUrl')) },
    tokenTtlS: { value: DEFAULT_OTA_CONFIG.tokenTtlS, validate: validator('fleet-ota.errors.tokenTtlS', runtimeRule('tokenTtlS')) },
    tickMs: { value: DEFAULT_OTA_CONFIG.tickMs, validate: validator('fleet-ota.errors.tickMs', runtimeRule('tickMs')) },
    plan: { value: exportPlan(defaultPlan()), validate: validator('fleet-ota.errors.plan', runtimeRule('plan')) },
    configVersion: { value: FLEET_OTA_VERSION },
  },
  credentials: { secret: { type: 'password' } },
  outputLabels(i) { return this._(`fleet-ota.outputs.${['commands', 'devices', 'summary', 'alerts'][i]}`); },
  label() { return typeof this.name === 'string' && this.name ? this.name : 'fleet ota'; },
  labelStyle() { return this.name ? 'node_label_italic' : ''; },
  paletteLabel: 'fleet ota',
  oneditprepare(this: EditorNode) {
    migrateOnOpen(this, migrations, FLEET_OTA_VERSION, DEFAULTS);
    prepare(this);
  },
});

/** The image picker: the folder's images with their manifests, `select` chosen when given. */
function loadImages(node: EditorNode, select?: string): void {
  getFromRuntime<ImageList>(`fleet-ota/${node.id}/images`, {}, {
    node, messageElement: '#fleet-ota-manifest',
    fail: () => $('#fleet-ota-manifest').text(node._('fleet-ota.editor.deployFirst')),
    done: (list) => {
      const $sel = $('#fleet-ota-image').empty();
      for (const i of list.images) $('<option>').val(i.name).text(`${i.name} (${String(i.manifest.kind)} ${String(i.manifest.version)})`).appendTo($sel);
      if (select !== undefined) $sel.val(select);
      const show = (): void => {
        const img = list.images.find((i) => i.name === inputs.text('#fleet-ota-image'));
        $('#fleet-ota-manifest').text(img ? JSON.stringify(img.manifest, null, 1) : node._('fleet-ota.editor.noImages'));
      };
      $sel.off('change.fleetOta').on('change.fleetOta', show);
      show();
    },
  });
}

const chosenFile = (selector: string): File | undefined => ($(selector)[0] as HTMLInputElement | undefined)?.files?.[0];

/**
 * Sends the chosen image and manifest (file, else the pasted text) as multipart/form-data with the
 * editor's own request, so it carries the login token and follows httpAdminRoot (a relative URL).
 */
function upload(node: EditorNode): void {
  const refused = (field: string, reason: string): void => showResult('#fleet-ota-upload-result', false, node._('fleet-ota.editor.refused', { field, reason }));
  const image = chosenFile('#fleet-ota-upload-image');
  const manifestFile = chosenFile('#fleet-ota-upload-manifest-file');
  const pasted = inputs.text('#fleet-ota-upload-manifest').trim();
  if (!image) { refused('image', 'choose the image file (.bin)'); return; }
  if (!manifestFile && pasted === '') { refused('manifest', 'choose the manifest file or paste the manifest JSON'); return; }
  const form = new FormData();
  form.append('image', image, image.name);
  if (manifestFile) form.append('manifest', manifestFile, manifestFile.name); else form.append('manifest', pasted);
  $('#fleet-ota-upload-result').text('…');
  $.ajax({ url: `fleet-ota/${node.id}/images`, type: 'POST', data: form, processData: false, contentType: false, dataType: 'json' })
    .done((a: UploadAnswer) => {
      showResult('#fleet-ota-upload-result', true, `${node._('fleet-ota.editor.uploaded', { name: a.name })}\n${JSON.stringify(a.manifest, null, 1)}`);
      loadImages(node, a.name);
    })
    .fail((xhr: JQuery.jqXHR) => {
      const b = xhr.responseJSON as { field?: unknown; reason?: unknown } | undefined;
      if (b && typeof b.field === 'string' && typeof b.reason === 'string') { refused(b.field, b.reason); return; }
      const reason = xhr.status === 0 ? node._('fleet-ota.editor.offline') : `${xhr.status} ${xhr.statusText}`;
      showResult('#fleet-ota-upload-result', false, node._('fleet-ota.editor.unreachable', { reason }));
    });
}

/** The rollout part of the dialog: image picker, upload, plan check, state and buttons. */
function prepare(node: EditorNode): void {
  $('#node-input-plan').on('change keyup', () => {
    const r = parsePlan(inputs.text('#node-input-plan'));
    showResult('#fleet-ota-plan-result', r.ok, r.ok ? node._('fleet-ota.editor.planOk') : `${r.field}: ${r.reason}`);
  });
  loadImages(node);
  $('#fleet-ota-upload').on('click', () => upload(node));
  showState(node);
  $('#fleet-ota-start').on('click', () => {
    const plan = parsePlan(inputs.text('#node-input-plan'));
    const body = { image: inputs.text('#fleet-ota-image'), targets: targetsFrom(inputs.text('#fleet-ota-target-mode'), inputs.text('#fleet-ota-target-value')), plan: plan.ok ? plan.value : inputs.text('#node-input-plan'), ...(inputs.text('#fleet-ota-rollout-id') ? { id: inputs.text('#fleet-ota-rollout-id') } : {}) };
    const check = parseStartRequest(body, defaultPlan());
    if (!check.ok) { showResult('#fleet-ota-state', false, `${check.field}: ${check.reason}`); return; }
    askRuntime<unknown>(`fleet-ota/${node.id}/start`, body, { node, messageElement: '#fleet-ota-state', done: () => showState(node) });
  });
  for (const a of ['pause', 'resume', 'abort']) {
    $(`#fleet-ota-${a}`).on('click', () => askRuntime<unknown>(`fleet-ota/${node.id}/${a}`, {}, { node, messageElement: '#fleet-ota-state', done: () => showState(node) }));
  }
}

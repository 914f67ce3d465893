/**
 * What every editor of this package repeats: validators that answer with a translated message, the
 * "check with the runtime" request (with its failure shown, not swallowed), typed reads of form
 * inputs, and the saved-flow migration run when an old node is opened.
 */
import { changedKeys, migrate, type Migration, type SavedDef } from '../../shared/migrations';

/**
 * A validator from a rule that returns null when the value is fine, else the runtime's reason.
 * The shown text is the node's translated message for the field, then the reason.
 * Two parameters (v, opt): Node-RED shows a returned string as the reason only then.
 */
export function validator(messageKey: string, rule: (value: unknown, node: EditorNode) => string | null): EditorValidator {
  return function (this: EditorNode, value: unknown, _opt?: unknown): boolean | string {
    const reason = rule(value, this);
    if (reason === null) return true;
    const message = this._(messageKey);
    return reason && !message.includes(reason) ? `${message} (${reason})` : message;
  };
}

/** An ${ENV_VAR} reference: the runtime resolves it at deploy, so the editor cannot check the value. */
export const isEnvReference = (v: unknown): boolean => typeof v === 'string' && /^\$\{\w+\}$/.test(v);

export interface CheckOptions<T> {
  /** Where failures (the runtime unreachable, a refused request) are shown. */
  readonly messageElement: string;
  readonly node: EditorNode;
  readonly done: (answer: T) => void;
  readonly dataType?: 'json' | 'text';
}

/**
 * POSTs to one of the node's admin endpoints (relative, so it works under any httpAdminRoot).
 * A failure shows a translated message with the status in `messageElement`: a check that silently
 * never answers would leave the last "valid" on screen.
 */
export function askRuntime<T>(url: string, body: unknown, opts: CheckOptions<T>): void {
  $.ajax({ url, type: 'POST', contentType: 'application/json', data: JSON.stringify(body), dataType: opts.dataType ?? 'json' })
    .done((answer: T) => opts.done(answer))
    .fail((xhr: JQuery.jqXHR) => {
      const reason = xhr.status === 0 ? opts.node._(`${opts.node.type}.editor.offline`) : `${xhr.status} ${xhr.statusText}`;
      showResult(opts.messageElement, false, opts.node._(`${opts.node.type}.editor.unreachable`, { reason }));
    });
}

/** A GET to an admin endpoint, with the same failure handling. */
export function getFromRuntime<T>(url: string, query: Record<string, string | number>, opts: Omit<CheckOptions<T>, 'dataType'> & { fail?: (xhr: JQuery.jqXHR) => void }): void {
  $.getJSON(url, query)
    .done((answer: T) => opts.done(answer))
    .fail((xhr: JQuery.jqXHR) => {
      if (opts.fail) { opts.fail(xhr); return; }
      showResult(opts.messageElement, false, opts.node._(`${opts.node.type}.editor.unreachable`, { reason: `${xhr.status} ${xhr.statusText}` }));
    });
}

/** Shows a check's outcome in the editor's success or error colour. */
export function showResult(selector: string, ok: boolean, text: string): void {
  $(selector).text(text).css('color', ok ? 'var(--red-ui-text-color-success, #393)' : 'var(--red-ui-text-color-error, #d00)');
}

/** Typed reads of form inputs. */
export const inputs = {
  text(selector: string): string {
    const v = $(selector).val();
    return typeof v === 'string' ? v : '';
  },
  /** NaN when empty or not a number, so the runtime's check names it. */
  number(selector: string): number {
    const v = inputs.text(selector).trim();
    return v === '' ? NaN : Number(v);
  },
  checked(selector: string): boolean {
    return $(selector).prop('checked') === true;
  },
  /** The values of the checked boxes inside a container. */
  checkedValues(container: string): string[] {
    return $(container).find('input:checked').map((_i, el) => (el as HTMLInputElement).value).get();
  },
  /** A row of labelled checkboxes, one per value. */
  checkboxes(container: string, values: readonly string[], selected: readonly string[]): void {
    const $c = $(container).empty();
    for (const v of values) {
      const $l = $('<label class="fleet-editor-check">').appendTo($c);
      $('<input type="checkbox">').val(v).prop('checked', selected.includes(v)).appendTo($l);
      $('<span>').text(v).appendTo($l);
    }
  },
};

/**
 * Runs the node's migrations on an old node opened in the editor (Node-RED fills the form before
 * oneditprepare), then writes what changed back to the node and to its form inputs, so saving the
 * dialog saves the current version. `prefix` is node-input or node-config-input.
 */
export function migrateOnOpen(node: EditorNode, migrations: readonly Migration[], version: number, defaults: readonly string[], prefix = 'node-input'): void {
  const before: Record<string, unknown> = {};
  for (const k of [...defaults, 'configVersion']) if (node[k] !== undefined) before[k] = node[k];
  const r = migrate(before as SavedDef, migrations, version);
  if (!r.ok || r.applied === 0) return;
  for (const k of changedKeys(before, r.def)) {
    node[k] = r.def[k];
    const $in = $(`#${prefix}-${k}`);
    if (!$in.length) continue;
    if ($in.is(':checkbox')) $in.prop('checked', r.def[k] === true);
    else if (typeof r.def[k] !== 'object') $in.val(String(r.def[k]));
  }
}

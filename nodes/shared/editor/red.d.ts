/**
 * The part of Node-RED's editor API our editors use, typed as Node-RED 4 behaves (the published
 * @types describe 1.x: no validator messages, no editableList resize).
 */
export {};

declare global {
  interface EditorNode {
    readonly id: string;
    readonly type: string;
    _(key: string, vars?: Record<string, unknown>): string;
    [prop: string]: unknown;
  }

  /** A validator with two parameters may return a message, which the editor shows as the reason. */
  type EditorValidator = (this: EditorNode, value: unknown, opt?: unknown) => boolean | string;

  interface EditorPropertyDef {
    value: unknown;
    required?: boolean;
    type?: string;
    validate?: EditorValidator;
  }

  interface EditorNodeDef {
    category: string;
    color?: string;
    icon?: string;
    inputs?: number;
    outputs?: number;
    defaults: Record<string, EditorPropertyDef>;
    /** Credential fields: kept by Node-RED outside the flow file. */
    credentials?: Record<string, { type: 'text' | 'password' }>;
    paletteLabel?: string;
    label(this: EditorNode): string;
    labelStyle?(this: EditorNode): string;
    outputLabels?(this: EditorNode, index: number): string;
    oneditprepare?(this: EditorNode): void;
    oneditsave?(this: EditorNode): void;
    oneditcancel?(this: EditorNode): void;
    oneditresize?(this: EditorNode, size: { width: number; height: number }): void;
  }

  interface EditorRED {
    nodes: { registerType(type: string, def: EditorNodeDef): void };
    _(key: string, vars?: Record<string, unknown>): string;
  }

  const RED: EditorRED;

  interface EditableListOptions<T> {
    addItem?(row: JQuery, index: number, data: T): void;
    removeItem?(data: T): void;
    sortItems?(items: JQuery): void;
    removable?: boolean;
    sortable?: boolean;
    height?: number | 'auto';
    addButton?: boolean | string;
  }

  interface JQuery {
    editableList<T>(options: EditableListOptions<T>): JQuery;
    editableList(command: 'items'): JQuery;
    editableList(command: 'empty'): void;
    editableList(command: 'addItem', data: unknown): void;
    /** Sets the list's height: Node-RED's editors call it from oneditresize so a list grows with the dialog. */
    editableList(command: 'height', height: number): void;
    /** jQuery UI's spinner, which the editor ships. */
    spinner(options: { min?: number; max?: number; step?: number }): JQuery;
  }
}

/**
 * Node definitions read from editor files the way the Flow Library's scorecard reads them
 * (node-red/node-red-dev-cli, src/libs/checknodes.js, getNodeDefinitions): every
 * `<script type="text/javascript">` block parsed, each `registerType('<literal>', { ... })` call
 * found, and its category, icon, color, inputs and outputs taken only when written as literals,
 * its defaults and credentials only when written inline. Anything else is an error, as there.
 * Parsed with the TypeScript compiler (a devDependency), which reads plain JavaScript.
 */
import fs from 'node:fs';
import path from 'node:path';

import ts from 'typescript';

export interface NodeDefinition {
  readonly type: string;
  readonly file: string;
  category?: string;
  icon?: string;
  color?: string;
  inputs?: number;
  outputs?: number;
  defaults?: string[];
  credentials?: string[];
}

export interface DefinitionError { readonly file: string; readonly code: string; readonly detail: string }

const LITERALS = ['category', 'icon', 'color', 'inputs', 'outputs'] as const;
const INLINE = ['defaults', 'credentials'] as const;

function literalValue(e: ts.Expression): string | number | undefined {
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
  if (ts.isNumericLiteral(e)) return Number(e.text);
  return undefined;
}

function propertyName(p: ts.ObjectLiteralElementLike, sf: ts.SourceFile): string {
  return p.name ? (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : p.name.getText(sf)) : '';
}

/** The JavaScript of each `<script type="text/javascript">` block of an editor file. */
export function editorScripts(html: string): string[] {
  return [...html.matchAll(/<script[^>]*type=['"]text\/javascript['"][^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1]);
}

/** Every registerType call in an editor file, and what a scorecard parser could not read of it. */
export function nodeDefinitions(file: string): { definitions: NodeDefinition[]; errors: DefinitionError[] } {
  const definitions: NodeDefinition[] = [];
  const errors: DefinitionError[] = [];
  const scripts = editorScripts(fs.readFileSync(file, 'utf8'));
  if (scripts.length === 0) errors.push({ file, code: 'no-script', detail: 'no <script type="text/javascript"> section' });
  for (const [i, script] of scripts.entries()) {
    const sf = ts.createSourceFile(`${path.basename(file)}#${i}.js`, script, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
    const syntax = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
    for (const d of syntax) errors.push({ file, code: 'parse', detail: ts.flattenDiagnosticMessageText(d.messageText, ' ') });
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'registerType') {
        const [typeArg, defArg] = n.arguments;
        const type = typeArg && literalValue(typeArg);
        if (typeof type !== 'string') errors.push({ file, code: 'non-literal', detail: typeArg?.getText(sf) ?? '(none)' });
        else if (!defArg || !ts.isObjectLiteralExpression(defArg)) errors.push({ file, code: 'non-objectexpression', detail: type });
        else definitions.push(readDefinition(type, file, defArg, sf, errors));
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  if (definitions.length === 0) errors.push({ file, code: 'no-definitions', detail: 'no registerType call with a literal type and an object' });
  return { definitions, errors };
}

function readDefinition(type: string, file: string, def: ts.ObjectLiteralExpression, sf: ts.SourceFile, errors: DefinitionError[]): NodeDefinition {
  const out: NodeDefinition = { type, file };
  for (const p of def.properties) {
    const key = propertyName(p, sf);
    if ((LITERALS as readonly string[]).includes(key)) {
      const v = ts.isPropertyAssignment(p) ? literalValue(p.initializer) : undefined;
      if (v === undefined) { errors.push({ file, code: `${key}-not-inline`, detail: `${type}: ${p.getText(sf).slice(0, 80)}` }); continue; }
      const k = key as (typeof LITERALS)[number];
      if (k === 'inputs' || k === 'outputs') out[k] = Number(v);
      else out[k] = String(v);
    } else if ((INLINE as readonly string[]).includes(key)) {
      if (!ts.isPropertyAssignment(p) || !ts.isObjectLiteralExpression(p.initializer)) {
        errors.push({ file, code: `${key}-not-inline`, detail: type });
        continue;
      }
      out[key as (typeof INLINE)[number]] = p.initializer.properties.map((q) => propertyName(q, sf));
    }
  }
  return out;
}

export interface NodePackage {
  readonly name: string;
  readonly dir: string;
  readonly nodes: Record<string, string>;
}

/** The `node-red.nodes` of a package installed in `from`'s node_modules or above (undefined if it declares none). */
export function installedNodePackage(name: string, from: string): NodePackage | undefined {
  // Not require.resolve('<name>/package.json'): a package's exports map may not offer it.
  const dirs: string[] = [];
  for (let d = path.resolve(from); ; d = path.dirname(d)) {
    dirs.push(path.join(d, 'node_modules', name, 'package.json'));
    if (path.dirname(d) === d) break;
  }
  const pj = dirs.find((f) => fs.existsSync(f));
  if (!pj) throw new Error(`${name} is not installed under ${from}`);
  const pkg = JSON.parse(fs.readFileSync(pj, 'utf8')) as { name: string; 'node-red'?: { nodes?: Record<string, string> } };
  const nodes = pkg['node-red']?.nodes;
  return nodes ? { name: pkg.name, dir: path.dirname(pj), nodes } : undefined;
}

/** The editor file Node-RED loads for a node file of a package: the .js with .html instead. */
export function editorFileOf(pkg: NodePackage, js: string): string {
  return path.join(pkg.dir, js.replace(/\.js$/, '.html'));
}

/** Node types Node-RED itself ships (@node-red/nodes core/**.html), as the running runtime resolves them. */
export function coreNodeTypes(): Set<string> {
  const core = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');
  const types = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) for (const d of nodeDefinitions(p).definitions) types.add(d.type);
    }
  };
  walk(core);
  return types;
}

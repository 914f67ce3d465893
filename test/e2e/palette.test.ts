/**
 * The palette, every edit dialog and its help, in Debian's Chromium (playwright-core) against a real
 * Node-RED under a custom httpAdminRoot: each node of package.json "node-red".nodes is in the
 * palette with its own icon (the file served, not the default), is added by drag and drop, opens its
 * dialog with no console error, page error or refused request, shows its help in the sidebar, and
 * turns a field red for each value its validator refuses. A screenshot of each dialog goes to
 * .screenshots/palette/ (palette-node-red-5/ in the compatibility pass).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import type { Browser, Page } from 'playwright-core';

import { launchChromium } from '../support/browser';
import { deploy, EDITOR_THEME, openEditor, trayClosed, watchPage, type PageProblem } from '../support/editor-page';
import { editorFileOf, nodeDefinitions, type NodeDefinition } from '../support/node-definitions';
import { NodeRedProcess } from '../support/node-red';
import { compatPass, runtimeLabel } from '../support/runtime';

const root = path.resolve(__dirname, '..', '..', '..');
const ADMIN = '/admin';
const shots = path.join(root, '.screenshots', compatPass() ? 'palette-node-red-5' : 'palette');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };
const DEFS: NodeDefinition[] = Object.values(pkg['node-red'].nodes).flatMap((js) => nodeDefinitions(editorFileOf({ name: pkg.name, dir: root, nodes: pkg['node-red'].nodes }, js)).definitions);
const PALETTE = DEFS.filter((d) => d.category !== 'config');
const CONFIG = DEFS.filter((d) => d.category === 'config');

// Values tried on a validated field, until its validator refuses one: empty, out of range, not a
// number, not JSON, not a URL, an unterminated ${...}, too long.
const BAD_CANDIDATES = ['', '-1', '0', 'abc', '1.5', '99999999999', '{', '[1,', 'two words', 'ftp:/x', '${UNCLOSED', '\u0000', 'x'.repeat(300)];

/** What these tests use of the editor's RED object. */
interface EditorNode { id: string; type: string; registry?: string; changed?: boolean; [k: string]: unknown }
interface EditorRED {
  nodes: {
    eachNode(cb: (n: EditorNode) => void): void;
    eachConfig(cb: (n: EditorNode) => void): void;
    node(id: string): EditorNode;
    getType(t: string): { category?: string; defaults: Record<string, { validate?: (this: EditorNode, v: unknown, opt: unknown) => boolean | string }> } | undefined;
  };
  editor: { editConfig(name: string, type: string, id: string): void; validateNode(n: EditorNode): void };
}
type RedWindow = Window & { RED: EditorRED };

/** The first paragraph's text of a node's help, as written in locales/en-US/<type>.html. */
function helpSummary(type: string): string {
  const file = path.join(root, path.dirname(pkg['node-red'].nodes[type]), 'locales', 'en-US', `${type}.html`);
  const p = /<p>([\s\S]*?)<\/p>/.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? '';
  return p.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Problems since `from`, leaving out a 404 from one of our admin endpoints for a node the runtime does not run yet. */
function problemsSince(problems: PageProblem[], from: number, undeployed: ReadonlySet<string> = new Set()): PageProblem[] {
  return problems.slice(from).filter((p) => {
    // The browser's own line for a refused request: the request itself is judged below.
    if (p.kind === 'console' && /^Failed to load resource:/.test(p.text)) return false;
    if (p.kind === 'http' && p.status === 404 && p.url) {
      const m = new URL(p.url).pathname.match(new RegExp(`^${ADMIN}/fleet-[a-z-]+/([0-9a-f]+)/`));
      if (m && undeployed.has(m[1])) return false;
    }
    return true;
  });
}

describe(`palette, edit dialogs and help in Chromium under httpAdminRoot ${ADMIN} (${runtimeLabel()})`, function () {
  this.timeout(180_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  let problems: PageProblem[];
  const ids = new Map<string, string>();

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    red = new NodeRedProcess({ settings: { httpAdminRoot: ADMIN, editorTheme: EDITOR_THEME } });
    red.writeFlows([{ id: 'pal-tab', type: 'tab', label: 'palette' }]);
    await red.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // A failing step says so in seconds, instead of each later click waiting out its own 30 s.
    page.setDefaultTimeout(15_000);
    problems = watchPage(page);
    await openEditor(page, `${red.url}${ADMIN}/`);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      const file = path.join(shots, `failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}.png`);
      await page.screenshot({ path: file }).catch(() => undefined);
      console.log(`    screenshot: ${file}`);
    }
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    red?.cleanup();
  });

  it('loads the editor without an error', () => {
    assert.ok(PALETTE.length >= 7 && CONFIG.length >= 2, 'node definitions read from the built editor files');
    assert.deepEqual(problemsSince(problems, 0), []);
  });

  it('shows every node of ours: each palette node with its own icon as served, each config node registered', async () => {
    for (const d of PALETTE) {
      const sel = `.red-ui-palette-node[data-palette-type="${d.type}"]`;
      assert.equal(await page.locator(sel).count(), 1, `${d.type} not in the palette`);
      const bg = await page.locator(`${sel} .red-ui-palette-icon`).evaluate((el) => getComputedStyle(el).backgroundImage);
      const url = /url\("?([^")]+)"?\)/.exec(bg)?.[1] ?? '';
      assert.equal(new URL(url).pathname, `${ADMIN}/icons/${pkg.name}/${d.icon}`, `${d.type}: palette icon ${url}`);
      // The file Node-RED serves is ours, and the browser draws it.
      const served = await (await fetch(url)).text();
      assert.equal(served, fs.readFileSync(path.join(root, 'icons', d.icon!), 'utf8'), `${d.type}: served icon differs from icons/${d.icon}`);
      const drawn = await page.evaluate((u) => new Promise<number>((resolve) => {
        const img = new Image();
        img.onload = () => resolve(img.naturalWidth);
        img.onerror = () => resolve(0);
        img.src = u;
      }), url);
      assert.ok(drawn > 0, `${d.type}: icon does not load in the browser`);
      const category = await page.locator(sel).evaluate((el) => el.closest('.red-ui-palette-category')?.querySelector('.red-ui-palette-header')?.textContent?.trim());
      assert.equal(category, d.category);
    }
    const registered = await page.evaluate((types) => types.map((t) => (window as unknown as RedWindow).RED.nodes.getType(t)?.category ?? null), CONFIG.map((d) => d.type));
    assert.deepEqual(registered, CONFIG.map(() => 'config'));
    await page.screenshot({ path: path.join(shots, 'palette.png') });
  });

  it('adds each palette node by drag and drop; its dialog opens before the first deploy without a script error', async () => {
    let y = 80;
    for (const d of PALETTE) {
      const before = await page.evaluate(() => { const a: string[] = []; (window as unknown as RedWindow).RED.nodes.eachNode((n: { id: string }) => { a.push(n.id); }); return a; });
      await page.dragAndDrop(`.red-ui-palette-node[data-palette-type="${d.type}"]`, '#red-ui-workspace-chart', { targetPosition: { x: 260, y } });
      y += 70;
      const added = await page.evaluate(({ type, known }) => {
        let id = '';
        (window as unknown as RedWindow).RED.nodes.eachNode((n: { id: string; type: string }) => { if (n.type === type && !known.includes(n.id)) id = n.id; });
        return id;
      }, { type: d.type, known: before });
      assert.ok(added, `${d.type} was not added by the drop`);
      ids.set(d.type, added);
    }
    const undeployed = new Set(ids.values());
    for (const d of PALETTE) {
      const from = problems.length;
      await page.locator(`[id="${ids.get(d.type)}"] .red-ui-flow-node`).dblclick();
      await page.waitForSelector('.red-ui-tray .red-ui-tray-body', { timeout: 10_000 });
      await page.waitForTimeout(500);
      await page.click('#node-dialog-cancel');
      await trayClosed(page);
      assert.deepEqual(problemsSince(problems, from, undeployed), [], `${d.type} (not yet deployed)`);
    }
  });

  it('adds the config nodes from their pickers\' + button', async () => {
    for (const cfg of CONFIG) {
      const user = PALETTE.find((d) => d.defaults?.some((k) => k === 'registry' || k === 'serial') && (cfg.type === 'fleet-registry' ? d.defaults.includes('registry') : d.defaults.includes('serial')));
      assert.ok(user, `no node of ours uses ${cfg.type}`);
      const prop = cfg.type === 'fleet-registry' ? 'registry' : 'serial';
      await page.locator(`[id="${ids.get(user.type)}"] .red-ui-flow-node`).dblclick();
      await page.waitForSelector(`#node-input-btn-${prop}-add`, { timeout: 10_000 });
      await page.click(`#node-input-btn-${prop}-add`);
      await page.waitForSelector('#node-config-dialog-ok', { timeout: 10_000 });
      // A port path is the one thing a serial port needs; a new registry is valid as it comes.
      if (cfg.type === 'fleet-serial-port') await page.fill('#node-config-input-path', '/dev/ttyFLEETTEST0');
      // On a loaded machine (both passes at once in CI) a click that lands while the tray is still
      // opening can be lost, the dialog staying open with nothing added (seen once, Node-RED 5): the
      // click is made again while the dialog is still there and the node not yet added.
      const count = (): Promise<number> => page.evaluate((type) => { let n = 0; (window as unknown as RedWindow).RED.nodes.eachConfig((c: { type: string }) => { if (c.type === type) n++; }); return n; }, cfg.type);
      for (let attempt = 0; attempt < 3 && (await count()) === 0; attempt++) {
        if (await page.isVisible('#node-config-dialog-ok')) await page.click('#node-config-dialog-ok');
        await page.waitForFunction((type) => { let n = 0; (window as unknown as RedWindow).RED.nodes.eachConfig((c: { type: string }) => { if (c.type === type) n++; }); return n > 0; }, cfg.type, { timeout: 10_000 }).catch(() => undefined);
      }
      assert.equal(await count(), 1, `one ${cfg.type} added from the picker's + button`);
      await page.click('#node-dialog-ok');
      await trayClosed(page);
    }
    const cfgIds = await page.evaluate(() => { const m: Record<string, string> = {}; (window as unknown as RedWindow).RED.nodes.eachConfig((c: { id: string; type: string }) => { m[c.type] = c.id; }); return m; });
    for (const cfg of CONFIG) ids.set(cfg.type, cfgIds[cfg.type]);
    // Every node that can use a registry now has the one just made: the editor picks the only one.
    for (const d of PALETTE.filter((x) => x.defaults?.includes('registry'))) {
      const reg = await page.evaluate((id) => (window as unknown as RedWindow).RED.nodes.node(id).registry, ids.get(d.type)!);
      if (!reg) {
        await page.evaluate(({ id, r }) => {
          const RED = (window as unknown as RedWindow).RED;
          const n = RED.nodes.node(id);
          n.registry = r;
          n.changed = true;
          RED.editor.validateNode(n);
        }, { id: ids.get(d.type)!, r: ids.get('fleet-registry')! });
      }
    }
    await deploy(page, { allowInvalid: true });
  });

  for (const d of DEFS) {
    it(`${d.type}: the dialog opens with no error, its help renders in the sidebar, a screenshot is saved`, async () => {
      const from = problems.length;
      const id = ids.get(d.type)!;
      if (d.category === 'config') {
        await page.evaluate(({ type, id: cid }) => (window as unknown as RedWindow).RED.editor.editConfig('', type, cid), { type: d.type, id });
        await page.waitForSelector('#node-config-dialog-ok', { timeout: 10_000 });
      } else {
        await page.locator(`[id="${id}"] .red-ui-flow-node`).dblclick();
        await page.waitForSelector('#node-dialog-ok', { timeout: 10_000 });
      }
      // The tray's book button shows the node's help in the sidebar.
      await page.locator('.red-ui-tray:last-child .red-ui-tray-footer-left button:has(i.fa-book)').click();
      // The help tab's section: its title, then the node's help (the info tab has a .red-ui-help of its own).
      const HELP = '#red-ui-sidebar .red-ui-help-title + .red-ui-help';
      await page.waitForSelector(`${HELP} h3`, { timeout: 10_000 });
      const help = await page.evaluate((sel) => ({
        title: document.querySelector('#red-ui-sidebar .red-ui-help-title')?.textContent?.trim() ?? '',
        text: (document.querySelector(sel) as HTMLElement | null)?.innerText.replace(/\s+/g, ' ') ?? '',
        headings: Array.from(document.querySelectorAll(`${sel} h3`), (h) => h.textContent?.trim() ?? ''),
      }), HELP);
      // The title is the palette label for a palette node, the type for a config node.
      assert.ok([d.type, d.type.replace(/-/g, ' ')].includes(help.title), `help title "${help.title}"`);
      assert.ok(help.text.includes(helpSummary(d.type)), `${d.type}: the sidebar shows "${help.text.slice(0, 200)}", not the help's summary "${helpSummary(d.type)}"`);
      assert.ok(help.headings.includes('Details'), `${d.type}: help headings ${help.headings.join(', ')}`);
      await page.waitForTimeout(700);
      await page.screenshot({ path: path.join(shots, `${d.type}.png`) });
      assert.deepEqual(problemsSince(problems, from), [], `${d.type}: errors while its dialog was open`);
      await page.click(d.category === 'config' ? '#node-config-dialog-cancel' : '#node-dialog-cancel');
      await trayClosed(page);
    });
  }

  for (const d of DEFS) {
    it(`${d.type}: each field a validator guards turns red for a value it refuses, and clears for a good one`, async () => {
      const from = problems.length;
      const id = ids.get(d.type)!;
      const prefix = d.category === 'config' ? 'node-config-input' : 'node-input';
      if (d.category === 'config') {
        await page.evaluate(({ type, id: cid }) => (window as unknown as RedWindow).RED.editor.editConfig('', type, cid), { type: d.type, id });
        await page.waitForSelector('#node-config-dialog-ok', { timeout: 10_000 });
      } else {
        await page.locator(`[id="${id}"] .red-ui-flow-node`).dblclick();
        await page.waitForSelector('#node-dialog-ok', { timeout: 10_000 });
      }
      await page.waitForTimeout(500);
      const validated = await page.evaluate((type) => {
        const def = (window as unknown as RedWindow).RED.nodes.getType(type);
        return def ? Object.keys(def.defaults).filter((k) => typeof def.defaults[k].validate === 'function') : [];
      }, d.type);
      // Modes (a select of the node's own properties, not a config-node picker) show different
      // fields: try each option, so hidden fields get their turn.
      const selects = await page.evaluate(({ type, p }) => {
        const def = (window as unknown as RedWindow).RED.nodes.getType(type)!;
        return Object.keys(def.defaults).filter((k) => !(def.defaults[k] as { type?: string }).type && document.getElementById(`${p}-${k}`)?.tagName === 'SELECT');
      }, { type: d.type, p: prefix });
      const modes: Array<{ select?: string; value?: string }> = [{}];
      for (const s of selects) {
        for (const value of await page.locator(`#${prefix}-${s} option`).evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))) modes.push({ select: s, value });
      }
      const checked = new Set<string>();
      const skipped = new Map<string, string>();
      for (const mode of modes) {
        if (mode.select) await page.selectOption(`#${prefix}-${mode.select}`, mode.value!);
        for (const key of validated) {
          if (checked.has(key)) continue;
          const field = page.locator(`#${prefix}-${key}`);
          if (await field.count() !== 1) { skipped.set(key, 'no #' + `${prefix}-${key}`); continue; }
          if (!(await field.isVisible()) || !(await field.isEditable())) { skipped.set(key, 'hidden'); continue; }
          const tag = await field.evaluate((el) => `${el.tagName}:${(el as HTMLInputElement).type}`);
          if (!/^(INPUT:(text|number|password)|TEXTAREA:textarea)$/.test(tag)) { skipped.set(key, tag); continue; }
          const original = await field.inputValue();
          // The verdict of the node's own validator, on the node being edited, for each candidate.
          const bad = await page.evaluate(({ type, nid, k, candidates }) => {
            const RED = (window as unknown as RedWindow).RED;
            const node = RED.nodes.node(nid);
            const v = RED.nodes.getType(type)!.defaults[k].validate!;
            for (const c of candidates) { const r = v.call(node, c, {}); if (r !== true) return { value: c, reason: r }; }
            return null;
          }, { type: d.type, nid: id, k: key, candidates: BAD_CANDIDATES });
          if (!bad) { skipped.set(key, 'takes every value tried'); continue; }
          await field.fill(bad.value);
          await field.dispatchEvent('change');
          await page.waitForFunction(({ sel }) => document.querySelector(sel)?.classList.contains('input-error'), { sel: `#${prefix}-${key}` }, { timeout: 5000 })
            .catch(() => { throw new Error(`${d.type}.${key}: "${bad.value}" refused by its validator (${String(bad.reason)}) but the field is not red`); });
          // Node-RED shows a validator's text as the field's explanation; ours always give one.
          assert.equal(typeof bad.reason, 'string', `${d.type}.${key}: refused without a reason`);
          assert.ok(String(bad.reason).length > 3, `${d.type}.${key}: reason "${String(bad.reason)}"`);
          await field.fill(original);
          await field.dispatchEvent('change');
          const originalOk = await page.evaluate(({ type, nid, k, v }) => {
            const RED = (window as unknown as RedWindow).RED;
            return RED.nodes.getType(type)!.defaults[k].validate!.call(RED.nodes.node(nid), v, {}) === true;
          }, { type: d.type, nid: id, k: key, v: original });
          if (originalOk) {
            await page.waitForFunction(({ sel }) => !document.querySelector(sel)?.classList.contains('input-error'), { sel: `#${prefix}-${key}` }, { timeout: 5000 })
              .catch(() => { throw new Error(`${d.type}.${key}: still red after "${original}" was put back`); });
          }
          checked.add(key);
          skipped.delete(key);
        }
      }
      assert.ok(checked.size >= 1, `${d.type}: no validated text field was checked (validated: ${validated.join(', ')})`);
      await page.click(d.category === 'config' ? '#node-config-dialog-cancel' : '#node-dialog-cancel');
      await trayClosed(page);
      assert.deepEqual(problemsSince(problems, from), [], `${d.type}: errors while its fields were checked`);
      // Fields drawn as something else than a text input (lists, tables, checkboxes) are checked by their own editor tests.
      console.log(`      checked: ${[...checked].join(', ')}; not here: ${[...skipped].map(([k, why]) => `${k} (${why})`).join(', ') || 'none'}`);
    });
  }
});

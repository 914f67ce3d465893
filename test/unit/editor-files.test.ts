/**
 * Each node's editor file, catalog and icon, checked the way Node-RED's loader and the Flow Library
 * would: a script that parses, template and help for its type, every RED._ key in the catalog.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };

function lookup(catalog: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}

describe('node package conventions', () => {
  it('is a scoped package, as Node-RED asks of new node packages', () => {
    assert.match(pkg.name, /^@[a-z0-9-]+\/node-red-/);
  });

  for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
    describe(type, () => {
      const src = path.join(root, 'nodes', type);
      const template = fs.readFileSync(path.join(src, `${type}.html`), 'utf8');
      const built = path.join(root, 'dist', 'nodes', type, `${type}.html`);
      const html = fs.existsSync(built) ? fs.readFileSync(built, 'utf8') : '';
      const helpFile = path.join(src, 'locales', 'en-US', `${type}.html`);
      const helpHtml = fs.existsSync(helpFile) ? fs.readFileSync(helpFile, 'utf8') : '';
      const editorDir = path.join(src, 'editor');
      const editorTs = fs.existsSync(editorDir) ? fs.readdirSync(editorDir).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(path.join(editorDir, f), 'utf8')).join('\n') : '';
      const catalog = JSON.parse(fs.readFileSync(path.join(src, 'locales', 'en-US', `${type}.json`), 'utf8')) as unknown;

      it('points node-red.nodes at a file the build makes, beside its editor file, catalog and help', () => {
        assert.equal(js, `dist/nodes/${type}/${type}.js`);
        assert.ok(fs.existsSync(path.join(root, js)), `${js} not built`);
        assert.ok(fs.existsSync(built));
        assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes', type, 'locales', 'en-US', `${type}.json`)));
        assert.ok(fs.existsSync(path.join(root, 'dist', 'nodes', type, 'locales', 'en-US', `${type}.html`)));
      });

      it('has a TypeScript editor, built into the editor file in place of the template\'s marker', () => {
        assert.ok(editorTs.includes(`registerType('${type}'`), 'nodes/<type>/editor/index.ts registers the type');
        assert.match(template, /<!-- editor script: built from editor\/index\.ts -->/);
        assert.doesNotMatch(template, /<script type="text\/javascript">/, 'the template carries no hand-written script');
        assert.doesNotMatch(html, /editor script: built from/);
      });

      it('has an editor script that parses and registers the type', () => {
        const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
        assert.equal(scripts.length, 1);
        assert.doesNotThrow(() => new vm.Script(scripts[0], { filename: `${type}.html` }));
        const registered: Array<{ type: string; def: { defaults: Record<string, { value: unknown }> } }> = [];
        const fakeRED = { nodes: { registerType: (t: string, def: never) => registered.push({ type: t, def }) } };
        vm.runInNewContext(scripts[0], { RED: fakeRED, $: () => ({}) });
        assert.deepEqual(registered.map((r) => r.type), [type]);
        assert.equal(registered[0].def.defaults.configVersion?.value, 1, 'saves configVersion');
      });

      it('has a template, and help text in Node-RED\'s help style under locales/en-US', () => {
        assert.match(html, new RegExp(`data-template-name="${type}"`));
        assert.doesNotMatch(template, /data-help-name/, 'help lives in locales/en-US/<type>.html');
        const help = helpHtml.match(new RegExp(`<script type="text/html" data-help-name="${type}">([\\s\\S]*?)</script>`));
        assert.ok(help, 'no help');
        assert.ok(help[1].length > 500, 'help is too short to explain the node');
        const isConfig = /category: 'config'/.test(editorTs);
        const sections = isConfig ? ['Properties', 'Details'] : ['Inputs', 'Outputs', 'Details'];
        for (const h of sections) assert.match(help[1], new RegExp(`<h3>${h}</h3>`), `help lacks ${h}`);
        assert.match(help[1], /<dl class="message-properties">/);
        assert.match(help[1], /<pre[ >]/, 'help gives an example');
        // A code example wraps in the help sidebar instead of running past its edge.
        for (const pre of help[1].matchAll(/<pre([^>]*)>/g)) assert.match(pre[1], /white-space:\s*pre-wrap/, 'a <pre> that does not wrap');
        // The editor sets inline <code> to nowrap: a long one runs out of the sidebar, so long examples go in a <pre>.
        for (const c of help[1].matchAll(/<code>([\s\S]*?)<\/code>/g)) {
          const text = c[1].replace(/<[^>]+>/g, '').replace(/&\w+;/g, '_');
          assert.ok(text.length <= 32, `inline code too long for the help sidebar: ${text}`);
        }
      });

      it('has every message key it uses in its en-US catalog', () => {
        const ts = fs.readFileSync(path.join(src, `${type}.ts`), 'utf8');
        const all = `${ts}\n${editorTs}\n${html}\n${template}`;
        const keys = new Set([...all.matchAll(/\._\('([\w.-]+)'/g)].map((m) => m[1]));
        for (const m of all.matchAll(/data-i18n="(?:\[\w+\])?([\w.-]+)"/g)) keys.add(m[1]);
        for (const m of all.matchAll(/validator\('([\w.-]+)'/g)) keys.add(m[1]);
        for (const k of ['editor.unreachable', 'editor.offline']) keys.add(`${type}.${k}`);
        assert.ok(keys.size > 3);
        for (const key of keys) assert.equal(typeof lookup(catalog, key), 'string', `missing catalog key ${key}`);
      });

      it('has its own SVG icon', () => {
        const icon = editorTs.match(/icon: '([\w.-]+)'/)?.[1];
        if (icon) assert.ok(fs.existsSync(path.join(root, 'icons', icon)), `icons/${icon} missing`);
      });
    });
  }

  it('gives each node its own icon', () => {
    const icons = fs.readdirSync(path.join(root, 'icons')).map((f) => fs.readFileSync(path.join(root, 'icons', f), 'utf8'));
    assert.equal(new Set(icons).size, icons.length);
  });
});

describe('README', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

  it('documents every route of the topic map', async () => {
    const { TOPIC_ROUTES } = await import('../../firmware/contract/topics');
    for (const r of TOPIC_ROUTES) assert.ok(readme.includes(`\`${r.pattern}\``), `README does not list ${r.pattern}`);
  });

  it('documents every shipped flow', () => {
    for (const f of fs.readdirSync(path.join(root, 'flows'))) assert.ok(readme.includes(`\`${f.replace(/\.json$/, '')}\``), f);
  });

  it('gives the test command that .ci/run calls', () => {
    const ci = fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8');
    const command = ci.trim().split('\n').pop()!;
    assert.ok(readme.includes(command), `README lacks "${command}"`);
  });
});

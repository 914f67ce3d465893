#!/usr/bin/env node
// Builds each node's editor file, dist/nodes/<type>/<type>.html, from its template (nodes/<type>/<type>.html)
// and its TypeScript editor (nodes/<type>/editor/index.ts) bundled by esbuild with what it imports from the
// contract and the domain, so the editor checks with the runtime's own constants and rules.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
// The domain modules an editor imports also hold Node-only code (the decoder reads Buffers) that the
// editor never runs; Node's built-ins resolve to an empty module so the bundle stays browser code.
const nodeBuiltinsStub = {
  name: 'node-builtins-stub',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

const MARKER = '<!-- editor script: built from editor/index.ts -->';

async function build() {
  for (const type of fs.readdirSync(path.join(root, 'nodes'))) {
    const template = path.join(root, 'nodes', type, `${type}.html`);
    const entry = path.join(root, 'nodes', type, 'editor', 'index.ts');
    if (!fs.existsSync(template) || !fs.existsSync(entry)) continue;
    const html = fs.readFileSync(template, 'utf8');
    if (!html.includes(MARKER)) throw new Error(`${path.relative(root, template)} lacks the line ${MARKER}`);
    const out = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'warning',
      plugins: [nodeBuiltinsStub],
      metafile: true,
    });
    const script = out.outputFiles[0].text;
    if (process.env.FLEET_EDITOR_SIZES) {
      for (const [f, i] of Object.entries(out.metafile.outputs[Object.keys(out.metafile.outputs)[0]].inputs)) if (i.bytesInOutput > 2000) console.log(type, f, i.bytesInOutput);
    }
    if (script.includes('</script')) throw new Error(`${type}: the editor bundle contains </script`);
    const dst = path.join(root, 'dist', 'nodes', type);
    fs.mkdirSync(dst, { recursive: true });
    fs.writeFileSync(path.join(dst, `${type}.html`), html.replace(MARKER, () => `<script type="text/javascript">\n${script}</script>`));
  }
}

build().catch((err) => {
  console.error(err.message);
  process.exit(1);
});

/**
 * The Flow Library's scorecard, offline. `node-red-dev validate` (node-red/node-red-dev-cli) scores a
 * package on its rules P01–P08, N01–N02 and D01–D03 (docs/index.md there), but asks npm and
 * catalogue.nodered.org while it runs; here each rule we can check without the network is a test, on
 * package.json, the built editor files (dist/nodes, what the scorecard parses) and examples/.
 *
 * Rules and where they are read from (node-red-dev-cli, src/libs/checkpackage.js, checknodes.js,
 * checkdeps.js and docs/*.md):
 * - P01 licence declared (an SPDX id, or "SEE LICENSE IN <file>" naming a shipped file);
 * - P03 repository or bugs given (a git URL, as its isGitUrl test reads one);
 * - P04 a scoped name (its scopedRegex), and a valid npm package name;
 * - P05 the `node-red` keyword;
 * - P06 `node-red.version` declared, a valid semver range, satisfied by the Node-RED releases we test
 *   on (offline stand-in for npm's latest/maintenance tags: the devDependency and test/compat's);
 * - P07 `engines.node` declared and satisfied by the minimum Node of the newest Node-RED we test on;
 * - N01 node names unique (offline: no type of ours among each other, Node-RED's core nodes, or the
 *   node packages installed beside us; the catalogue-wide check needs the network);
 * - N02 an example for every non-config node, examples/ shipped through `files`;
 * - getNodeDefinitions' parse (checknodes.js): category, icon, color, inputs, outputs written as
 *   literals, defaults and credentials inline, or the scorecard cannot read the node;
 * - D02 no known-bad package (its badpackages.json: agent-base <6.0.0) in the production tree;
 * - and the Flow Library's display of a node: its own SVG icon (unique), and help for it.
 * Not checked: P02 (disabled in node-red-dev itself), P08 and the catalogue half of N01 (online only),
 * D01 (a warning above 6 dependencies, not a failure) and D03 (latest versions: needs the registry).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import semver from 'semver';

import { DEFAULT_RECEIVERS } from '../../lib/alerts/defaults';
import { coreNodeTypes, editorFileOf, installedNodePackage, nodeDefinitions, type NodeDefinition } from '../support/node-definitions';

const root = path.resolve(__dirname, '..', '..', '..');

interface Pkg {
  name: string;
  version: string;
  license?: string;
  keywords?: string[];
  repository?: string | { type?: string; url?: string; directory?: string };
  bugs?: string | { url?: string; email?: string };
  homepage?: string;
  engines?: { node?: string };
  files?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  'node-red': { version?: string; nodes: Record<string, string> };
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const pkg = readJson<Pkg>(path.join(root, 'package.json'));
const ours = { name: pkg.name, dir: root, nodes: pkg['node-red'].nodes };

// The SPDX identifiers a Node-RED node package is likely to carry; anything else must be looked up.
const SPDX = new Set(['Apache-2.0', 'MIT', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'GPL-2.0-only', 'GPL-2.0-or-later', 'GPL-3.0-only', 'GPL-3.0-or-later', 'LGPL-3.0-only', 'LGPL-3.0-or-later', 'MPL-2.0', 'EPL-2.0', 'AGPL-3.0-only', 'AGPL-3.0-or-later', 'Unlicense', '0BSD']);
// node-red-dev-cli checkpackage.js isGitUrl and scopedRegex.
const GIT_URL = /^(?:git|ssh|https?|git@[-\w.]+):(\/\/)?(.*?)(\/?|#[-\d\w._]+?)$/;
const SCOPED = /^@[a-z\d][\w-.]+\/[a-z\d][\w-.]*$/;

/** The Node-RED releases this package is tested on: the devDependency and test/compat's. */
function testedNodeReds(): Array<{ version: string; engines: string }> {
  const out: Array<{ version: string; engines: string }> = [];
  const dev = readJson<{ version: string; engines: { node: string } }>(path.join(root, 'node_modules', 'node-red', 'package.json'));
  out.push({ version: dev.version, engines: dev.engines.node });
  const compatPj = path.join(root, 'test', 'compat', 'node_modules', 'node-red', 'package.json');
  if (fs.existsSync(compatPj)) {
    const c = readJson<{ version: string; engines: { node: string } }>(compatPj);
    out.push({ version: c.version, engines: c.engines.node });
  } else {
    // Not installed yet (scripts/pretest.sh installs it): its pinned version still has to satisfy the range.
    const declared = readJson<{ dependencies: Record<string, string> }>(path.join(root, 'test', 'compat', 'package.json')).dependencies['node-red'];
    out.push({ version: semver.minVersion(declared)!.version, engines: '' });
  }
  return out;
}

/** The definitions of our nodes as the scorecard would parse them from the built editor files. */
function ourDefinitions(): { defs: NodeDefinition[]; errors: ReturnType<typeof nodeDefinitions>['errors'] } {
  const defs: NodeDefinition[] = [];
  const errors: ReturnType<typeof nodeDefinitions>['errors'] = [];
  for (const js of Object.values(pkg['node-red'].nodes)) {
    const r = nodeDefinitions(editorFileOf(ours, js));
    defs.push(...r.definitions);
    errors.push(...r.errors);
  }
  return { defs, errors };
}

describe('Flow Library scorecard (node-red-dev validate rules, offline)', () => {
  describe('package.json', () => {
    it('P01: declares its licence as an SPDX id or a shipped licence file', () => {
      assert.equal(typeof pkg.license, 'string', 'package.json has no "license"');
      const seeFile = /^SEE LICENSE IN (.+)$/.exec(pkg.license!);
      if (seeFile) assert.ok(fs.existsSync(path.join(root, seeFile[1])), `${seeFile[1]} is missing`);
      else assert.ok(pkg.license!.split(/\s+(?:OR|AND)\s+/).every((id) => SPDX.has(id.replace(/^\(|\)$/g, ''))), `"${pkg.license}" is not an SPDX id we know`);
    });

    it('P03: gives a repository or a bugs URL/e-mail, so users can report problems', function () {
      const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
      const bugs = typeof pkg.bugs === 'string' ? pkg.bugs : pkg.bugs?.url ?? pkg.bugs?.email;
      if (!repo && !bugs) {
        // Which repository the package lives in is the maintainers' to name: the README names none yet.
        this.skip();
      }
      if (repo) assert.match(repo.replace(/^git\+/, ''), GIT_URL, `repository "${repo}" is not a git URL`);
      if (bugs) assert.ok(/^https?:\/\/\S+$/.test(bugs) || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(bugs), `bugs "${bugs}" is neither a URL nor an e-mail address`);
      if (pkg.homepage) assert.match(pkg.homepage, /^https?:\/\/\S+$/);
    });

    it('P04: has a scoped name that npm accepts', () => {
      assert.match(pkg.name, SCOPED);
      // npm's own rules (validate-npm-package-name): lower case, URL-safe, at most 214 characters.
      assert.ok(pkg.name.length <= 214);
      assert.equal(pkg.name, pkg.name.toLowerCase());
      assert.equal(encodeURIComponent(pkg.name.slice(1)).replace('%2F', '/'), pkg.name.slice(1));
      assert.doesNotMatch(pkg.name.split('/')[1], /^[._]/);
    });

    it('P05: carries the node-red keyword, which lists it in the Flow Library', () => {
      assert.ok(pkg.keywords?.includes('node-red'), 'keywords lack "node-red"');
    });

    it('P06: declares the Node-RED versions it supports as a range that holds for each release we test on', () => {
      const range = pkg['node-red'].version;
      assert.ok(range, 'node-red.version is missing');
      assert.ok(semver.validRange(range), `node-red.version "${range}" is not a semver range`);
      for (const nr of testedNodeReds()) assert.ok(semver.satisfies(nr.version, range), `Node-RED ${nr.version} is outside node-red.version "${range}"`);
      // And the devDependency is inside it: we test on what we claim.
      assert.ok(semver.intersects(pkg.devDependencies!['node-red'], range), 'the devDependency node-red is outside node-red.version');
    });

    it('P07: declares engines.node, and the newest Node-RED we test on runs on its minimum', () => {
      const engines = pkg.engines?.node;
      assert.ok(engines && semver.validRange(engines), 'engines.node missing or not a range');
      const newest = testedNodeReds().filter((r) => r.engines).sort((a, b) => semver.compare(b.version, a.version))[0];
      const minNode = semver.minVersion(newest.engines)!;
      assert.ok(semver.satisfies(minNode, engines), `Node ${minNode.version} (the minimum of Node-RED ${newest.version}) is outside engines.node "${engines}"`);
    });

    it('D02: has no known-bad package (agent-base < 6) in its production dependency tree', () => {
      const lock = readJson<{ packages: Record<string, { version?: string; dev?: boolean }> }>(path.join(root, 'package-lock.json'));
      const bad = Object.entries(lock.packages)
        .filter(([p, v]) => p.endsWith('node_modules/agent-base') && !v.dev && v.version && semver.satisfies(v.version, '<6.0.0'))
        .map(([p, v]) => `${p}@${v.version}`);
      assert.deepEqual(bad, []);
    });
  });

  describe('nodes', () => {
    const { defs, errors } = ourDefinitions();
    const byType = new Map(defs.map((d) => [d.type, d]));

    it('every editor file is readable by the scorecard\'s parser: literal type, category, icon, colour, ports; inline defaults', () => {
      assert.deepEqual(errors, []);
      assert.deepEqual([...byType.keys()].sort(), Object.keys(pkg['node-red'].nodes).sort(), 'one registerType per node-red.nodes entry, of the same name');
    });

    it('fleet-alerts\' literal output count is its default receivers\' count', () => {
      // The literal is for the scorecard's parser; the dialog sets the real count from the receivers.
      assert.equal(byType.get('fleet-alerts')?.outputs, DEFAULT_RECEIVERS.length);
    });

    it('N01: no duplicate types, and none taken by Node-RED\'s core nodes or a node package installed beside us', () => {
      assert.equal(defs.length, new Set(defs.map((d) => d.type)).size, 'a type is registered twice');
      // Types the editor itself owns, registered without an editor file.
      const taken = new Map<string, string>([...['tab', 'subflow', 'group', 'junction', 'unknown'].map((t) => [t, 'the editor'] as [string, string])]);
      for (const t of coreNodeTypes()) taken.set(t, '@node-red/nodes');
      const others = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).map((n) => installedNodePackage(n, root)).filter((p) => p !== undefined);
      assert.ok(others.length >= 2, 'the dashboard and node-red-node-email declare node-red.nodes');
      for (const other of others) {
        for (const js of Object.values(other.nodes)) {
          const file = editorFileOf(other, js);
          if (fs.existsSync(file)) for (const d of nodeDefinitions(file).definitions) taken.set(d.type, other.name);
        }
      }
      assert.ok(taken.has('inject') && taken.has('mqtt in') && taken.has('ui-button') && taken.has('e-mail'), 'the lists of other types were read');
      for (const d of defs) assert.ok(!taken.has(d.type), `${d.type} is already a type of ${taken.get(d.type)}`);
    });

    it('N01: node type names are lower case words joined by dashes, under our fleet- prefix', () => {
      for (const d of defs) assert.match(d.type, /^fleet-[a-z0-9]+(-[a-z0-9]+)*$/);
    });

    it('N02: every non-config node is used in an example, and examples/ ships through package.json files', () => {
      assert.ok(pkg.files?.includes('examples'), '"examples" is not in package.json files');
      const dir = path.join(root, 'examples');
      const flows = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
      assert.ok(flows.length >= 1, 'no example flow');
      const used = new Set<string>();
      for (const f of flows) {
        const flow = readJson<unknown>(path.join(dir, f));
        assert.ok(Array.isArray(flow), `${f} is not a flow (an array of nodes)`);
        for (const n of flow as Array<{ type?: unknown }>) if (typeof n.type === 'string') used.add(n.type);
      }
      const missing = defs.filter((d) => d.category !== 'config' && !used.has(d.type)).map((d) => d.type);
      assert.deepEqual(missing, [], 'nodes without an example');
    });

    it('each palette node has an SVG icon of its own beside its runtime file, as the editor loads it', () => {
      const seen = new Map<string, string>();
      for (const d of defs.filter((x) => x.category !== 'config')) {
        assert.ok(d.icon, `${d.type} has no icon`);
        assert.match(d.icon, /\.svg$/, `${d.type}: ${d.icon} is not an SVG`);
        // Node-RED serves a package's icons from the icons/ folder beside each node's .js file.
        const file = path.join(path.dirname(path.join(root, pkg['node-red'].nodes[d.type])), 'icons', d.icon);
        assert.ok(fs.existsSync(file), `${file} is missing`);
        const svg = fs.readFileSync(file, 'utf8');
        assert.match(svg, /<svg[\s>][\s\S]*viewBox=[\s\S]*<\/svg>\s*$/, `${d.icon} is not a complete SVG with a viewBox`);
        assert.doesNotMatch(svg, /<script|\bon\w+=|href="(?:https?:|javascript:)/i, `${d.icon} has script or external references`);
        assert.ok(!seen.has(svg), `${d.type} shares its icon with ${seen.get(svg)}`);
        seen.set(svg, d.type);
      }
    });

    it('each node has help for the Flow Library and the editor\'s sidebar', () => {
      for (const type of Object.keys(pkg['node-red'].nodes)) {
        const file = path.join(root, path.dirname(pkg['node-red'].nodes[type]), 'locales', 'en-US', `${type}.html`);
        const help = fs.readFileSync(file, 'utf8').match(new RegExp(`<script type="text/html" data-help-name="${type}">([\\s\\S]*?)</script>`));
        assert.ok(help, `${type} has no help`);
        // Its first paragraph is the summary the palette tooltip and the library show.
        assert.match(help[1].trim(), /^<p>[^<]{20,}/, `${type}: help does not open with a summary paragraph`);
      }
    });
  });
});

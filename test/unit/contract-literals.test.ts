/**
 * The contract is the only place a topic, a device kind or an application name is written: the
 * string literals of the code outside firmware/contract hold none. (Comments and tests may name
 * them; they explain, they do not decide.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { DEVICE_KINDS, IOT_COMMON_ARCHS, TI0162_APPS, TOPIC_ROUTES, CONSOLE_TOPIC, simFaultTopic } from '../../firmware/contract/topics';

const root = path.resolve(__dirname, '..', '..', '..');

/** Where code lives that must take its topics and kinds from the contract. */
const SCANNED = ['lib', 'nodes', 'firmware/simulator', 'bench', 'scripts', 'test/support'];

/**
 * Literals allowed outside the contract, by file, with the reason. Keep it short: each entry is
 * a place a renamed topic or kind would not fail the build.
 */
const ALLOWED: ReadonlyMap<string, readonly string[]> = new Map([
  // The bench publisher's hand-built load: a fixed payload per topic, measured as the firmware sends it.
]);

/** The string literals of a JS/TS source, comments skipped (a small scanner, not a parser). */
export function stringLiterals(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') { i = src.indexOf('\n', i); if (i < 0) break; continue; }
    if (c === '/' && src[i + 1] === '*') { i = src.indexOf('*/', i + 2); if (i < 0) break; i += 2; continue; }
    if (c === '\'' || c === '"' || c === '`') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') { s += src.slice(j, j + 2); j += 2; continue; }
        if (c !== '`' && src[j] === '\n') break;
        s += src[j++];
      }
      out.push(s);
      i = j + 1;
      continue;
    }
    i++;
  }
  return out;
}

function files(dir: string): string[] {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.includes('node_modules') && !f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f));
}

const families = new Set(TOPIC_ROUTES.map((r) => r.pattern.split('/')[0]).filter((s) => !s.startsWith('{')));
families.add(CONSOLE_TOPIC);
const simFamily = simFaultTopic('x').split('/').slice(0, 2).join('/');
const names = new Set<string>([...DEVICE_KINDS, ...TI0162_APPS.values(), ...[...IOT_COMMON_ARCHS.values()].filter((a) => a.includes('-'))]);

function problems(literal: string): string | null {
  const first = literal.split('/')[0];
  if (literal.includes('/') && families.has(first)) return `topic ${JSON.stringify(literal)}`;
  if (literal.startsWith(`${simFamily}/`) || literal === simFamily) return `simulator control topic ${JSON.stringify(literal)}`;
  if (names.has(literal)) return `contract name ${JSON.stringify(literal)}`;
  return null;
}

describe('contract: no topic, kind or application name outside firmware/contract', () => {
  it('the scanner finds literals and skips comments', () => {
    assert.deepEqual(stringLiterals("// 'a'\nconst x = 'b' + \"c\" + `d${e}`; /* 'f' */ const y = 'it\\'s';"), ['b', 'c', 'd${e}', "it\\'s"]);
    assert.equal(problems('esp32c3/full/x/sensor'), 'topic "esp32c3/full/x/sensor"');
    assert.equal(problems('env-sensor'), 'contract name "env-sensor"');
    assert.equal(problems('mqtt://127.0.0.1:1883'), null);
  });

  const all = SCANNED.flatMap(files);
  it(`scans the code (${SCANNED.join(', ')})`, () => assert.ok(all.length > 50, `only ${all.length} files`));

  for (const file of all) {
    it(file, () => {
      const allowed = ALLOWED.get(file) ?? [];
      const found = stringLiterals(fs.readFileSync(path.join(root, file), 'utf8'))
        .map(problems).filter((p): p is string => p !== null && !allowed.some((a) => p.includes(JSON.stringify(a))));
      assert.deepEqual(found, [], `${file} writes what the contract owns: import it from firmware/contract`);
    });
  }
});

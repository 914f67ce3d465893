// Makes a Node-RED user directory load this package from the working tree: Node-RED scans
// <userDir>/node_modules, and a link there keeps it on the tree (examples included).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));

function linkPackage(userDir) {
  const link = path.join(userDir, 'node_modules', ...pkg.name.split('/'));
  fs.mkdirSync(path.dirname(link), { recursive: true });
  let current = null;
  try { current = fs.realpathSync(link); } catch { /* no link yet */ }
  if (current !== root) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(root, link, 'dir');
  }
  return link;
}

module.exports = { linkPackage, packageRoot: root, packageName: pkg.name };

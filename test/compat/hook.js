// Preloaded (node --require, through NODE_OPTIONS) by the compatibility pass of npm test: points every
// `node-red`, `node-red/...` and `@node-red/...` require of the process at Node-RED 5 in
// test/compat/node_modules instead of the devDependency (Node-RED 4.1). Everything else resolves as
// usual. Plain JavaScript, so it runs before any build and in every child process of the run.
'use strict';
const Module = require('node:module');
const path = require('node:path');

const compatDir = __dirname;
const redirected = (request) => request === 'node-red' || request.startsWith('node-red/') || request.startsWith('@node-red/');

if (!Module._resolveFilename.fleetCompat) {
  const resolve = Module._resolveFilename;
  const hooked = function (request, parent, isMain, options) {
    if (typeof request === 'string' && redirected(request)) {
      return resolve.call(this, request, parent, isMain, { ...options, paths: [compatDir] });
    }
    return resolve.call(this, request, parent, isMain, options);
  };
  hooked.fleetCompat = true;
  Module._resolveFilename = hooked;
}

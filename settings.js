// Node-RED settings for `npm start`: this package from the working tree, the quick-start flow,
// a persistent context store for the fleet registry, and everything bound to 127.0.0.1.
'use strict';
const path = require('node:path');

const userDir = process.env.FLEET_USER_DIR || path.join(__dirname, '.node-red-data');

module.exports = {
  uiHost: process.env.FLEET_HOST || '127.0.0.1',
  uiPort: Number(process.env.PORT || 1880),
  userDir,
  flowFile: 'flows.json',
  flowFilePretty: true,
  // The registry writes one key per device; localfilesystem keeps them across restarts.
  contextStorage: {
    default: { module: 'localfilesystem', config: { flushInterval: 5 } },
    memory: { module: 'memory' },
  },
  telemetry: { enabled: false, updateNotification: false },
  editorTheme: {
    projects: { enabled: false },
    tours: false,
    header: { title: 'ESP32 fleet' },
  },
  logging: { console: { level: process.env.FLEET_LOG_LEVEL || 'info', metrics: false, audit: false } },
  exportGlobalContextKeys: false,
  functionExternalModules: false,
};

// Node-RED settings for `npm start`: this package from the working tree, the quick-start flow,
// a persistent context store for the fleet registry, everything bound to 127.0.0.1, and adminAuth
// when FLEET_ADMIN_USER is set. scripts/node-red-server.js adds the loopback guard (Host and Origin).
'use strict';
const path = require('node:path');

const userDir = process.env.FLEET_USER_DIR || path.join(__dirname, '.node-red-data');

/**
 * adminAuth from the environment: FLEET_ADMIN_USER with FLEET_ADMIN_PASSWORD_HASH (bcrypt, e.g. from
 * `node-red admin hash-pw`) or FLEET_ADMIN_PASSWORD (hashed here at start). No user set: no adminAuth.
 */
function adminAuthFromEnv(env = process.env) {
  const username = env.FLEET_ADMIN_USER;
  const hash = env.FLEET_ADMIN_PASSWORD_HASH;
  const plain = env.FLEET_ADMIN_PASSWORD;
  if (!username) {
    if (hash || plain) throw new Error('FLEET_ADMIN_PASSWORD(_HASH) is set but FLEET_ADMIN_USER is not: set both, or neither for no login');
    return undefined;
  }
  if (!hash && !plain) throw new Error(`FLEET_ADMIN_USER=${username} needs FLEET_ADMIN_PASSWORD_HASH (bcrypt) or FLEET_ADMIN_PASSWORD`);
  const bcrypt = require(require.resolve('bcryptjs', { paths: [require.resolve('node-red/package.json', { paths: [__dirname] })] }));
  if (hash && !/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash)) throw new Error('FLEET_ADMIN_PASSWORD_HASH is not a bcrypt hash ($2b$10$...)');
  return {
    type: 'credentials',
    users: [{ username, password: hash || bcrypt.hashSync(plain, 10), permissions: '*' }],
  };
}

module.exports = {
  uiHost: process.env.FLEET_HOST || '127.0.0.1',
  uiPort: Number(process.env.PORT || 1880),
  userDir,
  adminAuth: adminAuthFromEnv(),
  // No cross-origin access to http-in endpoints either (Node-RED's default, said out loud).
  httpNodeCors: undefined,
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

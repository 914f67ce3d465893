/**
 * The registry's device list is an admin endpoint: with adminAuth on, it needs a token with the
 * fleet-registry.read permission, like every other admin route.
 */
import assert from 'node:assert/strict';

import { NodeRedProcess } from '../support/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bcrypt = require('bcryptjs') as { hashSync(s: string, rounds: number): string };

describe('fleet-registry device list under adminAuth', function () {
  this.timeout(60_000);
  const red = new NodeRedProcess({
    settings: {
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'reader', password: bcrypt.hashSync('test-only-password', 4), permissions: 'read' },
          { username: 'nobody', password: bcrypt.hashSync('test-only-password', 4), permissions: 'flows.read' },
        ],
      },
    },
  });

  before(async () => {
    red.writeFlows([{ id: 'auth-reg', type: 'fleet-registry', persist: false, flushMs: 1000 }]);
    await red.start();
  });
  after(async () => {
    await red.stop();
    red.cleanup();
  });

  const token = async (username: string, scope: string): Promise<string> => {
    const res = await fetch(`${red.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: 'test-only-password' }),
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  it('refuses a request without a token', async () => {
    assert.equal((await fetch(`${red.url}/fleet-registry/auth-reg/devices`)).status, 401);
  });

  it('serves a user with read permission', async () => {
    const res = await fetch(`${red.url}/fleet-registry/auth-reg/devices`, { headers: { Authorization: `Bearer ${await token('reader', 'read')}` } });
    assert.equal(res.status, 200);
    const body = await res.json() as { count: number; devices: unknown[] };
    assert.equal(body.count, 0);
    assert.deepEqual(body.devices, []);
  });

  it('refuses a user whose permissions do not cover fleet-registry.read', async () => {
    const res = await fetch(`${red.url}/fleet-registry/auth-reg/devices`, { headers: { Authorization: `Bearer ${await token('nobody', 'flows.read')}` } });
    assert.equal(res.status, 401);
  });
});

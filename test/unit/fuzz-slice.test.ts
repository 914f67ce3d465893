/** The fast slice of `npm run fuzz`: every parser, 20,000 generated inputs, no throw, no contract violation. */
import * as assert from 'node:assert/strict';

import { loadTargets, runTarget } from '../fuzz/harness';

describe('fuzz slice (every parser, 20,000 inputs)', function () {
  this.timeout(120_000);
  for (const target of loadTargets()) {
    it(`${target.name}: never throws, never breaks its contract`, () => {
      const r = runTarget(target, { count: 20_000, seed: 20261202, maxSeconds: 30 });
      assert.ok(r.runs >= 1000, `only ${r.runs} inputs ran in the time limit`);
      assert.deepEqual(r.examples, [], `${r.throws} throws, ${r.violations} violations`);
    });
  }
});

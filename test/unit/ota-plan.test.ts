import * as assert from 'node:assert/strict';

import { defaultPlan, exportPlan, fromAwsJobConfig, parsePlan, toAwsJobConfig, type RolloutPlan } from '../../lib/ota/plan';
import { planWaves } from '../../lib/ota/planner';

const plan = (x: unknown): RolloutPlan => {
  const r = parsePlan(x);
  if (!r.ok) throw new Error(`${r.field} ${r.reason}`);
  return r.value;
};

describe('ota rollout plan', () => {
  it('defaults: 10 → 50 → 100 %, 5 at a time, 3 retries, a 30-minute health gate', () => {
    const p = plan(undefined);
    assert.deepEqual(p.waves, [10, 50, 100]);
    assert.equal(p.concurrency, 5);
    assert.deepEqual(p.retries, { failed: 3, timedOut: 3 });
    assert.equal(p.healthGate.windowSeconds, 1800);
    assert.equal(p.canary, null);
  });

  it('names the field at fault', () => {
    const cases: Array<[unknown, string]> = [
      [{ waves: [50, 10, 100] }, 'waves[1]'], [{ waves: [10, 50] }, 'waves[1]'], [{ waves: [] }, 'waves'], [{ waves: [0, 100] }, 'waves[0]'],
      [{ concurrency: 0 }, 'concurrency'], [{ retries: 11 }, 'retries'], [{ retries: { failed: -1 } }, 'retries.failed'],
      [{ abort: [{ failureType: 'BROKEN', thresholdPercentage: 5 }] }, 'abort[0].failureType'],
      [{ abort: [{ failureType: 'FAILED', thresholdPercentage: 101 }] }, 'abort[0].thresholdPercentage'],
      [{ abort: [{ failureType: 'FAILED', thresholdPercentage: 5, action: 'PAUSE' }] }, 'abort[0].action'],
      [{ canary: { devices: ['a', 'a'] } }, 'canary.devices[1]'], [{ canary: { devices: ['a/b'] } }, 'canary.devices[0]'],
      [{ healthGate: { margin: -1 } }, 'healthGate.margin'], [{ groupErrorThreshold: { percentage: 10, action: 'explode' } }, 'groupErrorThreshold.action'],
      [{ maximumPerMinute: 1001 }, 'maximumPerMinute'], [{ wave: [1] }, 'wave'], ['{', 'plan'], [{ v: 9 }, 'v'],
    ];
    for (const [input, field] of cases) {
      const r = parsePlan(input);
      assert.equal(r.ok, false, JSON.stringify(input));
      assert.equal((r as { field: string }).field, field, JSON.stringify(input));
    }
  });

  it('exports as JSON and imports it back unchanged', () => {
    const p = plan({ waves: [5, 25, 100], canary: { name: 'lab', devices: ['env-001'] }, abort: [{ failureType: 'ALL', thresholdPercentage: 20, minNumberOfExecutedThings: 10 }], groupErrorThreshold: 30, retries: { failed: 1, timedOut: 2 }, soakSeconds: 60 });
    assert.deepEqual(plan(exportPlan(p)), p);
  });

  it('maps onto AWS IoT Jobs rollout, abort, timeout and retry configuration, and back', () => {
    const p = plan({ maximumPerMinute: 50, abort: [{ failureType: 'FAILED', thresholdPercentage: 12.5, minNumberOfExecutedThings: 20 }], deviceTimeoutSeconds: 600, retries: { failed: 1, timedOut: 2 } });
    const aws = toAwsJobConfig(p);
    assert.deepEqual(aws, {
      jobExecutionsRolloutConfig: { maximumPerMinute: 50 },
      abortConfig: { criteriaList: [{ action: 'CANCEL', failureType: 'FAILED', thresholdPercentage: 12.5, minNumberOfExecutedThings: 20 }] },
      timeoutConfig: { inProgressTimeoutInMinutes: 10 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }, { failureType: 'TIMED_OUT', numberOfRetries: 2 }] },
    });
    const back = fromAwsJobConfig(JSON.parse(JSON.stringify(aws)));
    assert.equal(back.ok, true);
    const b = (back as { value: RolloutPlan }).value;
    assert.equal(b.maximumPerMinute, 50);
    assert.deepEqual(b.abort, p.abort);
    assert.equal(b.deviceTimeoutSeconds, 600);
    assert.deepEqual(b.retries, p.retries);
    assert.deepEqual(toAwsJobConfig(defaultPlan()).jobExecutionsRetryConfig, { criteriaList: [{ failureType: 'ALL', numberOfRetries: 3 }] });
    assert.equal(toAwsJobConfig(plan({ deviceTimeoutSeconds: 5 })).timeoutConfig?.inProgressTimeoutInMinutes, 1, 'AWS counts whole minutes, at least 1');
    const bad = fromAwsJobConfig({ abortConfig: { criteriaList: [{ action: 'CANCEL', failureType: 'NOPE', thresholdPercentage: 1, minNumberOfExecutedThings: 1 }] } });
    assert.equal((bad as { field: string }).field, 'abortConfig.criteriaList[0].failureType');
    assert.equal((fromAwsJobConfig({ jobExecutionsRolloutConfig: { exponentialRate: {} } }) as { field: string }).field, 'jobExecutionsRolloutConfig.exponentialRate');
    assert.equal((fromAwsJobConfig({ timeoutConfig: { inProgressTimeoutInMinutes: 10081 } }) as { field: string }).field, 'timeoutConfig.inProgressTimeoutInMinutes');
  });
});

describe('ota wave planner', () => {
  const fleet = Array.from({ length: 1000 }, (_, i) => `dev-${String(i).padStart(4, '0')}`);

  it('splits by cumulative percentage, every target exactly once', () => {
    const waves = planWaves('r1', fleet, plan(undefined));
    assert.deepEqual(waves.map((w) => w.devices.length), [100, 400, 500]);
    const all = waves.flatMap((w) => w.devices);
    assert.equal(new Set(all).size, 1000);
    assert.deepEqual([...all].sort(), fleet);
  });

  it('is deterministic for a rollout id and spreads the waves over the fleet', () => {
    assert.deepEqual(planWaves('r1', fleet, plan(undefined)), planWaves('r1', [...fleet].reverse(), plan(undefined)));
    assert.notDeepEqual(planWaves('r1', fleet, plan(undefined))[0].devices, planWaves('r2', fleet, plan(undefined))[0].devices);
    const first = planWaves('r1', fleet, plan(undefined))[0].devices.map((d) => Number(d.slice(4)));
    assert.ok(Math.min(...first) < 200 && Math.max(...first) > 800, 'not an alphabetical block');
  });

  it('puts the canary group first, only those of its devices that are targets', () => {
    const waves = planWaves('r1', fleet, plan({ canary: { name: 'lab', devices: ['dev-0500', 'not-a-target', 'dev-0007'] } }));
    assert.equal(waves[0].name, 'canary:lab');
    assert.deepEqual(waves[0].devices, ['dev-0500', 'dev-0007']);
    assert.equal(waves.slice(1).reduce((n, w) => n + w.devices.length, 0), 998);
    assert.ok(!waves[1].devices.includes('dev-0500'));
  });

  it('drops waves that would be empty on a small fleet, and dedupes targets', () => {
    const waves = planWaves('r1', ['a', 'b', 'a'], plan({ waves: [10, 20, 100] }));
    assert.deepEqual(waves.map((w) => [w.name, w.devices.length]), [['wave 1', 1], ['wave 3', 1]]);
    assert.deepEqual(planWaves('r1', [], plan(undefined)), []);
  });
});

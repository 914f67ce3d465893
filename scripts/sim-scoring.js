// The simulated fleet of `npm start` runs N times faster than the deployment guides, so a fault of a
// simulated minute sends N times as many messages per real minute. The health node's counting windows
// (rejected readings, restarts, OTA/Steel failures) are shortened by the same factor, so a burst counts
// as it would on a real fleet and is forgotten as soon: at 5x the ten-minute window of rejected readings
// is two minutes. Rates per hour (errors) are not scaled: the simulator sends them per real hour.
'use strict';

/** @param {{windows: Record<string, number>}} defaults @param {number} speed @returns {{windows: Record<string, number>}} */
function scoringForSpeed(defaults, speed) {
  const f = speed > 1 ? speed : 1;
  const windows = {};
  for (const [k, s] of Object.entries(defaults.windows)) windows[k] = Math.max(10, Math.round(s / f));
  return { windows };
}

module.exports = { scoringForSpeed };

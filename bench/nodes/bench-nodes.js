// Two node types for the in-process benchmark: a pass-through (Node-RED's own cost per hop)
// and a sink that counts arrivals and tells the harness when the last one came.
'use strict';
module.exports = function (RED) {
  function Pass(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => { send(msg); done(); });
  }
  RED.nodes.registerType('bench-pass', Pass);

  function Sink(config) {
    RED.nodes.createNode(this, config);
    this.count = 0;
    this.expect = Infinity;
    this.onDone = null;
    this.on('input', (msg, send, done) => {
      this.count++;
      if (this.count >= this.expect && this.onDone) { const f = this.onDone; this.onDone = null; f(); }
      done();
    });
  }
  RED.nodes.registerType('bench-sink', Sink);

  // Latency from a publisher's `sent_at` stamp to this node, for the broker benchmark.
  const latencies = new Map();
  function Latency(config) {
    RED.nodes.createNode(this, config);
    const state = { samples: [], count: 0, first: 0, last: 0 };
    latencies.set(this.id, state);
    this.on('input', (msg, send, done) => {
      const sent = msg.payload && msg.payload.sent_at;
      const now = Date.now();
      if (typeof sent === 'number') {
        state.samples.push(now - sent);
        state.count++;
        if (!state.first) state.first = now;
        state.last = now;
      }
      done();
    });
    this.on('close', () => latencies.delete(this.id));
  }
  RED.nodes.registerType('bench-latency', Latency);
  if (RED.httpAdmin) {
    RED.httpAdmin.get('/bench-latency/:id', (req, res) => {
      const s = latencies.get(req.params.id);
      if (!s) return res.status(404).end();
      const sorted = s.samples.slice().sort((a, b) => a - b);
      const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);
      res.json({ count: s.count, first: s.first, last: s.last, p50: q(0.5), p99: q(0.99), max: sorted.length ? sorted[sorted.length - 1] : null });
    });
    RED.httpAdmin.post('/bench-latency/:id/reset', (req, res) => {
      const s = latencies.get(req.params.id);
      if (s) { s.samples = []; s.count = 0; s.first = 0; s.last = 0; }
      res.json({ ok: true });
    });
  }
};

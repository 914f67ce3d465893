// Node types for the benchmarks: a pass-through (Node-RED's own cost per hop), a sink that counts
// arrivals and tells the harness when the last one came, and a latency probe for the broker bench.
'use strict';
const { monitorEventLoopDelay, PerformanceObserver } = require('node:perf_hooks');

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

  // What holds this process's event loop, measured inside it: the delay histogram and GC pauses
  // since the last reset.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const gc = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { gc.count++; gc.totalMs += e.duration; if (e.duration > gc.maxMs) gc.maxMs = e.duration; }
  }).observe({ entryTypes: ['gc'] });

  // The publisher appends `"sent_at":<ms>}` last: read it from the raw Buffer when nothing parsed it.
  const KEY = Buffer.from('"sent_at":');
  function sentAt(payload) {
    if (payload === null || payload === undefined) return undefined;
    if (typeof payload.sent_at === 'number') return payload.sent_at;
    if (Buffer.isBuffer(payload)) {
      const at = payload.lastIndexOf(KEY);
      if (at < 0) return undefined;
      let v = 0;
      for (let i = at + KEY.length; i < payload.length; i++) {
        const c = payload[i];
        if (c < 48 || c > 57) break;
        v = v * 10 + (c - 48);
      }
      return v;
    }
    return undefined;
  }

  // Latency from a publisher's `sent_at` stamp to this node, for the broker benchmark. With `watch`
  // (a node id) it also listens to that node's input, after the node's own handler has run, so a
  // node that sends only on changes (fleet-health) is measured without a second wire (and the copy
  // of each message Node-RED makes for it).
  const latencies = new Map();
  function Latency(config) {
    RED.nodes.createNode(this, config);
    // `seen` (the overload run): deliveries of each `bench_seq`, and each sample's arrival time.
    const state = { samples: [], count: 0, first: 0, last: 0, seen: null, arrivals: [], unnumbered: 0 };
    latencies.set(this.id, state);
    const observe = (msg) => {
      const sent = sentAt(msg.payload);
      const now = Date.now();
      if (typeof sent === 'number') {
        state.samples.push(now - sent);
        state.count++;
        if (!state.first) state.first = now;
        state.last = now;
        if (state.seen) {
          state.arrivals.push(now);
          const seq = msg.payload && msg.payload.bench_seq;
          if (Number.isInteger(seq) && seq >= 0 && seq < state.seen.length) { if (state.seen[seq] < 255) state.seen[seq]++; } else state.unnumbered++;
        }
      }
    };
    this.on('input', (msg, send, done) => { observe(msg); done(); });
    if (config.watch) {
      const hook = () => {
        const n = RED.nodes.getNode(config.watch);
        if (n) n.on('input', observe); else setTimeout(hook, 50);
      };
      setImmediate(hook);
    }
    this.on('close', () => latencies.delete(this.id));
  }
  RED.nodes.registerType('bench-latency', Latency);

  // The alerts a node sent (name, status, when), for the overload run's PipelineOverloaded.
  const alertLogs = new Map();
  function Alerts(config) {
    RED.nodes.createNode(this, config);
    const log = [];
    alertLogs.set(this.id, log);
    this.on('input', (msg, send, done) => {
      const a = msg.payload || {};
      log.push({ name: a.labels && a.labels.alertname, status: a.status, at: Date.now() });
      done();
    });
    this.on('close', () => alertLogs.delete(this.id));
  }
  RED.nodes.registerType('bench-alerts', Alerts);
  if (RED.httpAdmin) {
    RED.httpAdmin.get('/bench-latency/:id', (req, res) => {
      const s = latencies.get(req.params.id);
      if (!s) return res.status(404).end();
      const sorted = s.samples.slice().sort((a, b) => a - b);
      const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);
      let tracked = null;
      if (s.seen) {
        let distinct = 0;
        let duplicates = 0;
        for (const n of s.seen) { if (n > 0) { distinct++; duplicates += n - 1; } }
        // p99 of the latencies of the messages that arrived in each half second.
        const windows = [];
        for (let i = 0; i < s.arrivals.length;) {
          const start = s.arrivals[i] - (s.arrivals[i] % 500);
          const lat = [];
          for (; i < s.arrivals.length && s.arrivals[i] < start + 500; i++) lat.push(s.samples[i]);
          lat.sort((a, b) => a - b);
          windows.push({ start, count: lat.length, p99: lat[Math.min(lat.length - 1, Math.floor(0.99 * lat.length))] });
        }
        tracked = { distinct, duplicates, unnumbered: s.unnumbered, windows };
      }
      res.json({
        count: s.count, first: s.first, last: s.last, p50: q(0.5), p99: q(0.99), max: sorted.length ? sorted[sorted.length - 1] : null,
        loopP99: loop.count ? loop.percentile(99) / 1e6 : null, loopMax: loop.count ? loop.max / 1e6 : null,
        gcCount: gc.count, gcTotalMs: gc.totalMs, gcMaxMs: gc.maxMs, tracked,
      });
    });
    RED.httpAdmin.get('/bench-alerts/:id', (req, res) => {
      const log = alertLogs.get(req.params.id);
      if (!log) return res.status(404).end();
      res.json(log);
    });
    RED.httpAdmin.post('/bench-latency/:id/reset', (req, res) => {
      const s = latencies.get(req.params.id);
      const track = Number(req.query.track);
      if (s) {
        s.samples = []; s.count = 0; s.first = 0; s.last = 0; s.arrivals = []; s.unnumbered = 0;
        s.seen = Number.isInteger(track) && track > 0 && track <= 50_000_000 ? new Uint8Array(track) : null;
      }
      loop.reset();
      gc.count = 0; gc.totalMs = 0; gc.maxMs = 0;
      res.json({ ok: true });
    });
  }
};

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
};

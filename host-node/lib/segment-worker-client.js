// The ledger's side of its segment worker (segment-worker.js): the thread, and call(op, args)
// -> Promise of the worker's answer. A worker that errors, exits or leaves a call unanswered for
// WORKER_CALL_MS counts as dead from then on (`dead`: the error): its calls reject, and the
// ledger replaces it (ledger-store.js restartWorker), so a checkpoint, and so a close, never
// waits forever. Messages: {id, op, args} out, {id, result} or {id, error: {message, code}} back.
'use strict';
const { Worker } = require('node:worker_threads');

const WORKER_CALL_MS = Number(process.env.QG_LEDGER_WORKER_CALL_MS) || 120000;

// file: the worker's script. Returns { thread, dead, call(op, args) } (and its call table).
function startSegmentWorker(file) {
  const thread = new Worker(file);
  thread.unref();
  const w = { thread, calls: new Map(), next: 1, dead: null };
  thread.on('message', (m) => {
    const call = w.calls.get(m.id);
    if (!call) return;
    w.calls.delete(m.id);
    if (m.error) call.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else call.resolve(m.result);
  });
  const fail = (err) => {
    if (w.dead) return;
    w.dead = err;
    for (const call of w.calls.values()) call.reject(err);
    w.calls.clear();
  };
  thread.on('error', fail);
  thread.on('exit', (code) => fail(new Error(`segment worker exited (${code})`)));
  w.call = (op, args) => {
    if (w.dead) return Promise.reject(w.dead);
    const id = w.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        w.calls.delete(id);
        const err = new Error(`segment worker did not answer "${op}" within ${WORKER_CALL_MS} ms`);
        fail(err);
        reject(err);
      }, WORKER_CALL_MS);
      timer.unref();
      w.calls.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      thread.postMessage({ id, op, args });
    });
  };
  return w;
}

module.exports = { startSegmentWorker };

// Delivers rendered alerts to their webhooks off the request path: a bounded queue (the oldest
// message is dropped, and counted, when it is full), a few concurrent sends but one per target (a
// slow or dead webhook never holds up the others), retries with
// exponential backoff on network errors, 408, 429 and 5xx (honouring Retry-After), then a failure
// that is counted and logged. A webhook URL is a secret: logs name the target, never the URL, and
// every error text goes through the redactor.
'use strict';
const undici = require('undici');

// One POST with undici; resolves {status, retryAfter} (the body is drained), rejects on network
// errors and timeouts. timeoutMs bounds the headers and the body each.
async function undiciPost(url, { method, headers, body, timeoutMs }) {
  const res = await undici.request(url, { method, headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, maxRedirections: 0 });
  await res.body.dump().catch(() => {});
  const ra = res.headers['retry-after'];
  return { status: res.statusCode, retryAfter: Array.isArray(ra) ? ra[0] : ra };
}

// Retry-After in ms (delta seconds or an HTTP date), or null.
function retryAfterMs(value, now) {
  if (value === undefined || value === null || value === '') return null;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - now) : null;
}

class AlertDelivery {
  // http: (url, {method, headers, body, timeoutMs}) -> {status, retryAfter} (tests inject one).
  // metrics: {sent, failed, dropped} prom-client counters labelled {target, event}, and queued
  // (a gauge); any may be absent. Delays in ms.
  constructor({ log, redactor, metrics = {}, http = undiciPost, now = Date.now, maxQueue = 500, maxAttempts = 5, baseDelayMs = 1000,
    maxDelayMs = 60000, timeoutMs = 10000, concurrency = 4 } = {}) {
    Object.assign(this, { log, redactor, metrics, http, now, maxQueue, maxAttempts, baseDelayMs, maxDelayMs, timeoutMs, concurrency });
    this.queue = [];
    this.active = 0;         // sends in flight
    this.sending = new Set();  // targets with a send in flight (one each)
    this.timers = new Map();  // retry timer -> its message
    this.idleWaiters = [];
    this.counts = { sent: 0, failed: 0, dropped: 0 };
    this.closed = false;
  }

  // Queues one message: {target (alerts[] entry), event, request: {method, headers, body}}.
  enqueue(message) {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      const dropped = this.queue.shift();
      this.count('dropped', dropped);
      this.log?.warn({ target: dropped.target.name, event: dropped.event }, 'alert queue full: the oldest alert was dropped');
    }
    this.queue.push({ ...message, attempt: 0 });
    this.gauge();
    this.pump();
  }

  // Waiting to be sent: queued, and between retries.
  gauge() {
    this.metrics.queued?.set(this.queue.length + this.timers.size);
  }

  count(kind, m) {
    this.counts[kind]++;
    this.metrics[kind]?.inc({ target: m.target.name, event: m.event });
  }

  // Starts sends up to `concurrency`, the oldest message of each target not already sending.
  pump() {
    for (let i = 0; i < this.queue.length && this.active < this.concurrency && !this.closed;) {
      const m = this.queue[i];
      if (this.sending.has(m.target.name)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.active++;
      this.sending.add(m.target.name);
      this.attempt(m).finally(() => {
        this.active--;
        this.sending.delete(m.target.name);
        this.gauge();
        this.pump();
        this.settleIdle();
      });
    }
    this.gauge();
  }

  async attempt(m) {
    m.attempt++;
    let retry = false;
    let wait = null;
    let why;
    try {
      const r = await this.http(m.target.url, { ...m.request, timeoutMs: this.timeoutMs });
      if (r.status >= 200 && r.status < 300) {
        this.count('sent', m);
        this.log?.info({ target: m.target.name, event: m.event, attempt: m.attempt }, 'alert sent');
        return;
      }
      why = `HTTP ${r.status}`;
      retry = r.status === 408 || r.status === 429 || r.status >= 500;
      wait = retryAfterMs(r.retryAfter, this.now());
    } catch (err) {
      why = this.redactor ? this.redactor.text(err.message || String(err)) : 'network error';
      retry = true;
    }
    if (retry && m.attempt < this.maxAttempts && !this.closed) {
      const backoff = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (m.attempt - 1));
      const delay = Math.min(this.maxDelayMs, Math.max(backoff, wait ?? 0));
      this.log?.warn({ target: m.target.name, event: m.event, attempt: m.attempt, retry_in_ms: delay, error: why }, 'alert not delivered; retrying');
      // A pending retry holds no send slot (drain() still waits for it, through `timers`).
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.closed) return this.settleIdle();
        this.queue.unshift(m);
        this.pump();
      }, delay);
      timer.unref?.();
      this.timers.set(timer, m);
      return;
    }
    this.count('failed', m);
    this.log?.error({ target: m.target.name, event: m.event, attempts: m.attempt, error: why }, 'alert delivery failed');
    m.onFailed?.();
  }

  idle() {
    return this.active === 0 && this.queue.length === 0 && this.timers.size === 0;
  }

  settleIdle() {
    if (this.idle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  // Resolves once nothing is queued, sending or waiting to retry (or after timeoutMs).
  drain(timeoutMs = 15000) {
    if (this.idle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);  // ref'd: a caller awaiting drain() keeps the process up for the retries
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  // Stops retrying; what is queued is given up (counted as dropped).
  close() {
    this.closed = true;
    for (const [t, m] of this.timers) {
      clearTimeout(t);
      this.count('dropped', m);
    }
    this.timers.clear();
    this.gauge();
    for (const m of this.queue.splice(0)) this.count('dropped', m);
    this.settleIdle();
  }
}

module.exports = { AlertDelivery, undiciPost, retryAfterMs };

// The instance's durable list of usage events not yet confirmed in PostgreSQL (outbox.jsonl).
// Invariants: file order is append order; `pending` mirrors the unshipped tail of the file; an
// event leaves `pending` only after the transaction that inserted it committed. A crash at any
// point leaves every unshipped event in the file; re-shipping one that did commit is harmless
// because the insert is ON CONFLICT (id) DO NOTHING.
'use strict';
const fs = require('node:fs');
const { writeAtomic } = require('../atomic-write');
const { JournalWriter } = require('../journal-writer');

// Shipped lines still in the file before it is rewritten without them (bounded file growth under
// sustained load, where the outbox is never empty at the end of a shipment).
const REWRITE_AFTER_SHIPPED = 20000;

class Outbox {
  constructor(file, { fsync = false, log = null } = {}) {
    Object.assign(this, { file, log });
    this.pending = [];
    this.shippedInFile = 0;
    this.fd = null;
    this.writer = new JournalWriter({ fsync, onError: (err) => log?.error({ file, err: err.message }, 'outbox write failed; responses wait for it and fail') });
    this.pendingSince = Date.now();  // wall-clock ms when the outbox last went from empty to not
  }

  // Reads what a previous run left unshipped (a torn last line from a crash is skipped: that
  // event's response never completed, and the local journal has the durable copy if it did).
  open() {
    const seen = new Set();
    if (fs.existsSync(this.file)) {
      const lines = fs.readFileSync(this.file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!line.trim()) return;
        try {
          const e = JSON.parse(line);
          if (e && typeof e.id === 'string' && !seen.has(e.id)) {
            seen.add(e.id);
            this.pending.push(e);
          }
        } catch {
          this.log?.warn({ file: this.file, line: i + 1 }, 'skipping torn outbox line');
        }
      });
    }
    this.rewrite();
    return this.pending.length;
  }

  // Queued for the file (group commit: journal-writer.js); durable once durable() resolves.
  append(event) {
    if (this.pending.length === 0) this.pendingSince = Date.now();
    this.writer.append(`${JSON.stringify(event)}\n`);
    this.pending.push(event);
  }

  durable(now = false) {
    return this.writer.durable(now);
  }

  // The first n pending events are committed in PostgreSQL.
  shipped(n) {
    this.writer.flush();  // the file must hold what is queued before it is cut or rewritten
    this.pending.splice(0, n);
    this.shippedInFile += n;
    if (this.pending.length === 0) {
      fs.ftruncateSync(this.fd, 0);
      this.shippedInFile = 0;
    } else if (this.shippedInFile >= REWRITE_AFTER_SHIPPED) {
      this.rewrite();
    }
  }

  // Replaces the file with exactly the pending events (atomic), and reopens it for appending.
  rewrite() {
    if (this.fd !== null) {
      this.writer.flush();
      fs.closeSync(this.fd);
    }
    writeAtomic(this.file, this.pending.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.fd = fs.openSync(this.file, 'a');
    this.writer.setFd(this.fd);
    this.shippedInFile = 0;
  }

  close() {
    if (this.fd === null) return;
    this.writer.flush();
    fs.closeSync(this.fd);
    this.fd = null;
    this.writer.setFd(null);
  }
}

module.exports = { Outbox };

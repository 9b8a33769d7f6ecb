// A throwaway PostgreSQL for tests and benchmarks: Debian's initdb/pg_ctl on a temp directory and
// a free loopback port, trust auth, no Unix socket outside the temp dir. As root (CI) the server
// runs as the `postgres` user (initdb refuses root). stop()/start() keep the data directory, so a
// test can take the database away and bring it back; destroy() stops it and removes everything.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function pgBinDir() {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'pg_ctl'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions.length) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (Debian: apt-get install postgresql-15; tools/setup.sh does it)');
  return path.join(base, versions[0], 'bin');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

class PgServer {
  // fsync: false suits tests (nothing here must survive a power cut); benchmarks turn it on.
  constructor({ fsync = false } = {}) {
    this.fsync = fsync;
    this.bin = pgBinDir();
    this.asRoot = process.getuid && process.getuid() === 0;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qg-pg-'));
    this.data = path.join(this.dir, 'data');
    this.running = false;
  }

  run(tool, args) {
    const cmd = path.join(this.bin, tool);
    if (this.asRoot) return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
    return execFileSync(cmd, args, { stdio: 'pipe' });
  }

  async init() {
    if (this.asRoot) {
      fs.chmodSync(this.dir, 0o755);
      execFileSync('chown', ['postgres', this.dir]);
    }
    this.port = await freePort();
    this.run('initdb', ['-D', this.data, '-A', 'trust', '-U', 'qg', '--no-sync']);
    this.url = `postgres://qg@127.0.0.1:${this.port}/postgres`;
    this.start();
    return this;
  }

  start() {
    this.run('pg_ctl', ['-D', this.data, '-l', path.join(this.dir, 'log'), '-w', '-t', '30', '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=${this.fsync ? 'on' : 'off'} -c max_connections=200`, 'start']);
    this.running = true;
  }

  // mode: fast (clients are disconnected) or immediate (like a crash).
  stop(mode = 'fast') {
    if (!this.running) return;
    this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', 'stop']);
    this.running = false;
  }

  // A new empty database on this server; returns its URL (tests that must not see each other's rows).
  async freshDatabaseUrl(prefix = 'test') {
    const pg = require('pg');
    this.databases = (this.databases || 0) + 1;
    const name = `${prefix}_${this.databases}`;
    const admin = new pg.Client(this.url);
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return this.url.replace(/\/postgres$/, `/${name}`);
  }

  destroy() {
    try {
      this.stop('immediate');
    } catch { /* already gone */ }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function startPostgres(options) {
  return new PgServer(options).init();
}

module.exports = { startPostgres, PgServer, pgBinDir };

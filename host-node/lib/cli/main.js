// The quotagate command line (commander). Every number it prints comes from the wasm engine.
// Bad arguments and bad files print one line on stderr and exit with code 2.
'use strict';
const fs = require('node:fs');
const { Command, CommanderError } = require('commander');
const { loadCore } = require('../core');
const { engineFromFiles, parseIso, InputError } = require('../engine-session');
const { statusTable, routeTable, simulationTable } = require('./format');
const pkg = require('../../../package.json');

function readStdin() {
  try {
    return fs.readFileSync(0, 'utf8');
  } catch (err) {
    if (err.code === 'EAGAIN' || err.code === 'EOF') return '';
    throw err;
  }
}

async function nowFrom(option) {
  if (option === undefined) return Date.now();
  const core = await loadCore();
  const ms = parseIso(core, option);
  if (ms === null) throw new InputError(`--now: expected an ISO-8601 timestamp such as 2026-11-28T12:00:00Z, got "${option}"`);
  return ms;
}

function readFileOrThrow(file, what) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read ${what} (${err.code || err.message})`);
  }
}

function print(text) {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function buildProgram() {
  const program = new Command();
  program
    .name('quotagate')
    .description('Quota-aware LLM gateway: use it or lose it.')
    .version(pkg.version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('headers')
    .description('Parse a raw provider response from stdin and print the rate-limit snapshot as JSON')
    .option('--now <iso>', 'the instant the response was received (default: now)')
    .option('--provider <id>', 'label the snapshot with a provider id')
    .addHelpText('after', '\nExample:\n  printf "HTTP/1.1 429 Too Many Requests\\nretry-after: 20\\n" | quotagate headers --now 2026-11-28T12:00:00Z')
    .action(async (opts) => {
      const core = await loadCore();
      const now = await nowFrom(opts.now);
      const snapshot = JSON.parse(core.parseResponseJson(readStdin(), now));
      if (opts.provider) snapshot.provider = opts.provider;
      print(JSON.stringify(snapshot, null, 2));
    });

  program
    .command('status')
    .description('Print every package\'s quota status (the /api/quotas document with --json): of a running gateway (--url) or of files')
    .option('--url <gateway>', 'a running gateway, e.g. http://127.0.0.1:8090 (admin token from $QUOTAGATE_ADMIN_TOKEN)')
    .option('--catalog <file>', 'packages/catalog.v1.json (without --url)')
    .option('--ledger <file>', 'usage ledger as JSONL: {ts, provider_id, model, status, cost, tokens_in, tokens_out}')
    .option('--now <iso>', 'evaluate at this instant (default: now)')
    .option('--json', 'print JSON instead of a table')
    .option('--watch', 'refresh the table every few seconds, most urgent first (re-reads the files; Ctrl-C to stop)')
    .option('--interval <s>', 'seconds between --watch refreshes (1..3600, default 5)')
    .addHelpText('after', '\nExample:\n  quotagate status --catalog docs/examples/metadata/packages/catalog.v1.json --now 2026-11-28T12:00:00Z\n' +
      '\nExample (a table every 10 s until Ctrl-C):\n  quotagate status --catalog catalog.v1.json --ledger ledger.jsonl --watch --interval 10\n' +
      '\nExample (a running gateway):\n  QUOTAGATE_ADMIN_TOKEN=... quotagate status --url http://127.0.0.1:8090 --watch')
    .action(async (opts) => {
      if (opts.interval !== undefined && !opts.watch) throw new InputError('--interval needs --watch');
      if (opts.watch && (opts.now !== undefined || opts.json)) throw new InputError('--watch shows the current time as a table: drop --now and --json');
      if (!opts.url === !opts.catalog) throw new InputError('status: give either --url (a running gateway) or --catalog (files)');
      if (opts.url && (opts.ledger || opts.now !== undefined)) throw new InputError('--url reads the gateway\'s own ledger at its current time: drop --ledger and --now');
      const token = process.env.QUOTAGATE_ADMIN_TOKEN || '';
      if (opts.watch) return require('./status-watch').watchStatus({ ...opts, token });
      const now = await nowFrom(opts.now);
      const doc = await require('./status-watch').quotasOf(opts.url ? { url: opts.url, token } : { catalog: opts.catalog, ledger: opts.ledger }, now);
      print(opts.json ? JSON.stringify(doc, null, 2) : statusTable(doc));
    });

  program
    .command('route')
    .description('Show which package a request would go to, with every scoring term')
    .requiredOption('--catalog <file>', 'packages/catalog.v1.json')
    .option('--ledger <file>', 'usage ledger as JSONL')
    .option('--now <iso>', 'decide at this instant (default: now)')
    .option('--model <name>', 'requested model, or auto', 'auto')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExample:\n  quotagate route --catalog catalog.v1.json --model gemini-2.5-pro --json')
    .action(async (opts) => {
      const now = await nowFrom(opts.now);
      const { engine } = await engineFromFiles({ catalog: opts.catalog, ledger: opts.ledger });
      const decision = JSON.parse(engine.routeJson(opts.model, now, '*'));
      engine.delete();
      print(opts.json ? JSON.stringify(decision, null, 2) : routeTable(decision));
      if (!decision.ok) process.exitCode = 1;
    });

  program
    .command('simulate')
    .description('Run the what-if simulator (the same engine as the dashboard) on a scenario file')
    .argument('<scenario>', 'scenario JSON (docs/simulator.md)')
    .option('--state <file>', 'engine state: a saved GET /api/state response (default: the template catalog, no usage)')
    .option('--now <iso>', 'state time when no --state is given (default: now)')
    .option('--json', 'print the full JSON result')
    .addHelpText('after', '\nExample:\n  curl -s localhost:8090/api/state > state.json\n  quotagate simulate scenario.json --state state.json')
    .action(async (scenarioFile, opts) => {
      const core = await loadCore();
      const scenarioText = readFileOrThrow(scenarioFile, 'scenario');
      try {
        JSON.parse(scenarioText);
      } catch (err) {
        throw new InputError(`${scenarioFile}: invalid JSON (${err.message})`);
      }
      let stateText;
      if (opts.state) {
        let doc;
        try {
          doc = JSON.parse(readFileOrThrow(opts.state, 'state'));
        } catch (err) {
          throw err instanceof InputError ? err : new InputError(`${opts.state}: invalid JSON (${err.message})`);
        }
        stateText = JSON.stringify(doc && doc.state ? doc.state : doc);
      } else {
        const template = require('node:path').resolve(__dirname, '..', '..', '..', 'docs', 'examples', 'metadata', 'packages', 'catalog.v1.json');
        const { engine } = await engineFromFiles({ catalog: template });
        stateText = engine.stateJson(await nowFrom(opts.now));
        engine.delete();
      }
      const result = JSON.parse(core.simulateJson(stateText, scenarioText));
      if (result.error) throw new InputError(result.error);
      if (opts.json) return print(JSON.stringify(result));
      print(simulationTable(result));
    });

  program
    .command('poll')
    .description('Poll the balance APIs of api_poll credit packages now and print what changed')
    .requiredOption('--once', 'poll once and exit (the gateway polls on its own schedule)')
    .option('--config <file>', 'config.yaml (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .addHelpText('after', '\nExample:\n  DEEPSEEK_API_KEY=sk-... quotagate poll --once --config ~/.config/quotagate/config.yaml')
    .action(async (opts) => {
      await require('./poll-command').pollOnce(opts);
    });

  program
    .command('init')
    .description('Create the config folder: config.yaml, a .env template (mode 600) and the catalog template')
    .option('--dir <dir>', 'where (default: $XDG_CONFIG_HOME/quotagate, else ~/.config/quotagate)')
    .option('--force', 'replace existing files, after a timestamped backup of each')
    .addHelpText('after', '\nExamples:\n  quotagate init\n  quotagate init --dir ./qg-config --force')
    .action((opts) => {
      require('./init-command').init({ dir: opts.dir, force: Boolean(opts.force) });
    });

  const service = program.command('service').description('Install or remove a systemd user unit for this install');
  service
    .command('install')
    .description('Write ~/.config/systemd/user/quotagate.service and print the systemctl commands')
    .option('--config <file>', 'config.yaml the service runs with (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .option('--force', 'replace a conflicting unit, after a backup')
    .addHelpText('after', '\nExample:\n  quotagate service install && systemctl --user enable --now quotagate')
    .action(async (opts) => {
      await require('./service-command').install({ config: opts.config, force: Boolean(opts.force) });
    });
  service
    .command('uninstall')
    .description('Remove the systemd user unit')
    .addHelpText('after', '\nExample:\n  quotagate service uninstall')
    .action(() => {
      require('./service-command').uninstall({});
    });

  program
    .command('doctor')
    .description('Check config, catalog, provider keys (never printed), port, ledger directory and the wasm engine')
    .option('--config <file>', 'config.yaml (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .addHelpText('after', '\nExample:\n  quotagate doctor --config ~/.config/quotagate/config.yaml')
    .action(async (opts) => {
      const problems = await require('./doctor-command').doctor({ config: opts.config });
      if (problems.length) process.exitCode = 1;
    });

  const accounts = program.command('accounts').description('Accounts of auth: client providers (callers\' own logins)');
  accounts
    .command('fingerprint')
    .description('Read one credential from stdin and print its account fingerprint (to name it in config)')
    .option('--config <file>', 'config.yaml (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .option('--ledger-dir <dir>', 'the ledger directory whose account-secret to use (default: ledger.dir of the config)')
    .option('--demo', 'the demo gateway\'s data dir')
    .addHelpText('after', '\nExamples:\n  printf %s "$CLAUDE_CODE_OAUTH_TOKEN" | quotagate accounts fingerprint\n' +
      '  jq -r .tokens.access_token ~/.codex/auth.json | quotagate accounts fingerprint --config ~/.config/quotagate/config.yaml')
    .action(async (opts) => {
      print(await require('./accounts-command').fingerprintCommand(opts, readStdin()));
    });

  const db = program.command('db').description('The shared PostgreSQL ledger (ledger.backend: postgres)');
  db
    .command('migrate')
    .description('Apply the schema migrations this version needs (the gateway also applies them on start)')
    .option('--config <file>', 'config.yaml (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .addHelpText('after', '\nExample:\n  QG_PG_URL=postgres://qg@db:5432/quotagate quotagate db migrate --config ~/.config/quotagate/config.yaml')
    .action(async (opts) => {
      await require('./db-command').dbMigrate(opts);
    });
  db
    .command('status')
    .description('Schema version, pending migrations, events per instance and the poller leader')
    .option('--config <file>', 'config.yaml (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      await require('./db-command').dbStatus(opts);
    });

  const alerts = program.command('alerts').description('Webhook alerts (config `alerts`)');
  alerts
    .command('test')
    .description('Send one sample alert to every configured target and report what each answered')
    .option('--config <file>', 'config.yaml (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .option('--timeout <s>', 'seconds to wait for each target (1..120)', '10')
    .addHelpText('after', '\nExample:\n  SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... quotagate alerts test --config ~/.config/quotagate/config.yaml')
    .action(async (opts) => {
      const failed = await require('./alerts-command').alertsTest(opts);
      if (failed) process.exitCode = 1;
    });

  program
    .command('serve')
    .description('Run the gateway (demo mode with simulated providers when no provider keys are configured)')
    .option('--config <file>', 'config.yaml (default: $XDG_CONFIG_HOME/quotagate/config.yaml)')
    .option('--demo', 'force demo mode')
    .option('--host <host>', 'bind address (default 127.0.0.1)')
    .option('--port <port>', 'port (default 8090, or $PORT)')
    .option('--data-dir <dir>', 'where demo mode keeps its catalog copy and ledger')
    .addHelpText('after', '\nExamples:\n  quotagate serve --demo\n  quotagate serve --config ~/.config/quotagate/config.yaml --port 8090')
    .action(async (opts) => {
      await require('./serve-command').serve(opts);
    });

  return program;
}

async function main(argv) {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof InputError) {
      process.stderr.write(`quotagate: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`quotagate: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  }
}

module.exports = { main, buildProgram };

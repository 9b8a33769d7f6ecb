// The config file a command needs: --config, else $QUOTAGATE_CONFIG, else the default
// ($XDG_CONFIG_HOME/quotagate/config.yaml), loaded and validated. Shared by the commands that cannot
// run without one (db, alerts); problems are InputError naming the file.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadConfig, defaultConfigDir, ConfigError } = require('../config');
const { InputError } = require('../ledger-jsonl');

// opts: {config}; returns {file, config} (normalised).
function requiredConfig(opts) {
  const file = opts.config || process.env.QUOTAGATE_CONFIG || path.join(defaultConfigDir(), 'config.yaml');
  if (!fs.existsSync(file)) throw new InputError(`${file}: no config file (pass --config FILE)`);
  try {
    return { file, config: loadConfig(file) };
  } catch (err) {
    if (err instanceof ConfigError) throw new InputError(err.message);
    throw err;
  }
}

module.exports = { requiredConfig };

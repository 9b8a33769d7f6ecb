// The Node flags the gateway runs with, everywhere it is started: `npm start`, the `quotagate`
// shebang, the systemd unit (quotagate service install) and the benchmarks (which measure what
// ships). Keep host-node/bin/quotagate's shebang and package.json's start script in step.
//
// --max-semi-space-size=4 (MB): V8 grows the young generation to 3 x 16 MB under a steady request
// rate and keeps it. A proxy's garbage is short-lived and small, so 4 MB semi-spaces scavenge it as
// well; at c=32 the CPU per request stayed within run-to-run noise, while RSS after the load fell
// (docs/performance.md has the soak figures).
'use strict';

const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=4'];

module.exports = { GATEWAY_NODE_FLAGS };

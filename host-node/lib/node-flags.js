// The Node flags and environment the gateway runs with, everywhere it is started: `npm start`, the
// `quotagate` shebang, the systemd unit (quotagate service install) and the benchmarks (which
// measure what ships). Keep host-node/bin/quotagate's shebang and package.json's start script in
// step.
//
// --max-semi-space-size=4 (MB): V8 grows the young generation to 3 x 16 MB under a steady request
// rate and keeps it. A proxy's garbage is short-lived and small, so 4 MB semi-spaces scavenge it as
// well; at c=32 the CPU per request stayed within run-to-run noise, while RSS after the load fell
// (docs/performance.md has the soak figures).
//
// MALLOC_MMAP_THRESHOLD_=131072 (bytes): glibc serves allocations of 128 KB and more with their own
// mmap, returned to the system on free. By default it raises that threshold each time such a block
// is freed, after which the ledger's checkpoint copies (about 1 MB each) come from the main heap
// and leave it fragmented; fixing the threshold kept that heap at 6 MB instead of 17-24 MB after
// 300k requests (docs/performance.md).
'use strict';

const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=4'];
const GATEWAY_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };

module.exports = { GATEWAY_NODE_FLAGS, GATEWAY_ENV };

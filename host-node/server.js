// Entry point used by `npm start` and the Playwright web server: the same as `quotagate serve`.
'use strict';
require('./lib/cli/main').main([process.argv[0], __filename, 'serve', ...process.argv.slice(2)]);

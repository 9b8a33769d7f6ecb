// Playwright: Debian's Chromium (never a downloaded browser) against a fixture gateway on :8123.
module.exports = require('@playwright/test').defineConfig({
  testDir: 'e2e',
  workers: 1,
  reporter: process.env.CI ? 'dot' : 'list',
  outputDir: 'test-results',
  use: {
    baseURL: 'http://127.0.0.1:8123',
    headless: true,
    launchOptions: { executablePath: '/usr/bin/chromium', args: ['--disable-gpu', '--disable-quic'] },
  },
  webServer: {
    command: 'node e2e/serve-fixture.js',
    url: 'http://127.0.0.1:8123/health',
    env: { PORT: '8123' },
    reuseExistingServer: !process.env.CI,
    timeout: 60000,
  },
});

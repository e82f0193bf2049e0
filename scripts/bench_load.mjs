// Cold first load to a usable sign-in form, in headless Chromium on localhost: median of five
// loads, each in a fresh browser context (empty cache, no service worker), beside a plain HTML
// page holding the same form served from loopback by Node. Prints BENCH lines for BENCHMARKS.md.
//
//   MDT_SERVER_BIN=target/release/mdt-server MDT_DIST=dist node scripts/bench_load.mjs
// (scripts/bench.sh runs it after building the app.)
import http from 'node:http';
import { launchBrowser, startServer } from '../tests/e2e/helpers.mjs';

const RUNS = 5;

// Records when the email field of the sign-in form is in the page (the app renders the form and
// attaches its handlers in the same step), in milliseconds from the start of navigation.
const WATCH_FOR_FORM = `
  new MutationObserver((_, observer) => {
    if (document.querySelector('input[type=email]')) {
      window.__formReadyAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
`;

const PLAIN_PAGE = `<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in</title></head>
<body><main><h1>Sign in</h1><form method="post" action="/">
<label for="email">Email address</label><input id="email" name="email" type="email" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></main></body></html>`;

async function coldLoads(browser, url) {
  const times = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests = [];
    page.on('requestfinished', (request) => requests.push(request));
    await page.addInitScript(WATCH_FOR_FORM);
    await page.goto(url);
    await page.locator('input[type=email]').waitFor();
    const at = await page.evaluate(() => window.__formReadyAt ?? performance.now());
    times.push(at);
    // What went over the wire (bodies as sent, compressed or not), for the last load.
    bytes = 0;
    for (const request of requests) bytes += (await request.sizes()).responseBodySize;
    await context.close();
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(RUNS / 2)], min: times[0], max: times[RUNS - 1], bytes };
}

const plain = http.createServer((_, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(PLAIN_PAGE);
});
await new Promise((resolve) => plain.listen(0, '127.0.0.1', resolve));
const server = await startServer([]);
const browser = await launchBrowser();
try {
  // One load first so that the operating system's file cache is warm for both.
  await coldLoads(browser, `${server.baseUrl}/`);
  const app = await coldLoads(browser, `${server.baseUrl}/`);
  const baseline = await coldLoads(browser, `http://127.0.0.1:${plain.address().port}/`);
  const fmt = (t) =>
    `median ${t.median.toFixed(0)} ms (min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)}), ${(t.bytes / 1000).toFixed(0)} KB over the wire`;
  console.log(`BENCH cold-load app to a usable sign-in form: ${fmt(app)} over ${RUNS} fresh contexts`);
  console.log(`BENCH cold-load plain HTML page with the same form: ${fmt(baseline)}`);
  console.log(`BENCH cold-load ratio app / plain page: ${(app.median / baseline.median).toFixed(1)}`);
} finally {
  await browser.close();
  await server.stop();
  plain.close();
}

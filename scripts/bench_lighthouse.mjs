// Lighthouse (pinned, installed by scripts/bench_phone_region.sh into .tools/lighthouse) on the
// app's sign-in page and its signed-in home page, mobile (Lighthouse's default: a simulated
// mid-range phone on slow 4G) and desktop (--preset=desktop), beside a plain static page with
// the same sign-in markup and the same NHS stylesheets served compressed from loopback with the
// app's security headers. Median of the runs for each of the performance score, LCP, TBT and
// the best-practices score. Debian's Chromium (CHROME_PATH), a fresh profile each run
// (chrome-launcher's temporary one); nothing leaves loopback (both pages send the app's Content
// Security Policy, and a run that loaded anything from elsewhere stops the benchmark).
//
// Signed in: the session cookie goes with every request (--extra-headers); Lighthouse clears the
// origin's storage before a run, so a cookie set in the browser would not survive, and the app
// then opens a fresh offline copy and syncs, as a new device does.
//
//   node scripts/bench_lighthouse.mjs --app URL --email E --password P [--runs 3] [--dist dist]
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawn } from 'node:child_process';
import { args, signIn, median, fmtMs, saveResult } from './bench_common.mjs';

const a = args();
if (!a.app || !a.email || !a.password) {
  console.error('usage: node scripts/bench_lighthouse.mjs --app URL --email E --password P [--runs 3] [--dist dist]');
  process.exit(2);
}
const RUNS = Number(a.runs ?? 3);
const DIST = a.dist ?? 'dist';
const LIGHTHOUSE = a.lighthouse ?? path.resolve('.tools/lighthouse/node_modules/.bin/lighthouse');
const CHROME_FLAGS = '--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run';
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

/** The app's stylesheets as the built page links them (hashed names). */
function stylesheets() {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  return [...html.matchAll(/<link rel="stylesheet" href="(\/[^"]+\.css)"/g)].map((m) => m[1]);
}

/**
 * The sign-in page as the app first paints it (index.html's static first page: header, heading,
 * form), as plain HTML with no script: the markup is read from the built page itself.
 */
function plainPage(sheets) {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const shell = html.match(/<body[^>]*>([\s\S]*?)<noscript>/)?.[1];
  if (!shell || !shell.includes('id="mdt-shell"')) throw new Error(`${DIST}/index.html has no static first page (#mdt-shell) to copy`);
  return `<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="MDT coordination: agendas, protected time, patient briefs and actions for multidisciplinary teams">
<title>MDT coordination</title>
${sheets.map((s) => `<link rel="stylesheet" href="${s}">`).join('\n')}
</head>
<body class="js-enabled nhsuk-frontend-supported">
${shell.trim()}
</body>
</html>`;
}

/** Serves the plain page and the stylesheets from dist, brotli-compressed as the app serves them. */
async function startPlainServer() {
  const sheets = stylesheets();
  const page = zlib.brotliCompressSync(Buffer.from(plainPage(sheets)), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const br = (req.headers['accept-encoding'] ?? '').includes('br');
    // Every other address answers with the page, as the app's server does (its routes are the
    // app's; /favicon.ico too), so neither page logs a 404 the other does not.
    if (!sheets.includes(url.pathname)) {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-cache', vary: 'accept-encoding', ...SECURITY_HEADERS, ...(br ? { 'content-encoding': 'br' } : {}) });
      res.end(br ? page : zlib.brotliDecompressSync(page));
      return;
    }
    const file = path.join(DIST, url.pathname);
    const compressed = br && fs.existsSync(`${file}.br`);
    res.writeHead(200, {
      'content-type': 'text/css', 'cache-control': 'public, max-age=31536000, immutable', vary: 'accept-encoding', ...SECURITY_HEADERS,
      ...(compressed ? { 'content-encoding': 'br' } : {}),
    });
    res.end(fs.readFileSync(compressed ? `${file}.br` : file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

/** One Lighthouse run: { performance, lcp, tbt, bestPractices (out of 100), pulled, failedAudits }. */
async function lighthouse(url, { desktop, headersFile, work }) {
  const out = path.join(work, `lh-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const argv = [url, '--quiet', '--output=json', `--output-path=${out}`, '--only-categories=performance,best-practices', `--chrome-flags=${CHROME_FLAGS}`];
  if (desktop) argv.push('--preset=desktop');
  if (headersFile) argv.push(`--extra-headers=${headersFile}`);
  // Asynchronously: the plain page is served by this process meanwhile.
  const run = await new Promise((resolve, reject) => {
    const child = spawn(LIGHTHOUSE, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CHROME_PATH: process.env.CHROME_PATH ?? '/usr/bin/chromium' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stderr }));
  });
  if (run.status !== 0 || !fs.existsSync(out)) throw new Error(`lighthouse ${argv.join(' ')} failed (${run.status}): ${run.stderr.slice(-2000)}`);
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out, { force: true });
  if (report.runtimeError) throw new Error(`lighthouse on ${url}: ${report.runtimeError.code}: ${report.runtimeError.message}`);
  const requests = report.audits['network-requests']?.details?.items ?? [];
  const offLoopback = requests.filter((r) => !/^(https?:\/\/127\.0\.0\.1[:/]|data:|blob:)/.test(r.url) && r.statusCode > 0);
  if (offLoopback.length > 0) throw new Error(`lighthouse on ${url} loaded from outside loopback: ${offLoopback.map((r) => r.url).join(', ')}`);
  const score = (id) => Math.round((report.categories[id]?.score ?? NaN) * 100);
  return {
    version: report.lighthouseVersion,
    performance: score('performance'),
    bestPractices: score('best-practices'),
    lcp: report.audits['largest-contentful-paint'].numericValue,
    tbt: report.audits['total-blocking-time'].numericValue,
    pulled: requests.some((r) => r.url.includes('/api/sync/pull') && r.statusCode === 200),
    failedAudits: report.categories['best-practices'].auditRefs
      .filter((ref) => ref.weight > 0 && report.audits[ref.id].score !== null && report.audits[ref.id].score < 1)
      .map((ref) => ref.id),
  };
}

/**
 * One Lighthouse run, tried again (at most twice more) when Lighthouse itself fails to record
 * the page load (it sometimes reports NO_NAVSTART or NO_FCP under load): a figure is never made
 * up, and a page that fails three times in a row still stops the benchmark.
 */
async function lighthouseAgain(url, options) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lighthouse(url, options);
    } catch (e) {
      if (attempt >= 3 || !/NO_NAVSTART|NO_FCP|NO_LCP|Please run Lighthouse again/.test(String(e))) throw e;
      console.log(`  (Lighthouse could not record ${url} on attempt ${attempt}; trying again)`);
    }
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-lighthouse-'));
const plain = await startPlainServer();
try {
  const session = await signIn(a.app, a.email, a.password);
  const headersFile = path.join(work, 'headers.json');
  fs.writeFileSync(headersFile, JSON.stringify({ Cookie: session.cookie }));
  const appUrl = new URL('/', a.app).toString();
  const targets = [
    { name: 'app sign-in page', url: appUrl },
    { name: 'app signed-in home page', url: appUrl, headersFile, signedIn: true },
    { name: 'plain sign-in page (same markup and NHS CSS)', url: plain.url },
  ];
  for (const desktop of [false, true]) {
    const formFactor = desktop ? 'desktop' : 'mobile';
    for (const target of targets) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await lighthouseAgain(target.url, { desktop, headersFile: target.headersFile, work });
        if (target.signedIn && !r.pulled) throw new Error('the signed-in home page did not sync (no pull answered 200): is the server built from the same commit as the app in dist? (else the session cookie did not reach it)');
        runs.push(r);
      }
      const m = {
        performance: median(runs.map((r) => r.performance)),
        lcp: median(runs.map((r) => r.lcp)),
        tbt: median(runs.map((r) => r.tbt)),
        bestPractices: median(runs.map((r) => r.bestPractices)),
        runs: runs.map((r) => ({ performance: r.performance, lcp: Math.round(r.lcp), tbt: Math.round(r.tbt), bestPractices: r.bestPractices })),
        failedAudits: [...new Set(runs.flatMap((r) => r.failedAudits))],
      };
      console.log(
        `BENCH lighthouse ${runs[0].version} ${formFactor} ${target.name}: performance ${m.performance} (${runs.map((r) => r.performance).join(', ')}), ` +
          `LCP ${fmtMs(m.lcp)}, TBT ${fmtMs(m.tbt)}, best practices ${m.bestPractices}` +
          `${m.failedAudits.length ? ` (not passed: ${m.failedAudits.join(', ')})` : ''}; median of ${RUNS}`,
      );
      saveResult('lighthouse', { formFactor, page: target.name, version: runs[0].version, ...m });
    }
  }
} finally {
  plain.server.close();
  fs.rmSync(work, { recursive: true, force: true });
}

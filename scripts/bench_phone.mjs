// The app on a phone's connection, in Debian's headless Chromium (scripts/bench_phone_region.sh
// runs it): Chrome DevTools' slow-4G emulation (150 ms latency, 1.6 Mbit/s down, 750 kbit/s up)
// on every page, each run in a fresh browser context (empty cache and storage) with service
// workers blocked — the page's own requests are throttled but a service worker's are not, so
// the worker's copying of the app in the background would both skip the slow link and compete
// for the machine; without it every module a page needs comes over the slow link, as on a
// phone's first visit.
//
//   sync   Sign in as the person and time until the header says the device is up to date
//          ("Online · all changes saved · last synced …"), from the click on "Sign in" once the
//          app has taken over the page, and from opening the page when signing in as soon as the
//          static form shows; median of the runs, on each server given (the region; their team
//          alone).
//   pages  Signed in and up to date on the home page, the first opening of the next meeting,
//          the team's measures and its calendar (each in its own fresh context): requests and
//          time until the page's heading shows (and the measures' figures).
//
//   node scripts/bench_phone.mjs sync --email E --password P --server "LABEL|URL" … [--runs 3]
//   node scripts/bench_phone.mjs pages --email E --password P --server "LABEL|URL" [--runs 3]
import { launchBrowser } from '../tests/e2e/helpers.mjs';
import { commandLine, signIn, request, expectStatus, median, fmtMs, fmtKB, saveResult } from './bench_common.mjs';

const { stage, repeated, option } = commandLine();
const email = option('email');
const password = option('password');
const runs = Number(option('runs', 3));
const servers = repeated('server').map((s) => {
  const [label, url] = s.split('|');
  return { label, url };
});
if (!email || !password || servers.length === 0) {
  console.error('usage: node scripts/bench_phone.mjs sync|pages --email E --password P --server "LABEL|URL" … [--runs 3]');
  process.exit(2);
}

/** Chrome DevTools' "Slow 4G" preset as the brief gives it. */
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 200000, uploadThroughput: 93750, connectionType: 'cellular4g' };
const UP_TO_DATE = /^Online · all changes saved/;
const LONG = 600000;

/** A fresh context and page on the slow link, recording every request the page makes. */
async function phone(browser) {
  const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.setDefaultTimeout(LONG);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  page.requestsSeen = [];
  page.on('requestfinished', (r) => page.requestsSeen.push(r));
  page.on('requestfailed', (r) => page.requestsSeen.push(r));
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return { context, page };
}

/** Requests finished from index `from` on: count and response bytes as sent. */
async function traffic(page, from) {
  const list = page.requestsSeen.slice(from);
  let bytes = 0;
  for (const r of list) {
    const sizes = await r.sizes().catch(() => null);
    if (sizes) bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  }
  return { requests: list.length, bytes, api: list.filter((r) => new URL(r.url()).pathname.startsWith('/api/')).length };
}

/**
 * Opens the app, waits for the sign-in form, signs in and waits until the device is up to date.
 * The form paints before the app's code has arrived (index.html's static first page), and the
 * app carries out a sign-in asked for meanwhile. `atOnce`: sign in as soon as the form shows
 * (what a person does; `totalMs` is the time from opening the page); otherwise once the app has
 * taken the page over, so `syncMs` (from the click) compares with figures measured before the
 * static first page, when the form showed only once the app had arrived.
 * Returns { formMs and appMs (from navigation), syncMs (from the click), totalMs, requests, bytes }.
 */
async function signInAndSync(page, baseUrl, { atOnce = false } = {}) {
  const start = Date.now();
  await page.goto(`${baseUrl}/`, { waitUntil: 'commit' });
  await page.getByLabel('Email address').waitFor();
  const formMs = Date.now() - start;
  let appMs = null;
  if (!atOnce) {
    await page.locator('#mdt-shell').waitFor({ state: 'detached', timeout: LONG });
    appMs = Date.now() - start;
  }
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  const before = page.requestsSeen.length;
  const clicked = Date.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  const upToDate = page.getByTestId('sync-status').filter({ hasText: UP_TO_DATE });
  // Whichever comes first: up to date, or a problem the app shows (then stop at once).
  await upToDate.or(page.locator('.nhsuk-error-summary')).first().waitFor({ timeout: LONG });
  if (!(await upToDate.isVisible())) {
    const problem = await page.locator('.nhsuk-error-summary').innerText();
    throw new Error(`signing in as ${email} at ${baseUrl} failed: ${problem.replace(/\s+/g, ' ')}`);
  }
  const syncMs = Date.now() - clicked;
  const totalMs = Date.now() - start;
  const t = await traffic(page, before);
  return { formMs, appMs, syncMs, totalMs, ...t };
}

async function syncStage(browser) {
  const results = {};
  for (const server of servers) results[server.label] = [];
  // Alternate the servers run by run, so that drift affects both alike.
  for (let i = 0; i < runs; i++) {
    for (const server of servers) {
      const { context, page } = await phone(browser);
      try {
        const r = await signInAndSync(page, server.url);
        console.log(`  ${server.label} run ${i + 1}: sign-in form after ${fmtMs(r.formMs)}, the app after ${fmtMs(r.appMs)}; up to date ${fmtMs(r.syncMs)} after the click (${r.requests} requests, ${r.api} to the API, ${fmtKB(r.bytes)})`);
        await context.close();
        const fresh = await phone(browser);
        try {
          const early = await signInAndSync(fresh.page, server.url, { atOnce: true });
          r.atOnceMs = early.totalMs;
          console.log(`  ${server.label} run ${i + 1}, signing in as soon as the form shows: up to date ${fmtMs(early.totalMs)} after opening the page`);
        } finally {
          await fresh.context.close();
        }
        results[server.label].push(r);
      } finally {
        await context.close().catch(() => {});
      }
    }
  }
  const medians = {};
  for (const server of servers) {
    const list = results[server.label];
    const m = { syncMs: median(list.map((r) => r.syncMs)), formMs: median(list.map((r) => r.formMs)), appMs: median(list.map((r) => r.appMs)), atOnceMs: median(list.map((r) => r.atOnceMs)), requests: median(list.map((r) => r.requests)), api: median(list.map((r) => r.api)), bytes: median(list.map((r) => r.bytes)), runs: list.map((r) => r.syncMs) };
    medians[server.label] = m;
    console.log(
      `BENCH phone-first-sync ${server.label}: up to date ${fmtMs(m.syncMs)} after "Sign in" on slow 4G, median of ${runs} (${m.runs.map(fmtMs).join(', ')}); ` +
        `${m.requests} requests (${m.api} to the API), ${fmtKB(m.bytes)} over the wire; the sign-in form had shown after ${fmtMs(m.formMs)} and the app after ${fmtMs(m.appMs)}; ` +
        `signing in as soon as the form shows, up to date ${fmtMs(m.atOnceMs)} after opening the page`,
    );
  }
  if (servers.length === 2) {
    const [a, b] = servers.map((s) => medians[s.label]);
    console.log(`BENCH phone-first-sync ratio ${servers[0].label} / ${servers[1].label}: ${(a.syncMs / b.syncMs).toFixed(2)}×`);
  }
  saveResult('browser', { email, runs, servers: servers.map((s) => s.label), medians });
}

/** The member's team and its next meeting, from the API (what the pages are opened on). */
async function targets(baseUrl) {
  const session = await signIn(baseUrl, email, password);
  const records = [];
  let cursor = 0;
  for (;;) {
    const answer = expectStatus(await request(baseUrl, 'GET', `/api/sync/pull?since=${cursor}`, { cookie: session.cookie }), 200, 'pull');
    records.push(...answer.json.records);
    cursor = answer.json.cursor;
    if (!answer.json.more) break;
  }
  const team = records.find((r) => r.entity === 'team' && !r.deleted && (r.fields.member_ids.includes(session.user.person_id) || r.fields.coordinator_id === session.user.person_id));
  if (!team) throw new Error(`${email} is in no team`);
  const now = Date.now();
  const next = records
    .filter((r) => r.entity === 'meeting' && !r.deleted && r.fields.team_id === team.id && r.fields.status === 'planned' && Date.parse(r.fields.starts_at) > now)
    .sort((x, y) => Date.parse(x.fields.starts_at) - Date.parse(y.fields.starts_at))[0];
  if (!next) throw new Error(`${email}'s team has no meeting to come`);
  return { teamId: team.id, meetingId: next.id };
}

/** Follows a link inside the app (the router handles the click; no page load). */
async function follow(page, href) {
  await page.evaluate((to) => {
    const a = document.createElement('a');
    a.href = to;
    a.textContent = 'benchmark link';
    document.body.appendChild(a);
    a.click();
    a.remove();
  }, href);
}

async function pagesStage(browser) {
  const server = servers[0];
  const { teamId, meetingId } = await targets(server.url);
  const pages = [
    { name: 'meeting', href: `/meetings/${meetingId}`, heading: (page) => page.locator('main h1', { hasText: ' — ' }) },
    { name: 'measures', href: `/teams/${teamId}/measures`, heading: (page) => page.getByRole('heading', { name: 'Measures', exact: true }), ready: (page) => page.locator('#measures-now') },
    { name: 'calendar', href: `/teams/${teamId}/calendar`, heading: (page) => page.locator('main h1', { hasText: /^Calendar: \S/ }) },
  ];
  const results = Object.fromEntries(pages.map((p) => [p.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const target of pages) {
      const { context, page } = await phone(browser);
      try {
        await signInAndSync(page, server.url);
        await page.getByRole('heading', { name: 'Your teams' }).waitFor();
        const before = page.requestsSeen.length;
        const started = Date.now();
        await follow(page, target.href);
        await target.heading(page).first().waitFor();
        const headingMs = Date.now() - started;
        let readyMs = null;
        if (target.ready) {
          await target.ready(page).waitFor();
          readyMs = Date.now() - started;
        }
        if (!page.url().endsWith(target.href)) throw new Error(`the ${target.name} page opened at ${page.url()}, not ${target.href}`);
        const t = await traffic(page, before);
        results[target.name].push({ headingMs, readyMs, ...t });
        console.log(`  ${target.name} run ${i + 1}: heading after ${fmtMs(headingMs)}${readyMs === null ? '' : `, figures after ${fmtMs(readyMs)}`} (${t.requests} requests, ${fmtKB(t.bytes)})`);
      } finally {
        await context.close();
      }
    }
  }
  const medians = {};
  for (const target of pages) {
    const list = results[target.name];
    const m = {
      headingMs: median(list.map((r) => r.headingMs)),
      readyMs: target.ready ? median(list.map((r) => r.readyMs)) : null,
      requests: median(list.map((r) => r.requests)),
      bytes: median(list.map((r) => r.bytes)),
      runs: list.map((r) => r.headingMs),
    };
    medians[target.name] = m;
    console.log(
      `BENCH phone-open ${target.name} page (${server.label}): heading after ${fmtMs(m.headingMs)} on slow 4G, median of ${runs} (${m.runs.map(fmtMs).join(', ')})` +
        `${m.readyMs === null ? '' : `, figures after ${fmtMs(m.readyMs)}`}; ${m.requests} requests, ${fmtKB(m.bytes)} over the wire`,
    );
  }
  saveResult('pages', { email, runs, server: server.label, medians });
}

const browser = await launchBrowser();
try {
  if (stage === 'sync') await syncStage(browser);
  else if (stage === 'pages') await pagesStage(browser);
  else throw new Error(`unknown stage ${stage}`);
} finally {
  await browser.close();
}

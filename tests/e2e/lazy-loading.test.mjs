// End-to-end: the lazily loaded pages arrive in few requests (issue 27). The first opening of
// each page loaded when first visited (every `page!(…)` route of src/web/app/route_table.rs), reached from
// the home page inside the app, asks for at most three files of code: the pages' modules come in
// packs (scripts/pack-wasm.mjs), where they once came in up to 166 files, in waves of six, taking
// seconds on a slow connection. And the service worker keeps the whole app in at most 30 requests.
// Counts, not times. Each page opens in a fresh browser with no service worker (which would
// otherwise fetch every pack in the background), so nothing but the first page is cached.
// Synthetic demo data only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DEMO_PASSWORD, explained, session, signIn, useServerAndBrowser } from './helpers.mjs';

const env = useServerAndBrowser(before, after, [], { demo: true, mail: false });

const MOST_CODE_REQUESTS = 3;
const MOST_SERVICE_WORKER_REQUESTS = 30;
const PRIYA = 'priya.example@demo.nhs.test';
const TEAM = 'Riverside Neighbourhood MDT';

/**
 * Every lazily loaded page: its route in src/web/app/route_table.rs, where its path's ids come from (the
 * demo team's pages, found in the app), the main heading it shows, the entry of the team's
 * navigation marked current (team pages), and who opens it.
 */
const PAGES = [
  { route: '/teams/new', heading: /^Create a team$/ },
  { route: '/teams/:id', heading: new RegExp(`^${TEAM}$`), current: 'Meetings' },
  { route: '/teams/:id/people', heading: new RegExp(`^${TEAM}$`), current: 'People' },
  { route: '/teams/:id/attendance', heading: new RegExp(`^${TEAM}$`), current: 'Attendance' },
  { route: '/teams/:id/details', heading: new RegExp(`^${TEAM}$`), current: 'Team details' },
  { route: '/teams/:id/actions', heading: new RegExp(`^Actions: ${TEAM}$`), current: 'Actions' },
  { route: '/teams/:id/calendar', heading: new RegExp(`^Calendar: ${TEAM}$`), current: 'Calendar' },
  { route: '/teams/:id/measures', heading: new RegExp(`^${TEAM}$`), current: 'Measures' },
  { route: '/teams/:id/find-a-time', heading: new RegExp(`^Find a time: ${TEAM}$`), current: 'Find a time' },
  { route: '/meetings/:id', heading: new RegExp(`^${TEAM} — `) },
  { route: '/meetings/:id/pack', heading: /^Brief pack: / },
  { route: '/meetings/:id/summaries', heading: /^Outcome summaries: / },
  { route: '/items/:id/brief', heading: /^Brief: / },
  { route: '/patients/:id', heading: /\(NHS \d{3} \d{3} \d{4}, born / },
  { route: '/actions', heading: /^My actions$/ },
  { route: '/availability', heading: /^My availability$/ },
  { route: '/availability/:person', heading: /^Availability: / },
  { route: '/people', heading: /^Directory$/ },
  { route: '/accounts', heading: /^Accounts$/, who: 'sam.admin@demo.nhs.test' },
  { route: '/conflicts', heading: /^Changes to choose between$/ },
  { route: '/search', heading: /^Search$/ },
  { route: '/settings/email', heading: /^Email settings$/ },
  { route: '/settings/sessions', heading: /^Where you are signed in$/ },
];

/** The paths of src/web/app/route_table.rs whose page is loaded when first visited (`page!(…)`). */
function lazyRoutes() {
  const source = fs.readFileSync('src/web/app/route_table.rs', 'utf8');
  const routes = [...source.matchAll(/<Route path=path!\("([^"]+)"\) view=\{page!\(\w+\)\}\/>/g)].map((m) => m[1]);
  assert.ok(routes.length >= 20, `found only ${routes.length} lazily loaded routes in src/web/app/route_table.rs: has its form changed?`);
  return routes;
}

/** The hrefs of the links in the page's main content whose path matches `pattern`. */
async function hrefs(page, pattern) {
  const all = await page.locator('main a[href^="/"]').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  return all.filter((h) => pattern.test(h));
}

/** Follows a link to `path` inside the app, as a click on a link does (no page load). */
async function followLink(page, path) {
  await page.evaluate((to) => {
    const link = document.createElement('a');
    link.href = to;
    link.textContent = 'Next page';
    document.querySelector('main').append(link);
    link.click();
    link.remove();
  }, path);
}

/** The files the service worker keeps when it installs, read from index.html as sw.js reads it. */
function serviceWorkerFiles(html) {
  const files = [...html.matchAll(/(?:href|src)="(\/[^"]+)"/g)].map((m) => m[1]);
  for (const name of ['mdt-app-wasm', 'mdt-lazy-modules']) {
    const named = html.match(new RegExp(`<meta name="${name}" content="([^"]*)"`));
    if (named) files.push(...named[1].split(' ').filter(Boolean));
  }
  return ['/', ...files];
}

test('every lazily loaded page opens the first time with at most three requests for its code', async (t) => {
  const { baseUrl, browser } = env;
  const html = await (await fetch(`${baseUrl}/`)).text();
  const lazyFiles = new Set(html.match(/<meta name="mdt-lazy-modules" content="([^"]*)"/)?.[1].split(' ') ?? []);
  assert.ok(lazyFiles.size > 0, 'the app is built with its pages loaded lazily (trunk build --release, the lazy-pages feature)');
  const isCode = (path) => lazyFiles.has(path) || /\.(wasm|bin)$/.test(path);

  const routes = lazyRoutes();
  assert.deepEqual(PAGES.map((p) => p.route).sort(), [...routes].sort(), 'the test opens every lazily loaded route of src/web/app/route_table.rs');

  // The demo team's ids, found in the app as Priya (the coordinator).
  const finder = await session(browser, { serviceWorkers: 'block' });
  const ids = await explained(finder.page, 'lazy-loading-ids', async () => {
    const page = finder.page;
    await signIn(page, baseUrl, PRIYA, DEMO_PASSWORD);
    await page.getByRole('link', { name: TEAM, exact: true }).first().click();
    await page.getByTestId('meeting-list').waitFor();
    const team = new URL(page.url()).pathname;
    // The team's oldest meeting: concluded, with briefs, patients and outcome summaries (past
    // meetings are listed newest first, under "Past meetings").
    await page.getByTestId('past-meetings').locator('summary').click();
    await page.getByTestId('past-meeting-list').locator('tbody tr').last().getByRole('link').first().click();
    await page.getByRole('link', { name: /^Outcome summaries/ }).waitFor();
    const meeting = new URL(page.url()).pathname;
    const [brief] = await hrefs(page, /^\/items\/[0-9a-f-]+\/brief$/);
    const [patient] = await hrefs(page, /^\/patients\/[0-9a-f-]+$/);
    await page.goto(`${baseUrl}${team}/people`);
    await page.getByRole('link', { name: /^Record clinics and days away for / }).first().waitFor();
    const [person] = await hrefs(page, /^\/availability\/[0-9a-f-]+$/);
    assert.ok(brief && patient && person, `links to a brief, a patient and a person's availability (${brief}, ${patient}, ${person})`);
    return { team, meeting, brief, patient, person };
  });
  await finder.context.close();
  const pathOf = (route) => ({
    '/teams/:id': ids.team,
    '/meetings/:id': ids.meeting,
    '/items/:id/brief': ids.brief,
    '/patients/:id': ids.patient,
    '/availability/:person': ids.person,
  }[route] ?? route.replace(/^\/teams\/:id/, ids.team).replace(/^\/meetings\/:id/, ids.meeting));

  const counts = [];
  for (const { route, heading, current, who = PRIYA } of PAGES) {
    await t.test(route, async () => {
      const { context, page } = await session(browser, { serviceWorkers: 'block' });
      const name = `lazy-loading-${route.replace(/[^a-z]+/g, '-')}`;
      try {
        await explained(page, name, async () => {
          await signIn(page, baseUrl, who, DEMO_PASSWORD);
          const code = [];
          const loads = [];
          page.on('request', (request) => {
            const path = new URL(request.url()).pathname;
            if (isCode(path)) code.push(path);
            if (request.resourceType() === 'document') loads.push(path);
          });
          await followLink(page, pathOf(route));
          await page.locator('main h1').filter({ hasText: heading }).waitFor();
          if (current) {
            await page.getByRole('navigation', { name: 'Team' }).locator('[aria-current="page"]', { hasText: current }).waitFor();
          }
          // Anything the page asks for once it shows, too.
          await page.waitForTimeout(500);
          assert.deepEqual(loads, [], 'the page opened inside the app, without loading the app again');
          assert.deepEqual(page.errors, [], 'no script errors');
          counts.push(`${route} ${code.length}`);
          assert.ok(
            code.length <= MOST_CODE_REQUESTS,
            `${route} asked for ${code.length} files of code, more than ${MOST_CODE_REQUESTS}: ${code.slice(0, 12).join(', ')}${code.length > 12 ? ' …' : ''}`,
          );
        });
      } finally {
        await context.close();
      }
    });
  }
  console.log(`# requests for code on each page's first opening: ${counts.join('; ')}`);
});

test('code that failed to arrive is asked for again when the page is next opened', async () => {
  const { baseUrl, browser } = env;
  const { context, page } = await session(browser, { serviceWorkers: 'block' });
  try {
    await explained(page, 'lazy-loading-retry', async () => {
      await signIn(page, baseUrl, PRIYA, DEMO_PASSWORD);
      await page.locator('main a[href^="/meetings/"]').first().waitFor();
      const [meeting] = await hrefs(page, /^\/meetings\/[0-9a-f-]+$/);
      // The first file of code the meeting page asks for fails (a dropped connection).
      const asked = [];
      let failed = null;
      await page.route((url) => /\.(wasm|bin)$/.test(url.pathname), async (route) => {
        const path = new URL(route.request().url()).pathname;
        asked.push(path);
        if (failed === null) {
          failed = path;
          await route.abort('connectionreset');
        } else await route.continue();
      });
      await followLink(page, meeting);
      await page.waitForFunction(() => !location.pathname.startsWith('/meetings/') || document.querySelector('main h1'));
      await page.waitForTimeout(1000);
      assert.ok(failed, 'the meeting page asked for code');
      // Back home and to the meeting again: the file is asked for again and the page opens.
      await followLink(page, '/');
      await page.locator('main h1').first().waitFor();
      await followLink(page, meeting);
      await page.locator('main h1').filter({ hasText: new RegExp(`^${TEAM} — `) }).waitFor();
      assert.equal(asked.filter((p) => p === failed).length, 2, `${failed} was asked for again after it failed`);
    });
  } finally {
    await context.close();
  }
});

test('the service worker keeps the whole app, every lazily loaded page included, in at most 30 requests', async () => {
  const { baseUrl, browser } = env;
  const { context, page } = await session(browser, { serviceWorkers: 'allow' });
  try {
    await explained(page, 'lazy-loading-service-worker', async () => {
      const fetched = [];
      context.on('request', (request) => {
        const path = new URL(request.url()).pathname;
        // What the worker fetches, not the worker's own script (which the browser fetches for it).
        if (request.serviceWorker() && path !== '/sw.js') fetched.push(path);
      });
      await page.goto(`${baseUrl}/`);
      // Ready once the worker is active: it has kept the app (its install finished).
      await page.evaluate(() => Promise.race([
        navigator.serviceWorker.ready,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no service worker became active within 30 s')), 30000)),
      ]));
      const expected = serviceWorkerFiles(await (await fetch(`${baseUrl}/`)).text());
      const kept = await page.evaluate(async () => {
        const names = await caches.keys();
        const shell = await caches.open(names.find((n) => n.startsWith('mdt-shell')));
        return (await shell.keys()).map((r) => new URL(r.url).pathname);
      });
      for (const file of expected) assert.ok(kept.includes(file), `the service worker keeps ${file}`);
      console.log(`# the service worker made ${fetched.length} requests to keep the app (${expected.length} files)`);
      assert.ok(
        fetched.length <= MOST_SERVICE_WORKER_REQUESTS,
        `the service worker made ${fetched.length} requests when it installed, more than ${MOST_SERVICE_WORKER_REQUESTS}`,
      );
    });
  } finally {
    await context.close();
  }
});

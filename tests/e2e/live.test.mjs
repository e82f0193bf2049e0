// End-to-end: live updates across a region. Two servers share one PostgreSQL database behind
// nginx (deploy/nginx.conf); the coordinator's browser and Sol's are connected to different
// servers. While Sol looks at the meeting's agenda, the coordinator adds a patient to it: Sol's
// screen shows the item within a second, without waiting for the 15-second poll.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { COLLEAGUES, addPatientItem, createTeam, launchBrowser, planMeeting, screenshotPath, session, signIn, startRegion, waitAllSent } from './helpers.mjs';

const env = { region: null, browser: null };
before(async () => {
  env.region = await startRegion(COLLEAGUES);
  env.browser = await launchBrowser();
});
after(async () => {
  await env.browser?.close();
  await env.region?.stop();
});

/** Loads the app and returns the name of the server holding the page's live-update stream. */
async function openWithStream(page, url) {
  const stream = page.waitForResponse((r) => r.url().endsWith('/api/sync/events'));
  await page.goto(url);
  const response = await stream;
  assert.equal(response.status(), 200);
  return response.headers()['x-mdt-server'];
}

test("a change on one server reaches a browser connected to another within a second", async (t) => {
  if (!env.region) {
    t.skip('needs MDT_TEST_DATABASE_URL (./scripts/test.sh starts a PostgreSQL cluster)');
    return;
  }
  const { baseUrl } = env.region;
  const pat = await session(env.browser);
  await signIn(pat.page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(pat.page, 'Harbour MDT', { emails: ['sol.worker@example.gov.uk'] });
  await planMeeting(pat.page, 7);
  await waitAllSent(pat.page);
  await pat.page.getByTestId('meeting-list').getByRole('link').first().click();
  await pat.page.getByRole('button', { name: 'Add an item' }).waitFor();
  const meetingUrl = pat.page.url();

  const sol = await session(env.browser);
  await signIn(sol.page, baseUrl, 'sol.worker@example.gov.uk');
  await waitAllSent(sol.page);
  // nginx hands each new connection to the next server: open the page until the two
  // browsers' live-update streams are held by different servers.
  const patServer = await openWithStream(pat.page, meetingUrl);
  let solServer = await openWithStream(sol.page, meetingUrl);
  for (let i = 0; solServer === patServer && i < 8; i++) {
    solServer = await openWithStream(sol.page, meetingUrl);
  }
  assert.ok(patServer && solServer && patServer !== solServer, `streams on ${patServer} and ${solServer}`);
  await pat.page.getByRole('button', { name: 'Add an item' }).waitFor();
  await sol.page.getByRole('heading', { level: 1 }).waitFor();
  await waitAllSent(sol.page);

  const pushed = pat.page.waitForResponse((r) => r.url().endsWith('/api/sync/push') && r.status() === 200);
  await addPatientItem(pat.page, { nhs: '9990000018', name: 'Ada Synthetic' });
  await pushed;
  const sentAt = Date.now();
  await sol.page.getByTestId('agenda-item').filter({ hasText: 'Ada Synthetic' }).waitFor({ timeout: 5000 });
  const shownAfter = Date.now() - sentAt;
  await sol.page.screenshot({ path: screenshotPath('live-update.png'), fullPage: true });
  console.log(`LIVE: streams on ${patServer} and ${solServer}; Sol's screen showed the item ${shownAfter} ms after the push was acknowledged`);
  assert.ok(shownAfter < 1000, `shown ${shownAfter} ms after the push was acknowledged`);
  assert.deepEqual(pat.page.errors, []);
  assert.deepEqual(sol.page.errors, []);
});

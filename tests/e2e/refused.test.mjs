// End-to-end: a change the server refuses never stops a device syncing. Sol, offline between
// home visits, adds a patient to next week's agenda and says she would rather join by video;
// meanwhile the coordinator makes her an observer of the team. Back online, the agenda item is
// refused with the reason shown, her own preference reaches the server, nothing is left
// waiting, and her next change is sent at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { COLLEAGUES, addPatientItem, createTeam, openTeamPage, planMeeting, screenshotPath, session, signIn, useServerAndBrowser, waitAllSent } from './helpers.mjs';

const env = useServerAndBrowser(before, after, COLLEAGUES);

/** Sol's availability record as the coordinator's browser pulls it (the server's copy). */
async function solsAvailability(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/sync/pull?since=0', { headers: { 'x-requested-with': 'mdt-app' } });
    const body = await res.json();
    return body.records.filter((r) => r.entity === 'availability').map((r) => r.fields);
  });
}

test('a refused change is reported and the rest of the outbox is sent', async () => {
  const { baseUrl, browser } = env;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Ford MDT', { emails: ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net'] });
  await planMeeting(page, 7);
  await waitAllSent(page);

  const sol = await session(browser);
  const solPage = sol.page;
  await signIn(solPage, baseUrl, 'sol.worker@example.gov.uk');
  await waitAllSent(solPage);
  await solPage.getByRole('link', { name: 'Ford MDT', exact: true }).click();
  await solPage.getByTestId('meeting-list').getByRole('link').first().click();
  await solPage.getByRole('button', { name: 'Add an item' }).waitFor();

  // Offline: two changes, both allowed as far as Sol's device knows. (Pages load lazily:
  // offline, they come from the service worker, which holds them once ready.)
  await solPage.evaluate(async () => { await navigator.serviceWorker.ready; });
  await sol.context.setOffline(true);
  await addPatientItem(solPage, { nhs: '9990000026', name: 'Bea Synthetic' });
  await solPage.getByRole('link', { name: 'My availability' }).click();
  await solPage.getByLabel('I would rather join meetings by video').check();
  await solPage.getByTestId('sync-status').filter({ hasText: /^Offline · \d+ unsent changes?/ }).waitFor();

  // Meanwhile the coordinator makes Sol an observer.
  await openTeamPage(page, 'Team details');
  await page.getByTestId('member-checkboxes').getByLabel(/Sol Worker/).uncheck();
  const solId = await page.locator('#observer-add option', { hasText: 'Sol Worker' }).getAttribute('value');
  await page.selectOption('#observer-add', solId);
  await page.getByRole('button', { name: 'Save team' }).click();
  await waitAllSent(page);

  // Back online: the agenda item is refused and said so; the rest is sent; nothing waits.
  await sol.context.setOffline(false);
  const refused = solPage.getByRole('alert').filter({ hasText: 'Some changes were not saved' });
  await refused.waitFor();
  const text = await refused.innerText();
  assert.match(text, /Agenda item: You observe this team, so you can read its records but not change them/);
  await waitAllSent(solPage);
  await solPage.screenshot({ path: screenshotPath('refused-change.png'), fullPage: true });
  const saved = await solsAvailability(page);
  assert.ok(saved.some((f) => f.prefers_remote === true), `Sol's preference reached the server: ${JSON.stringify(saved)}`);

  // Her next change goes straight through.
  await solPage.getByLabel('I would rather join meetings by video').uncheck();
  await waitAllSent(solPage);
  const again = await solsAvailability(page);
  assert.ok(again.some((f) => f.prefers_remote === false), `the next change was sent: ${JSON.stringify(again)}`);
});

test('a team is archived by its coordinator after a question, listed apart, and restored', async () => {
  const { baseUrl, browser } = env;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Ash MDT', { emails: ['gita.synthetic@example.nhs.net'] });
  await waitAllSent(page);

  // A member is told the details are the coordinator's and has no archive button.
  const gita = await session(browser);
  await signIn(gita.page, baseUrl, 'gita.synthetic@example.nhs.net');
  await gita.page.getByRole('link', { name: 'Ash MDT', exact: true }).click();
  await openTeamPage(gita.page, 'Team details');
  await gita.page.getByTestId('coordinator-only').waitFor();
  assert.equal(await gita.page.getByRole('button', { name: 'Archive this team' }).count(), 0);
  assert.equal(await gita.page.getByRole('button', { name: 'Save team' }).count(), 0);

  // The coordinator says no to the question first: nothing changes.
  await openTeamPage(page, 'Team details');
  const questions = [];
  page.once('dialog', (d) => { questions.push(d.message()); d.dismiss(); });
  await page.getByRole('button', { name: 'Archive this team' }).click();
  assert.match(questions[0], /Archive this team\? .* you can restore it/);
  assert.equal(await page.getByTestId('archived').count(), 0);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Archive this team' }).click();
  await page.getByTestId('archived').waitFor();
  await waitAllSent(page);
  await page.getByRole('link', { name: 'Teams and meetings' }).click();
  await page.getByTestId('archived-teams').getByRole('link', { name: 'Ash MDT', exact: true }).waitFor();
  assert.equal(await page.getByTestId('team-list').getByRole('link', { name: 'Ash MDT', exact: true }).count(), 0);
  await page.screenshot({ path: screenshotPath('archived-team.png'), fullPage: true });

  // Restored from the archived list. Until then the team is read-only: its details have no
  // save button, only the restore.
  await page.getByTestId('archived-teams').getByRole('link', { name: 'Ash MDT', exact: true }).click();
  await page.getByTestId('archived').waitFor();
  await page.getByText('Nothing in it can be added or changed until its coordinator restores it').waitFor();
  await openTeamPage(page, 'Team details');
  await page.getByRole('button', { name: 'Restore this team' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save team' }).count(), 0);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Restore this team' }).click();
  await page.getByRole('button', { name: 'Archive this team' }).waitFor();
  await waitAllSent(page);
  await page.getByRole('link', { name: 'Teams and meetings' }).click();
  await page.getByTestId('team-list').getByRole('link', { name: 'Ash MDT', exact: true }).waitFor();
});

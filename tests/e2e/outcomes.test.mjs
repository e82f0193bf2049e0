// End-to-end: measures, outcome summaries and exports (issue 16). The demo team's year of
// history on the measures page (a chart, a sentence and a table per measure, by month and by
// quarter, the CSV of the same figures); a concluded meeting's outcome summaries, marked sent by
// the coordinator, with a restricted item's summary never offered to a member outside it; and
// the meeting's FHIR download holding only what its reader may see. Synthetic people only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  COLLEAGUES,
  DEMO_PASSWORD,
  STARTED_TODAY,
  openTeamPage,
  planMeeting,
  fillDateOfBirth,
  screenshotPath,
  session,
  signIn,
  ukDate,
  useServerAndBrowser,
  waitAllSent,
} from './helpers.mjs';

const env = useServerAndBrowser(before, after, COLLEAGUES, { demo: true });

const SECRET = 'Disclosure of financial abuse';

/** Clicks `link` and returns the downloaded file's name and text. */
async function download(page, link) {
  const [file] = await Promise.all([page.waitForEvent('download'), link.click()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), 'utf8') };
}

test("the demo team's measures: a chart, a sentence and a table per measure, by month and by quarter, and the CSV", async () => {
  const priya = await session(env.browser);
  const page = priya.page;
  await signIn(page, env.baseUrl, 'priya.example@demo.nhs.test', DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Riverside Neighbourhood MDT', exact: true }).click();
  await openTeamPage(page, 'Measures');
  await page.getByTestId('measures-backlog').waitFor();

  for (const id of ['concluded', 'waiting', 'done-by-due', 'attendance', 'briefs']) {
    const section = page.getByTestId(`measure-${id}`);
    const chart = section.getByTestId(`chart-${id}`);
    await chart.waitFor();
    assert.equal(await chart.getAttribute('role'), 'img');
    const label = await chart.getAttribute('aria-label');
    assert.ok(label && label.length > 20, `${id}: the chart is named by its sentence (${label})`);
    assert.ok(await section.locator('rect.mdt-chart__bar').count() > 0, `${id} has bars`);
    // The figures as a table, behind a line under the chart (issue 29: pages lead with the
    // charts and their sentences).
    const table = section.getByTestId(`table-${id}`);
    assert.equal(await table.isVisible(), false, `${id}: the table waits behind its details`);
    await section.locator('summary').click();
    await table.waitFor();
    assert.ok(await table.locator('tbody tr').count() > 0, `${id} has a table`);
  }
  // Twelve months by default, the year's meetings in them.
  const months = page.getByTestId('table-concluded').locator('tbody tr');
  assert.equal(await months.count(), 12);
  const concluded = await page.getByTestId('measure-concluded').innerText();
  assert.match(concluded, /\d+% of \d+ patient items discussed from .* were concluded with an outcome\./);
  // The district nurse missed every other meeting: below the two-thirds target.
  assert.match(await page.getByTestId('measure-attendance').innerText(), /Below the two-thirds attendance target: .*district nurses/);
  await page.screenshot({ path: screenshotPath('measures-demo-team.png'), fullPage: true });

  // The CSV of the same figures.
  const csv = await download(page, page.getByTestId('measures-csv'));
  assert.match(csv.name, /^team-measures-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
  const rows = csv.text.split('\r\n');
  assert.ok(rows[0].startsWith('From,To,Meetings held,Patient items,Concluded with an outcome,'), rows[0]);
  assert.equal(rows.slice(1).findIndex((r) => r === ''), 12, 'twelve months, then what waits now');
  assert.ok(!/Synthetic|Example|Placeholder|Sample/.test(csv.text), 'no patient is named');

  // By quarter; a bad range is refused in words, keeping what was typed.
  await page.getByLabel('Quarter').check();
  await page.getByRole('button', { name: 'Show these measures' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="table-concluded"] tbody tr').length <= 5);
  await page.getByTestId('measure-concluded').locator('summary').click();
  assert.match(await months.first().innerText(), /[A-Z][a-z]{2}(–[A-Z][a-z]{2})? \d{4}/);
  const from = page.getByRole('group', { name: 'From' });
  await from.getByLabel('Day').fill('31');
  await from.getByLabel('Month').fill('2');
  await from.getByLabel('Year').fill(ukDate().slice(0, 4));
  await page.getByRole('button', { name: 'Show these measures' }).click();
  await page.locator('.nhsuk-error-summary').getByText('The start of the range must be a real date').waitFor();
  assert.equal(await from.getByLabel('Day').inputValue(), '31');
  await page.setViewportSize({ width: 320, height: 800 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'no sideways scrolling at 320 px');
  await page.screenshot({ path: screenshotPath('phone-320-measures-demo-team.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await priya.context.close();
});

test("outcome summaries after a meeting, marked sent; a restricted item's summary and patient never reach a member outside it", async () => {
  const pat = await session(env.browser);
  const page = pat.page;
  await signIn(page, env.baseUrl, 'pat.coordinator@example.nhs.net');
  await page.getByRole('button', { name: 'Create a team' }).click();
  await page.getByLabel('Team name').fill('Orchard MDT');
  for (const email of ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net']) {
    await page.getByLabel('Add a colleague who already uses the app').fill(email);
    await page.getByRole('button', { name: 'Find and add' }).click();
    await page.waitForFunction(() => document.querySelector('#colleague-email')?.value === '');
  }
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('heading', { name: 'Orchard MDT' }).waitFor();
  // Today's meeting, which has started: it can be concluded.
  const meetingDay = ukDate();
  await planMeeting(page, 0, STARTED_TODAY);
  await page.getByTestId('meeting-list').getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Agenda' }).waitFor();
  const meetingUrl = page.url();

  // Ada's item for the whole team; Ivy's restricted to its lead, Sol (and the coordinator).
  for (const [name, nhs, reason, restricted] of [
    ['Ada Synthetic', '9990000018', 'Two falls this month', false],
    ['Ivy Synthetic', '9990000034', SECRET, true],
  ]) {
    await page.getByRole('button', { name: 'Add a late item' }).click();
    await page.getByLabel('Patient', { exact: true }).selectOption({ label: 'Someone not on the list yet' });
    await page.getByLabel('NHS number').fill(nhs);
    await page.getByLabel('Full name').fill(name);
    await fillDateOfBirth(page, '1940-02-03');
    await page.getByLabel('Reason for discussion').fill(reason);
    await page.getByLabel('Question for the MDT').fill('What should happen next?');
    await page.getByLabel('Lead professional').selectOption({ label: 'Sol Worker' });
    if (restricted) await page.getByLabel('Safeguarding: restrict who can see this item').check();
    await page.getByRole('button', { name: 'Add to agenda' }).click();
    await page.getByTestId('agenda-item').filter({ hasText: name }).waitFor();
    await page.getByRole('button', { name: new RegExp(`Record the outcome for ${name}`) }).click();
    await page.getByLabel('Decision', { exact: true }).check();
    await page.getByLabel('The decision').fill(restricted ? 'Safeguarding referral today' : 'Care package review');
    await page.getByLabel('Action 1: what needs doing').fill(restricted ? 'Make the safeguarding referral' : 'Arrange the review');
    await page.getByLabel('Action 1: owner').selectOption({ label: 'Sol Worker' });
    await page.getByRole('button', { name: 'Save outcome' }).click();
    await page.getByTestId('agenda-item').filter({ hasText: name }).getByTestId('outcome').waitFor();
  }
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Conclude the meeting' }).click();
  await page.getByText('This meeting is concluded').waitFor();
  await waitAllSent(page);

  // The coordinator's summaries: both, two still to send; one marked sent.
  const link = page.getByTestId('summaries-link');
  assert.equal(await link.innerText(), 'Outcome summaries (2 of 2 still to send)');
  await link.click();
  const sheets = page.getByTestId('outcome-summary');
  await sheets.first().waitFor();
  assert.equal(await sheets.count(), 2);
  const ada = sheets.filter({ hasText: 'Ada Synthetic' });
  const adaText = await ada.innerText();
  for (const part of ['Present', 'Attendance was not recorded.', 'Question for the MDT', 'What should happen next?', 'Decision', 'Care package review', 'Arrange the review', 'Sol Worker', 'Not sent yet.']) {
    assert.ok(adaText.includes(part), `${part} in ${adaText}`);
  }
  await page.getByTestId('mark-sent').first().click();
  await page.getByTestId('summaries-to-send').filter({ hasText: '1 of 2 still to send.' }).waitFor();
  await ada.getByTestId('summary-sent').filter({ hasText: /^Sent on / }).waitFor();
  await waitAllSent(page);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByRole('button', { name: 'Print or save as PDF' }).isVisible(), false, 'controls are not printed');
  await page.screenshot({ path: screenshotPath('outcome-summaries-print.png'), fullPage: true });
  await page.emulateMedia({ media: 'screen' });

  // The meeting as FHIR for the coordinator: both patients.
  const fhir = await download(page, page.getByTestId('summaries-fhir'));
  assert.equal(fhir.name, `mdt-meeting-${meetingDay}.fhir.json`, 'named by the meeting\'s UK date');
  const bundle = JSON.parse(fhir.text);
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'collection');
  const kinds = (b, kind) => b.entry.filter((e) => e.resource.resourceType === kind);
  assert.equal(kinds(bundle, 'Patient').length, 2);
  assert.equal(kinds(bundle, 'Composition').length, 2);
  assert.ok(fhir.text.includes('9990000034'));

  // Gita is in the team but outside Ivy's restriction: one summary, nothing of Ivy's, and no Ivy
  // in her FHIR download.
  const gita = await session(env.browser);
  await signIn(gita.page, env.baseUrl, 'gita.synthetic@example.nhs.net');
  await gita.page.goto(meetingUrl);
  await gita.page.getByTestId('summaries-link').filter({ hasText: 'Outcome summaries (1, all sent)' }).waitFor();
  await gita.page.getByTestId('summaries-link').click();
  await gita.page.getByTestId('outcome-summary').first().waitFor();
  assert.equal(await gita.page.getByTestId('outcome-summary').count(), 1);
  const seen = await gita.page.locator('main').innerText();
  for (const withheld of ['Ivy Synthetic', SECRET, 'Safeguarding referral today', 'Make the safeguarding referral']) {
    assert.ok(!seen.includes(withheld), `${withheld} reached Gita`);
  }
  assert.equal(await gita.page.getByTestId('mark-sent').count(), 0, 'only the coordinator marks summaries sent');
  const hers = await download(gita.page, gita.page.getByTestId('summaries-fhir'));
  assert.ok(!hers.text.includes('9990000034') && !hers.text.includes(SECRET), 'no Ivy in her bundle');
  assert.equal(kinds(JSON.parse(hers.text), 'Patient').length, 1);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(gita.page.errors, []);
  await pat.context.close();
  await gita.context.close();
});

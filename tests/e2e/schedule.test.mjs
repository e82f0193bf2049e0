// End-to-end: clinic patterns, the slot finder with a GP + social worker quorum and its week
// grid, a monthly series made from the top candidate, apologies breaking quorum on one of its
// meetings, skipping a meeting in the series editor, and the series' calendar file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { COLLEAGUES, addDays, addDirectoryPerson, addTeamMembers, createTeam, dateParts, isoDateFromToday, openTeamPage, planMeeting, screenshotPath, session, signIn, ukInstant, useServerAndBrowser, waitAllSent, weekdayOf } from './helpers.mjs';

const env = useServerAndBrowser(before, after, COLLEAGUES);

async function addCommitment(page, day, from, to, label) {
  await page.getByLabel('Day', { exact: true }).selectOption({ label: day });
  await page.getByLabel('From', { exact: true }).fill(from);
  await page.getByLabel('To', { exact: true }).fill(to);
  await page.getByLabel('What it is').fill(label);
  await page.getByRole('button', { name: 'Add commitment' }).click();
  await page.getByTestId('commitments').getByText(`${day} ${from}–${to}: ${label}`).waitFor();
}

test('clinics are avoided, quorum ranks first, and a monthly series comes from the top slot', async () => {
  const { baseUrl, browser } = env;
  // Gita's clinics fill every weekday morning; Sol does home visits every afternoon but Tuesday.
  const gita = await session(browser);
  await signIn(gita.page, baseUrl, 'gita.synthetic@example.nhs.net');
  await gita.page.getByRole('link', { name: 'My availability' }).click();
  for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']) {
    await addCommitment(gita.page, day, '08:00', '13:00', 'Clinic');
  }
  await waitAllSent(gita.page);
  const sol = await session(browser);
  await signIn(sol.page, baseUrl, 'sol.worker@example.gov.uk');
  await sol.page.getByRole('link', { name: 'My availability' }).click();
  for (const day of ['Monday', 'Wednesday', 'Thursday', 'Friday']) {
    await addCommitment(sol.page, day, '13:00', '18:00', 'Home visits');
  }
  await waitAllSent(sol.page);

  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Willow MDT', {
    emails: ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net'],
    roles: ['GP', 'Social worker'],
  });
  await waitAllSent(page);
  await page.reload();
  await openTeamPage(page, 'Find a time');
  await page.getByRole('button', { name: 'Find times' }).click();
  const first = page.getByTestId('slot-option').first();
  await first.getByText('Quorum met').waitFor();
  const heading = await first.locator('h3').innerText();
  // Only Tuesday afternoons have both the GP and the social worker free.
  assert.match(heading, /^1\. Tue .* 13:00–14:30/);
  // The next best options are other days (one option a day), all Tuesdays with quorum.
  const second = await page.getByTestId('slot-option').nth(1).locator('h3').innerText();
  assert.match(second, /^2\. Tue .* 13:00–14:30/);

  // The week grid: green (quorum) only on Tuesday afternoons; choosing a cell explains it.
  const grid = page.getByTestId('week-grid');
  // The window starts tomorrow (UK date); the grid opens on the week of its first weekday
  // (a search made on a Friday or a Saturday starts at the weekend: the grid opens on the
  // next Monday, not on a week with nothing left in it).
  // The first weekday to choose: not at the weekend, not a bank holiday (the grid opens on a
  // week with a day to choose, issue 29: a week of bank holidays is passed over).
  const holidays = new Set(JSON.parse(fs.readFileSync('resources/bank-holidays-england-wales.json', 'utf8')).dates);
  let firstWeekday = isoDateFromToday(1);
  while ([0, 6].includes(weekdayOf(firstWeekday)) || holidays.has(firstWeekday)) firstWeekday = addDays(firstWeekday, 1);
  const monday = dateParts(addDays(firstWeekday, -((weekdayOf(firstWeekday) + 6) % 7)));
  const weekOf = `${monday.day} ${monday.month} ${monday.year}`;
  await grid.locator('caption').filter({ hasText: `Week of ${weekOf}` }).waitFor();
  // The grid's first week: that of the first weekday from tomorrow, bank holiday or not.
  let plainFirst = isoDateFromToday(1);
  while ([0, 6].includes(weekdayOf(plainFirst))) plainFirst = addDays(plainFirst, 1);
  const mondayOf = (iso) => addDays(iso, -((weekdayOf(iso) + 6) % 7));
  const firstWeekIsOpen = mondayOf(plainFirst) === mondayOf(firstWeekday);
  if (firstWeekIsOpen) assert.ok(await page.getByRole('button', { name: 'Previous week' }).isDisabled(), 'the window starts this week');
  const green = grid.locator('td.mdt-week-grid__quorum button');
  if ((await green.count()) === 0) await page.getByRole('button', { name: 'Next week' }).click();
  // Each cell's name starts with what it shows (WCAG 2.5.3), then says when, for a screen reader.
  const labels = await green.evaluateAll((cells) => cells.map((c) => c.textContent));
  assert.ok(labels.length > 0, 'some time has quorum');
  for (const label of labels) assert.match(label, /^3\/3 free, Tuesday .* (1[3-6]):(00|30), quorum met$/);
  const morning = grid.getByRole('button', { name: /^2\/3 free, Tuesday .* 10:00, no quorum$/ });
  await morning.click();
  const chosen = page.getByTestId('chosen-slot');
  await chosen.getByText('No quorum').waitFor();
  await chosen.getByText('Dr Gita Synthetic (Clinic)').waitFor();
  await green.first().click();
  await chosen.getByText('Quorum met').waitFor();
  assert.equal(await green.first().getAttribute('aria-pressed'), 'true');
  await page.screenshot({ path: screenshotPath('slot-finder.png'), fullPage: true });

  // A date that is both the 4th and the last Tuesday offers both rules; either makes the series.
  await first.getByRole('button', { name: /Monthly:/ }).first().click();
  await page.getByTestId('planned').filter({ hasText: 'The series is set up and its next 6 meetings are planned.' }).waitFor();
  await page.getByRole('link', { name: "See the team's meetings" }).click();
  await page.getByTestId('meeting-list').waitFor();
  const rows = await page.getByTestId('meeting-list').locator('tbody tr').allInnerTexts();
  assert.equal(rows.length, 6, rows.join('\n'));
  for (const row of rows) assert.match(row, /^Tue .* 13:00–14:30/);
  const seriesLine = page.getByTestId('series-list').locator('li').first();
  await seriesLine.getByText(/Series: the (1st|2nd|3rd|4th|last) Tuesday of the month at 13:00/).waitFor();
  await waitAllSent(page);

  // Sol sends apologies for the first meeting of the series: the social worker quorum is lost.
  await sol.page.goto(`${baseUrl}/`);
  await sol.page.getByRole('link', { name: 'Willow MDT', exact: true }).click();
  await sol.page.getByTestId('meeting-list').getByRole('link').first().click();
  await sol.page.getByLabel('Answer for Sol Worker').selectOption({ label: 'Apologies' });
  await waitAllSent(sol.page);
  await page.getByTestId('meeting-list').getByRole('link').first().click();
  await page.getByTestId('quorum-warning').filter({ hasText: 'Nobody is expected for: Social worker' }).waitFor();
  await page.goBack();

  // Skip the second meeting in the series editor: it is cancelled, the others stay planned.
  await seriesLine.getByRole('button', { name: /^Change series/ }).click();
  const editor = page.getByTestId('series-editor');
  const secondMeeting = editor.getByTestId('series-meetings').locator('tbody tr').nth(1);
  await secondMeeting.getByRole('button', { name: /^Skip/ }).click();
  await editor.getByRole('status').filter({ hasText: /is skipped\. 1 planned meeting changed\./ }).waitFor();
  await secondMeeting.getByText('Skipped').waitFor();
  const statuses = await page.getByTestId('meeting-list').locator('tbody tr td:nth-child(3)').allInnerTexts();
  assert.deepEqual(statuses.map((s) => s.trim()), ['Planned', 'Cancelled', 'Planned', 'Planned', 'Planned', 'Planned']);
  await waitAllSent(page);
  await page.screenshot({ path: screenshotPath('series-editor.png'), fullPage: true });

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    seriesLine.getByRole('link', { name: 'Add the series to your calendar' }).click(),
  ]);
  const ics = (await import('node:fs')).readFileSync(await download.path(), 'utf8');
  assert.match(ics, /RRULE:FREQ=MONTHLY;BYDAY=-?\dTU\r\n/);
  assert.match(ics, /DTSTART;TZID=Europe\/London:\d{8}T130000\r\n/);
  assert.match(ics, /EXDATE;TZID=Europe\/London:\d{8}T130000\r\n/);
  assert.match(ics, /SEQUENCE:1\r\n/);
  assert.deepEqual([...page.errors, ...gita.page.errors, ...sol.page.errors], []);
  await gita.context.close();
  await sol.context.close();
  await pat.context.close();
});

/** The first 5th Tuesday of a month at least five weeks from today (UK date), as YYYY-MM-DD. */
function nextFifthTuesday() {
  let day = isoDateFromToday(35);
  while (!(weekdayOf(day) === 2 && dateParts(day).day >= 29)) day = addDays(day, 1);
  return day;
}

test('a slot on the 5th Tuesday offers "the last Tuesday" and the series is made (issue 15, problem 1)', async () => {
  const { baseUrl, browser } = env;
  // The browser's clock is set to the Monday before a 5th Tuesday, so the window starts on it
  // and its first time ranks first (with the test above, only Tuesday afternoons have quorum;
  // alone, every time does).
  const fifth = nextFifthTuesday();
  const pat = await session(browser);
  const page = pat.page;
  await page.clock.setFixedTime(ukInstant(addDays(fifth, -1), '09:00'));
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Rowan MDT', {
    emails: ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net'],
    roles: ['GP', 'Social worker'],
  });
  await waitAllSent(page);
  await openTeamPage(page, 'Find a time');
  await page.getByRole('button', { name: 'Find times' }).click();
  const first = page.getByTestId('slot-option').first();
  await first.getByText('Quorum met').waitFor();
  const parts = dateParts(fifth);
  const day = `Tue ${parts.day} ${parts.month.slice(0, 3)}`;
  const when = `${day} ${parts.year}`;
  assert.match(await first.locator('h3').innerText(), new RegExp(`^1\\. ${when}, `));
  // Only the rule that fits: the 5th Tuesday is the last, never "the 4th".
  const monthly = first.getByRole('button', { name: /^Monthly:/ });
  assert.deepEqual(await monthly.allInnerTexts(), ['Monthly: the last Tuesday of the month']);
  await first.getByText('Monthly, it would be the last Tuesday of the month.').waitFor();
  await monthly.click();
  await page.getByTestId('planned').filter({ hasText: 'The series is set up and its next 6 meetings are planned.' }).waitFor();
  await page.getByRole('link', { name: "See the team's meetings" }).click();
  await page.getByTestId('series-list').getByText(/^Series: the last Tuesday of the month at \d\d:\d\d/).waitFor();
  const rows = await page.getByTestId('meeting-list').locator('tbody tr').allInnerTexts();
  assert.equal(rows.length, 6, rows.join('\n'));
  assert.ok(rows[0].startsWith(day), rows.join('\n'));
  await waitAllSent(page);
  assert.deepEqual(page.errors, []);
  await pat.context.close();
});

test("Find a time keeps clear of the team's own meeting; the coordinator records clinics for a member who cannot sign in (issue 15, problem 2)", async () => {
  const { baseUrl, browser } = env;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  // Dr Nia Synthetic never signs in: she is only in the directory.
  await addDirectoryPerson(page, 'Dr Nia Synthetic', 'GP');
  await page.getByRole('link', { name: 'Teams and meetings' }).click();
  await createTeam(page, 'Hazel MDT', { emails: ['sol.worker@example.gov.uk'], roles: ['GP', 'Social worker'] });
  await addTeamMembers(page, ['Dr Nia Synthetic']);
  // The team already meets on the next weekday at least two days ahead, 13:00–14:30.
  let days = 2;
  while ([0, 6].includes(weekdayOf(isoDateFromToday(days)))) days += 1;
  await planMeeting(page, days);
  await page.getByTestId('meeting-list').locator('tbody tr').first().waitFor();
  await waitAllSent(page);

  // The navigation marks where Pat is.
  assert.equal(await page.getByRole('link', { name: 'Teams and meetings' }).getAttribute('aria-current'), 'page');
  assert.equal(await page.getByRole('link', { name: 'My actions' }).getAttribute('aria-current'), null);

  // The team's people page lists them; only Nia, who cannot sign in, has a way in for Pat.
  await openTeamPage(page, 'People');
  const people = page.getByTestId('team-people');
  await people.getByText('Cannot sign in').waitFor();
  const record = people.getByRole('link', { name: 'Record clinics and days away for Dr Nia Synthetic' });
  assert.equal(await people.getByRole('link', { name: /Record clinics and days away for Sol Worker/ }).count(), 0);
  await record.click();
  await page.getByRole('heading', { name: 'Availability: Dr Nia Synthetic' }).waitFor();
  await addCommitment(page, 'Monday', '08:00', '12:00', 'Clinic');
  await waitAllSent(page);
  assert.equal(await page.getByRole('alert').filter({ hasText: 'not saved' }).count(), 0, 'the server took it');
  await page.goBack();
  await people.getByText('1 regular commitment, 0 days away coming up').waitFor();

  // Only 13:00–14:30 each weekday is asked for: the day the team already meets is not offered.
  await openTeamPage(page, 'Find a time');
  await page.getByLabel('Weeks ahead').fill('1');
  await page.getByLabel('Not before').fill('13:00');
  await page.getByLabel('Finished by').fill('14:30');
  await page.getByRole('button', { name: 'Find times' }).click();
  await page.getByTestId('slot-option').first().waitFor();
  const booked = dateParts(isoDateFromToday(days));
  const { weekday, month } = booked;
  const bookedDay = `${weekday.slice(0, 3)} ${booked.day} ${month.slice(0, 3)}`;
  const headings = await page.getByTestId('slot-option').locator('h3').allInnerTexts();
  assert.ok(headings.length > 0);
  for (const h of headings) assert.ok(!h.includes(`${bookedDay} `), `offered over the team's meeting: ${headings.join(' | ')}`);
  // The week grid shows it as the team's meeting, not as a free (green) time.
  const grid = page.getByTestId('week-grid');
  const bookedLong = `${weekday} ${booked.day} ${month}`;
  const cell = grid.getByRole('button', { name: new RegExp(`free, ${bookedLong} 13:00, the team already meets$`) });
  if ((await cell.count()) === 0) await page.getByRole('button', { name: 'Next week' }).click();
  await cell.waitFor();
  assert.match(await cell.innerText(), /MDT/);
  assert.equal(await cell.evaluate((b) => b.closest('td').classList.contains('mdt-week-grid__quorum')), false);
  await page.screenshot({ path: screenshotPath('find-a-time-team-meeting.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  await pat.context.close();
});

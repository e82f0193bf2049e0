// End-to-end: the home page says what needs the signed-in person this week (issue 15: it was a
// bare list of teams). A member sees the meeting they have not answered, the brief they must
// write and the item they asked for; the coordinator also sees the quorum gap and the brief
// not ready; answering and writing clear the lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { COLLEAGUES, addPatientItem, createTeam, dateParts, isoDateFromToday, planMeeting, screenshotPath, session, signIn, useServerAndBrowser, waitAllSent } from './helpers.mjs';

const env = useServerAndBrowser(before, after, COLLEAGUES);

test('the home page lists what needs you, and lines go once they are done', async () => {
  const { baseUrl, browser } = env;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  const home = page.getByTestId('what-needs-you');
  await home.getByTestId('nothing-needs-you').waitFor();

  // A team needing a GP and a social worker, with only Sol (a social worker) in it, meeting
  // in three days; Pat puts Ada on the agenda with Sol as her lead.
  await createTeam(page, 'Willow MDT', { emails: ['sol.worker@example.gov.uk'], roles: ['GP', 'Social worker'] });
  await planMeeting(page, 3);
  await page.getByTestId('meeting-list').getByRole('link').first().click();
  await page.getByRole('button', { name: 'Add an item' }).waitFor();
  await addPatientItem(page, { nhs: '9990000018', name: 'Ada Synthetic' });
  await waitAllSent(page);

  await page.getByRole('link', { name: 'MDT coordination homepage' }).click();
  const warnings = home.getByTestId('needs-coordinator');
  await warnings.getByText(/Willow MDT, .*: nobody is expected for GP/).waitFor();
  await warnings.getByText(/Willow MDT, .*: 1 brief not ready \(due by /).waitFor();
  await home.getByTestId('needs-meetings').getByText('Not answered: say if you are coming').waitFor();
  const asked = await home.getByTestId('needs-requested').innerText();
  assert.match(asked, /Ada Synthetic \(NHS 999 000 0018, born 12 Apr 1938\) · Willow MDT, discussed at about /);
  assert.equal(await home.getByTestId('nothing-needs-you').count(), 0);
  await page.screenshot({ path: screenshotPath('home-coordinator.png'), fullPage: true });

  // Sol: only the meeting to answer (Pat asked for Ada and named no lead, so the brief is
  // Pat's to write).
  const sol = await session(browser);
  await signIn(sol.page, baseUrl, 'sol.worker@example.gov.uk');
  const solHome = sol.page.getByTestId('what-needs-you');
  const meetings = solHome.getByTestId('needs-meetings');
  await meetings.getByText(/Willow MDT, /).waitFor();
  await meetings.getByText('Not answered: say if you are coming').waitFor();
  assert.equal(await solHome.getByTestId('needs-coordinator').count(), 0, 'warnings are the coordinator\'s');
  // Answering from the meeting the line links to clears the prompt.
  await meetings.getByRole('link', { name: /Willow MDT/ }).click();
  await sol.page.getByLabel('Answer for Sol Worker').selectOption({ label: 'Attending in person' });
  await waitAllSent(sol.page);
  await sol.page.getByRole('link', { name: 'MDT coordination homepage' }).click();
  await meetings.getByText('Your answer: Attending in person').waitFor();

  // Pat writes Ada's brief (the item's requester writes it while no lead is named): the
  // "brief not ready" warning and the line under "Briefs to write" both go.
  const write = home.getByTestId('needs-write');
  await write.getByRole('link', { name: /Ada Synthetic/ }).click();
  await page.getByLabel('Situation (required)').fill('Lives alone; two falls this month');
  await page.getByLabel('Request (required)').fill('Who leads her care package review?');
  await page.getByLabel('Yes').check();
  await page.getByRole('button', { name: 'Mark as ready' }).click();
  await page.getByTestId('brief-status').filter({ hasText: 'Ready' }).waitFor();
  await waitAllSent(page);
  await page.getByRole('link', { name: 'MDT coordination homepage' }).click();
  await home.getByTestId('needs-requested').waitFor();
  assert.equal(await home.getByTestId('needs-write').count(), 0);
  assert.equal(await warnings.getByText(/brief not ready/).count(), 0);
  // Sol now has the ready brief to read before the meeting.
  await sol.page.reload();
  await solHome.getByTestId('needs-read').getByRole('link', { name: /Ada Synthetic/ }).waitFor();

  assert.deepEqual([...page.errors, ...sol.page.errors], []);
  await sol.context.close();
  await pat.context.close();
});

test('a team calendar by month, keyboard and phone; search finds people, organisations and patients', async () => {
  const { baseUrl, browser } = env;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Aspen MDT', { emails: ['sol.worker@example.gov.uk'] });
  await planMeeting(page, 3);
  await page.getByTestId('meeting-list').getByRole('link').first().waitFor();
  await page.getByTestId('meeting-list').getByRole('link').first().click();
  await page.getByRole('button', { name: 'Add an item' }).waitFor();
  await addPatientItem(page, { nhs: '9990000026', name: 'Bertie Example' });
  await waitAllSent(page);
  await page.getByRole('link', { name: 'Back to the team' }).click();

  // The calendar from the team page: the meeting on its day, in the month it falls in.
  await page.getByRole('link', { name: 'Calendar', exact: true }).click();
  // UK dates: the meeting's (planned three days ahead) and today's.
  const day = dateParts(isoDateFromToday(3));
  const monthTitle = (d) => `${d.month} ${d.year}`;
  const title = page.getByTestId('calendar-month');
  const thisMonth = monthTitle(dateParts(isoDateFromToday(0)));
  await title.filter({ hasText: thisMonth }).waitFor();
  if (monthTitle(day) !== thisMonth) await page.getByRole('button', { name: 'Next month' }).click();
  const cell = page.getByTestId('calendar-grid').locator('td', { hasText: `${day.day} ${day.month}` });
  await cell.getByRole('link', { name: /13:00 meeting/ }).waitFor();
  await page.getByText(/1 meeting planned this month/).waitFor();
  // Page Down and Page Up move a month, from anywhere on the page; the title says where.
  await page.getByRole('button', { name: 'Next month' }).focus();
  await page.keyboard.press('PageDown');
  await title.filter({ hasNotText: monthTitle(day) }).waitFor();
  await page.keyboard.press('PageUp');
  await title.filter({ hasText: monthTitle(day) }).waitFor();
  // On a phone the grid gives way to a list of the days with meetings.
  await page.setViewportSize({ width: 320, height: 700 });
  assert.equal(await page.getByTestId('calendar-grid').isVisible(), false);
  await page.getByTestId('calendar-list').getByRole('link', { name: /13:00 meeting/ }).waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scroll at 320 px');
  await page.screenshot({ path: screenshotPath('phone-320-calendar-list.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  // The keyboard reaches the meeting: tab to its link and open it.
  const link = page.getByTestId('calendar-grid').getByRole('link', { name: /13:00 meeting/ });
  await link.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/meetings\/[^/]+$/);

  // Search, from the navigation: an NHS number however it is spaced, a role, an organisation.
  await page.getByRole('link', { name: 'Search', exact: true }).click();
  const box = page.getByLabel('Search for a person, organisation or patient');
  await box.fill('999 000 0026');
  await page.getByTestId('search-patients').getByRole('link', { name: /Bertie Example \(NHS 999 000 0026/ }).waitFor();
  await box.fill('9990000026');
  await page.getByTestId('search-patients').getByText('Aspen MDT').waitFor();
  await box.fill('social worker');
  await page.getByTestId('search-people').getByText('Sol Worker').waitFor();
  await box.fill('no such person anywhere');
  await page.getByTestId('search-nothing').waitFor();
  await box.fill('bertie');
  await page.getByTestId('search-patients').getByRole('link').click();
  await page.getByRole('heading', { name: /Bertie Example/ }).waitFor();
  assert.deepEqual(page.errors, []);
  await pat.context.close();
});

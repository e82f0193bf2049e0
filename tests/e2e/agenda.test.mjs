// End-to-end: building an agenda, writing a brief (surviving a reload mid-typing), marking it
// ready, a colleague reading it (read receipt on the readiness panel), and the printable pack.
// Synthetic patients only: NHS numbers in the 999 test range.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fillDateOfBirth, isoDateFromToday, launchBrowser, screenshotPath, session, signIn, startServer, waitAllSent } from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await startServer([
    ['pat.coordinator@example.nhs.net', 'Pat Coordinator', 'practice_manager'],
    ['sol.worker@example.gov.uk', 'Sol Worker', 'social_worker'],
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function addPatientItem(page, { nhs, name, dob, reason, question, minutes, mustAttend }) {
  await page.getByRole('button', { name: /^Add an item$|^Add a late item$/ }).click();
  await page.getByLabel('Type of item').selectOption({ label: 'Patient discussion' });
  await page.getByLabel('Patient', { exact: true }).selectOption({ label: 'Someone not on the list yet' });
  await page.getByLabel('NHS number').fill(nhs);
  await page.getByLabel('Full name').fill(name);
  await fillDateOfBirth(page, dob);
  await page.getByLabel('Reason for discussion').fill(reason);
  await page.getByLabel('Question for the MDT').fill(question);
  if (mustAttend) await page.getByRole('group', { name: 'Who must be there' }).getByLabel(mustAttend).check();
  await page.getByLabel('Minutes').fill(String(minutes));
  await page.getByRole('button', { name: 'Add to agenda' }).click();
}

const headings = (page) => page.getByTestId('agenda-item').locator('h3').allInnerTexts();

test('a coordinator builds an agenda, a brief survives a reload mid-typing, and a colleague reading it shows on the readiness panel', async () => {
  const { baseUrl } = server;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');

  // A team with a colleague found by email, and a meeting three weeks ahead.
  await page.getByRole('button', { name: 'Create a team' }).click();
  await page.getByLabel('Team name').fill('Brook MDT');
  await page.getByLabel('Add a colleague who already uses the app').fill('sol.worker@example.gov.uk');
  await page.getByRole('button', { name: 'Find and add' }).click();
  await page.getByLabel('Sol Worker').waitFor();
  assert.ok(await page.getByLabel('Sol Worker').isChecked());
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('heading', { name: 'Brook MDT' }).waitFor();
  await page.getByRole('button', { name: 'Plan a meeting' }).click();
  await page.getByLabel('Date').fill(isoDateFromToday(21));
  await page.getByLabel('Starts (UK time)').fill('13:00');
  await page.getByLabel('Ends (UK time)').fill('14:30');
  await page.getByRole('button', { name: 'Add meeting' }).click();
  await page.getByTestId('meeting-list').getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Agenda' }).waitFor();

  // A mistyped NHS number is refused in plain words, and what was typed stays.
  await addPatientItem(page, { nhs: '999 000 0019', name: 'Ada Synthetic', dob: '1938-04-12', reason: 'Two falls', question: 'Care package review?', minutes: 20 });
  await page.getByRole('alert').filter({ hasText: 'This is not a valid NHS number' }).waitFor();
  assert.equal(await page.getByLabel('Full name').inputValue(), 'Ada Synthetic');
  await page.getByLabel('NHS number').fill('999 000 0018');
  await page.getByRole('group', { name: 'Who must be there' }).getByLabel('Sol Worker').check();
  await page.getByRole('button', { name: 'Add to agenda' }).click();
  await page.getByTestId('agenda-item').filter({ hasText: 'Ada Synthetic (NHS 999 000 0018, born 12 Apr 1938)' }).waitFor();

  await page.getByRole('button', { name: 'Add an item' }).click();
  await page.getByLabel('Type of item').selectOption({ label: 'Standing item' });
  await page.getByLabel('Title').fill('Safeguarding updates');
  await page.getByLabel('Minutes').fill('10');
  await page.getByRole('button', { name: 'Add to agenda' }).click();
  await page.getByTestId('agenda-item').filter({ hasText: 'Safeguarding updates' }).waitFor();

  await addPatientItem(page, { nhs: '9990000026', name: 'Bertie Example', dob: '1951-09-30', reason: 'Leg ulcer not healing', question: 'Joint visit?', minutes: 15 });
  await page.getByTestId('agenda-item').filter({ hasText: 'Bertie Example' }).waitFor();
  assert.equal(await page.getByTestId('agenda-item').count(), 3);
  await page.getByTestId('agenda-total').filter({ hasText: '45 minutes of 90 minutes planned' }).waitFor();

  // Reorder from the keyboard: Bertie moves above the standing item.
  // Move up and down are offered once asked for (a line otherwise shows its brief, its
  // outcome and "More": issue 15, problem 9).
  const moveUps = page.getByTestId('agenda-list').locator('button[data-action=move-up]');
  assert.equal(await moveUps.count(), 3);
  assert.equal(await moveUps.first().isVisible(), false);
  await page.getByRole('button', { name: 'Change the order' }).click();
  await page.getByRole('button', { name: 'Move up: Bertie Example (NHS 999 000 0026, born 30 Sep 1951)' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=agenda-item] h3')[1]?.textContent.includes('Bertie'));
  // The keyboard stays on the moved item's Move up.
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label')?.startsWith('Move up: Bertie Example'), null, { timeout: 5000 });
  const order = await headings(page);
  assert.ok(order[0].includes('Ada') && order[1].includes('Bertie') && order[2].includes('Safeguarding'), order.join(' | '));
  await page.getByTestId('agenda-item').first().getByText('13:00–13:20').waitFor();
  await page.getByTestId('agenda-item').nth(1).getByText('13:20–13:35').waitFor();

  // Write Ada's brief; reload in the middle of typing; the text is still there.
  await page.getByRole('link', { name: /Write the brief for Ada Synthetic/ }).click();
  const situation = page.getByLabel('Situation (required)');
  await situation.click();
  await page.keyboard.type('Lives alone; fell twice in three weeks and waited two hours on the floor.');
  // The typing is on the device (encrypted) as it is typed; a reload then loses nothing.
  const typed = 'Lives alone; fell twice in three weeks and waited two hours on the floor.';
  await page.locator(`[data-testid=save-state][data-kept-chars="${typed.length}"]`).waitFor({ state: 'attached' });
  await page.reload();
  await page.getByLabel('Situation (required)').waitFor();
  assert.equal(await page.getByLabel('Situation (required)').inputValue(), 'Lives alone; fell twice in three weeks and waited two hours on the floor.');
  await page.getByTestId('brief-note').filter({ hasText: 'We restored what you typed' }).waitFor();

  // Marking it ready needs the request and the consent answer.
  await page.getByRole('button', { name: 'Mark as ready' }).click();
  await page.getByRole('alert').filter({ hasText: 'Say what you are asking the MDT' }).waitFor();
  await page.getByLabel('Request (required)').fill('Agree an urgent care package review; who leads?');
  await page.getByLabel('Yes').check();
  await page.getByRole('button', { name: 'Mark as ready' }).click();
  await page.getByTestId('brief-status').filter({ hasText: 'Ready' }).waitFor();
  await waitAllSent(page);

  // Sol opens it in her own session: that records her reading.
  const sol = await session(browser);
  await signIn(sol.page, baseUrl, 'sol.worker@example.gov.uk');
  await sol.page.getByRole('link', { name: 'Brook MDT', exact: true }).click();
  await sol.page.getByTestId('meeting-list').getByRole('link').first().click();
  await sol.page.getByRole('link', { name: /Open the brief for Ada Synthetic/ }).click();
  await sol.page.getByLabel('Situation (required)').waitFor();
  assert.equal(await sol.page.getByLabel('Situation (required)').inputValue(), 'Lives alone; fell twice in three weeks and waited two hours on the floor.');
  await waitAllSent(sol.page);

  // Pat's readiness panel shows the receipt once the next pull brings it.
  await page.getByRole('link', { name: 'Back to the agenda' }).first().click();
  // A page is shown once its code is loaded (pages load lazily): the address changes then.
  await page.waitForURL(/\/meetings\/[^/]+$/);
  await page.reload();
  await page.getByTestId('readiness').getByText('Each brief: who writes it and who has read it').click();
  const adaRow = page.getByTestId('readiness-row').filter({ hasText: 'Ada Synthetic' });
  await adaRow.getByText('Sol Worker ✓').waitFor();
  await page.getByTestId('readiness-count').filter({ hasText: '1 of 2 briefs ready' }).waitFor();
  // "On this page" takes the view and the keyboard to each section of the long page.
  const onThisPage = page.getByRole('navigation', { name: 'On this page' });
  for (const [link, heading] of [['Readiness', 'readiness-title'], ['Agenda', 'agenda'], ['Who is coming', 'attendance-title']]) {
    await onThisPage.getByRole('link', { name: link, exact: true }).click();
    await page.waitForFunction((id) => document.activeElement?.id === id, heading);
  }
  await page.screenshot({ path: screenshotPath('agenda-readiness.png'), fullPage: true });

  // The print view: one patient a page, identifiers on each; saved as a PDF too.
  await page.getByRole('link', { name: 'Brief pack to print' }).click();
  await page.getByTestId('brief-pack').waitFor();
  assert.equal(await page.getByTestId('pack-patient').count(), 2);
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: screenshotPath('brief-pack-print.png'), fullPage: true });
  await page.pdf({ path: screenshotPath('brief-pack.pdf'), format: 'A4' });
  assert.deepEqual([...page.errors, ...sol.page.errors], []);
  await sol.context.close();
  await pat.context.close();
});

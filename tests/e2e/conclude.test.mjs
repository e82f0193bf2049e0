// End-to-end: when a meeting is run and concluded (issue 26), against a real SMTP server. A
// meeting still to come offers its coordinator neither "Run the meeting" nor "Conclude the
// meeting"; today's meeting, once started, is run, given its outcome and concluded, and
// concluding sends no cancellation (it used to email everyone "Cancelled: …" with a
// METHOD:CANCEL calendar file, removing a held meeting from their calendars). Cancelling the
// meeting to come afterwards sends exactly one cancellation to each invitee, for that meeting
// only. Synthetic people and patients only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  COLLEAGUES,
  STARTED_TODAY,
  addPatientItem,
  createTeam,
  dateText,
  explained,
  isoDateFromToday,
  planMeeting,
  screenshotPath,
  session,
  signIn,
  useServerAndBrowser,
  waitAllSent,
  waitForMail,
} from './helpers.mjs';

const env = useServerAndBrowser(before, after, COLLEAGUES);

const INVITED = COLLEAGUES.map(([email]) => email).sort();
const to = (email, subject) => (m) => m.envelope_to.includes(email) && m.subject.startsWith(subject);
const meetingId = (page) => new URL(page.url()).pathname.split('/').pop();
const calendarOf = (id) => (m) => (m.calendar ?? '').includes(`UID:meeting-${id}@mdt`);

test('a meeting to come can be neither run nor concluded; a started one is, and concluding it cancels nobody\'s calendar', async () => {
  const { baseUrl, browser, mail } = env;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Beech MDT', { emails: ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net'] });

  // A meeting in three days (everyone is invited), and today's, which has started.
  const ahead = isoDateFromToday(3);
  const today = isoDateFromToday(0);
  await planMeeting(page, 3);
  await planMeeting(page, 0, STARTED_TODAY);
  const rows = page.getByTestId('meeting-list').locator('tbody tr');
  await rows.nth(1).waitFor();
  assert.match(await rows.nth(0).innerText(), new RegExp(`^${dateText(today, '00:00')}–00:30`));
  assert.match(await rows.nth(1).innerText(), new RegExp(`^${dateText(ahead, '13:00')}–14:30`));
  await waitAllSent(page);
  for (const email of INVITED) await waitForMail(mail, to(email, `Invitation: Beech MDT meeting, ${dateText(ahead, '13:00')}`));

  // The meeting to come: its page is shown in full (an item can be added; the agenda is open),
  // and there is nothing to run or conclude yet.
  await rows.nth(1).getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: `Beech MDT — ${dateText(ahead, '13:00')}` }).waitFor();
  await page.getByRole('button', { name: 'Add an item', exact: true }).waitFor();
  const aheadId = meetingId(page);
  assert.equal(await page.getByRole('button', { name: 'Run the meeting' }).count(), 0, 'no timer before the meeting\'s day');
  assert.equal(await page.getByRole('button', { name: 'Conclude the meeting' }).count(), 0, 'nothing to conclude before the start');
  await page.screenshot({ path: screenshotPath('meeting-to-come-coordinator.png'), fullPage: true });

  // Today's meeting, started: run, given its outcome, concluded.
  await page.getByRole('link', { name: 'Back to the team' }).click();
  await rows.nth(0).getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: `Beech MDT — ${dateText(today, '00:00')}` }).waitFor();
  const todayId = meetingId(page);
  await explained(page, 'started-meeting-controls', async () => {
    await page.getByRole('button', { name: 'Run the meeting' }).waitFor();
    await page.getByRole('button', { name: 'Conclude the meeting' }).waitFor();
  });
  await addPatientItem(page, { nhs: '9990000018', name: 'Ada Synthetic' });
  await page.getByRole('button', { name: 'Run the meeting' }).click();
  await page.getByTestId('now-discussing').getByText('Ada Synthetic').waitFor();
  await page.getByRole('button', { name: /Record the outcome for Ada Synthetic/ }).click();
  await page.getByLabel('No action needed', { exact: true }).check();
  await page.getByLabel('Why no action is needed').fill('Stable at home');
  await page.getByRole('button', { name: 'Save outcome' }).click();
  await page.getByTestId('agenda-item').filter({ hasText: 'Ada Synthetic' }).getByTestId('outcome').waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Conclude the meeting' }).click();
  await explained(page, 'concluded', () => page.getByText('This meeting is concluded').waitFor());
  await page.getByTestId('now-discussing').waitFor({ state: 'detached' });
  await waitAllSent(page);
  // The server has it: a fresh load shows it concluded.
  await page.reload();
  await page.getByText('This meeting is concluded').waitFor();

  // Then the meeting to come is called off from the team's list: its cancellation is queued
  // after anything the conclusion queued, and the outbox sends in the order it was queued.
  await page.getByRole('link', { name: 'Back to the team' }).click();
  await rows.nth(1).getByRole('button', { name: 'Cancel meeting' }).waitFor();
  const asked = new Promise((resolve) => page.once('dialog', (d) => { resolve(d.message()); d.accept(); }));
  await rows.nth(1).getByRole('button', { name: 'Cancel meeting' }).click();
  assert.equal(await asked, `Cancel the meeting on ${dateText(ahead, '13:00')}?`);
  await rows.nth(1).getByText('Cancelled').waitFor();
  await rows.nth(0).getByText('Closed').waitFor();
  await waitAllSent(page);
  const cancelled = `Cancelled: Beech MDT meeting, ${dateText(ahead, '13:00')}`;
  for (const email of INVITED) await waitForMail(mail, to(email, cancelled));
  // And one more message after those (a meeting planned next week), so that a second
  // cancellation, had one been queued, has had its turn too.
  await planMeeting(page, 7);
  for (const email of INVITED) await waitForMail(mail, to(email, `Invitation: Beech MDT meeting, ${dateText(isoDateFromToday(7), '13:00')}`));

  const messages = mail.messages();
  const cancellations = messages.filter((m) => m.subject.startsWith('Cancelled:'));
  assert.deepEqual(
    cancellations.map((m) => `${m.envelope_to.join(',')} ${m.subject}`).sort(),
    INVITED.map((email) => `${email} ${cancelled}`),
    'one cancellation to each invitee, for the meeting called off only',
  );
  for (const m of cancellations) {
    assert.match(m.calendar ?? '', /METHOD:CANCEL\r?\n/, m.subject);
    assert.ok(calendarOf(aheadId)(m), `the cancellation removes the meeting called off: ${m.calendar}`);
  }
  const calendarCancels = messages.filter((m) => /METHOD:CANCEL/.test(m.calendar ?? ''));
  assert.equal(calendarCancels.length, INVITED.length, calendarCancels.map((m) => m.subject).join(' | '));
  const aboutConcluded = messages.filter(calendarOf(todayId));
  assert.deepEqual(aboutConcluded.filter((m) => /METHOD:CANCEL/.test(m.calendar)).map((m) => m.subject), [], 'no calendar file cancels the concluded meeting');
  assert.deepEqual(
    messages.filter((m) => m.subject.startsWith('Cancelled:') && m.subject.includes(dateText(today))).map((m) => m.subject),
    [],
    'no email says the concluded meeting is cancelled',
  );
  assert.deepEqual(page.errors, []);
  await pat.context.close();
});

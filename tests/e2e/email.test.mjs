// End-to-end: email (issue 17), against a real SMTP server on loopback. Pat plans a meeting and
// the team's invitations arrive with their calendar files; Gita, the only GP, answers "apologies"
// from her email in a browser where she is not signed in, and the link then refuses a replay;
// Pat is told at once that the meeting has lost its quorum and sees it in the app; Pat chases
// Sol's missing brief (once a day); Sol turns chases off in his email settings. A server
// without an SMTP server says email is off. Every message received is checked for patient data
// when the server stops (helpers.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  COLLEAGUES,
  addPatientItem,
  createTeam,
  launchBrowser,
  planMeeting,
  screenshotPath,
  session,
  signIn,
  startServer,
  useServerAndBrowser,
  waitAllSent,
  waitForMail,
} from './helpers.mjs';

const env = useServerAndBrowser(before, after, COLLEAGUES);

const to = (email, subject) => (m) => m.envelope_to.includes(email) && m.subject.startsWith(subject);

test('invitations arrive by email; a one-click apology needs no password and works once; the coordinator hears quorum is lost and chases a brief', async () => {
  const { baseUrl, browser, mail } = env;
  const pat = await session(browser);
  const page = pat.page;
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Elm MDT', {
    emails: ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net'],
    roles: ['GP'],
  });
  await planMeeting(page, 7);
  await page.getByTestId('meeting-list').getByRole('link').first().click();
  await page.getByRole('button', { name: 'Add an item' }).waitFor();
  const meetingPath = new URL(page.url()).pathname;

  // Everyone in the team is invited, with the calendar file and a link to the meeting.
  const invitation = await waitForMail(mail, to('gita.synthetic@example.nhs.net', 'Invitation: Elm MDT meeting'));
  for (const email of ['pat.coordinator@example.nhs.net', 'sol.worker@example.gov.uk']) {
    await waitForMail(mail, to(email, 'Invitation: Elm MDT meeting'));
  }
  assert.match(invitation.calendar, /METHOD:REQUEST/);
  assert.match(invitation.calendar, /SUMMARY:Elm MDT meeting/);
  assert.ok(invitation.text.includes(`${baseUrl}${meetingPath}`), invitation.text);
  assert.ok(invitation.text.includes(`${baseUrl}/settings/email`) || invitation.text.includes('coordinator'));

  // Sol puts a patient on the agenda: he writes the brief.
  const sol = await session(browser);
  await signIn(sol.page, baseUrl, 'sol.worker@example.gov.uk');
  await sol.page.goto(`${baseUrl}${meetingPath}`);
  await addPatientItem(sol.page, { nhs: '9990000018', name: 'Ada Synthetic' });
  await waitAllSent(sol.page);

  // Gita answers from her email, not signed in: the page says what it will record first.
  const visitor = await session(browser);
  const apologies = invitation.text.match(/Apologies: (\S+)/)[1];
  await visitor.page.goto(apologies);
  await visitor.page.getByText('I send my apologies: I cannot come').waitFor();
  await visitor.page.getByRole('button', { name: 'Record my answer' }).click();
  await visitor.page.getByRole('heading', { name: 'Your answer is recorded' }).waitFor();
  await visitor.page.getByRole('heading', { name: 'Can someone come in your place?' }).waitFor();
  await visitor.page.screenshot({ path: screenshotPath('email-answer-recorded.png'), fullPage: true });
  // The same link again changes nothing, and says so.
  await visitor.page.goto(apologies);
  await visitor.page.getByRole('heading', { name: 'This link has been used already' }).waitFor();
  // An altered link is refused plainly.
  await visitor.page.goto(apologies.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  await visitor.page.getByRole('heading', { name: 'This link does not work' }).waitFor();
  await visitor.context.close();

  // Pat is told at once, and the app shows it.
  const warning = await waitForMail(mail, to('pat.coordinator@example.nhs.net', 'Quorum lost: Elm MDT meeting'));
  assert.match(warning.text, /no longer has a GP/);
  await page.reload();
  await page.getByTestId('quorum-warning').filter({ hasText: 'GP' }).waitFor();

  // Pat chases Sol's brief; a second press the same day sends nothing and says so.
  const line = page.getByTestId('agenda-item').filter({ hasText: 'Ada Synthetic' });
  await line.locator('summary', { hasText: 'More' }).click();
  await line.getByRole('button', { name: 'Chase the brief by email' }).click();
  await page.getByTestId('chase-result').getByText('Sent: Sol Worker has been asked for the brief by email.').waitFor();
  const chase = await waitForMail(mail, to('sol.worker@example.gov.uk', 'Pat Coordinator asks for your brief (Elm MDT)'));
  assert.ok(chase.text.includes(`${baseUrl}/items/`), chase.text);
  await line.getByRole('button', { name: 'Chase the brief by email' }).click();
  await page.getByTestId('chase-result').getByText(/You chased Sol Worker about this today at \d\d:\d\d already/).waitFor();
  assert.equal(mail.messages().filter(to('sol.worker@example.gov.uk', 'Pat Coordinator asks')).length, 1);

  // Sol turns chases off, from the link in the header.
  await sol.page.getByRole('link', { name: 'Email settings' }).click();
  await sol.page.getByRole('heading', { name: 'Email settings' }).waitFor();
  await sol.page.getByLabel('Requests from your team\'s coordinator').uncheck();
  await sol.page.getByRole('button', { name: 'Save email settings' }).click();
  await sol.page.getByTestId('email-saved').waitFor();
  await sol.page.reload();
  await sol.page.getByRole('heading', { name: 'Email settings' }).waitFor();
  await sol.page.getByLabel('Reminders of briefs to write').waitFor();
  assert.equal(await sol.page.getByLabel('Requests from your team\'s coordinator').isChecked(), false);
  assert.equal(await sol.page.getByLabel('Reminders of briefs to write').isChecked(), true);
  assert.equal(await sol.page.getByTestId('email-off').count(), 0);
  await sol.page.screenshot({ path: screenshotPath('email-settings.png'), fullPage: true });
  assert.deepEqual(page.errors, []);
  assert.deepEqual(sol.page.errors, []);
});

test('a server without an SMTP server says email is off in the settings', async () => {
  const server = await startServer(COLLEAGUES, { mail: false });
  const browser = await launchBrowser();
  try {
    const { page } = await session(browser);
    await signIn(page, server.baseUrl, 'sol.worker@example.gov.uk');
    await page.getByRole('link', { name: 'Email settings' }).click();
    await page.getByTestId('email-off').filter({ hasText: 'This server sends no emails' }).waitFor();
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

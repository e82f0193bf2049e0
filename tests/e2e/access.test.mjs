// End-to-end: need-to-know access in the browser. A safeguarding-restricted item shows its
// content only to the people allowed to see it (the rest of the team sees that a restricted item
// is on the agenda); the coordinator lets one more person see it; an observer reads the agenda
// with no controls that change it. Synthetic people and patients only (999 NHS numbers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVERY_ROLE,
  createTeam,
  fillDateOfBirth,
  openTeamPage,
  planMeeting,
  screenshotPath,
  session,
  signIn,
  useServerAndBrowser,
  waitAllSent,
} from './helpers.mjs';

const env = useServerAndBrowser(before, after, EVERY_ROLE);

const SECRET = 'Bruising seen at a home visit';

test('a restricted item is seen only by the people it names, and an observer cannot change the agenda', async () => {
  const pat = await session(env.browser);
  await signIn(pat.page, env.baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(pat.page, 'Riverside MDT', {
    emails: ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net', 'olu.observer@example.nhs.net'],
  });
  // Olu observes rather than belongs.
  await openTeamPage(pat.page, 'Team details');
  await pat.page.getByTestId('member-checkboxes').getByLabel(/Olu Observer/).uncheck();
  const olu = await pat.page.locator('#observer-add option', { hasText: 'Olu Observer' }).getAttribute('value');
  await pat.page.selectOption('#observer-add', olu);
  await pat.page.getByRole('button', { name: 'Save team' }).click();
  await pat.page.getByText('Team saved.').waitFor();
  await openTeamPage(pat.page, 'Meetings');
  await planMeeting(pat.page, 14);
  await pat.page.getByTestId('meeting-list').getByRole('link').first().click();

  // An ordinary item, then a restricted one led by Sol.
  const addItem = async (name, nhs, reason, restricted) => {
    await pat.page.getByRole('button', { name: 'Add an item' }).click();
    await pat.page.getByLabel('Patient', { exact: true }).selectOption({ label: 'Someone not on the list yet' });
    await pat.page.getByLabel('NHS number').fill(nhs);
    await pat.page.getByLabel('Full name').fill(name);
    await fillDateOfBirth(pat.page, '1940-02-03');
    await pat.page.getByLabel('Reason for discussion').fill(reason);
    await pat.page.getByLabel('Question for the MDT').fill('What should happen next?');
    await pat.page.getByLabel('Lead professional').selectOption({ label: 'Sol Worker' });
    if (restricted) await pat.page.getByLabel('Safeguarding: restrict who can see this item').check();
    await pat.page.getByRole('button', { name: 'Add to agenda' }).click();
    await pat.page.getByTestId('agenda-item').filter({ hasText: name }).waitFor();
  };
  await addItem('Ada Synthetic', '9990000026', 'Two falls this month', false);
  await addItem('Ivy Synthetic', '9990000034', SECRET, true);
  const ivy = pat.page.getByTestId('agenda-item').filter({ hasText: 'Ivy Synthetic' });
  await ivy.getByTestId('restricted').waitFor();
  assert.match(await ivy.innerText(), /Seen only by\s+Pat Coordinator, Sol Worker/);
  await waitAllSent(pat.page);
  const meetingUrl = pat.page.url();

  // The brief pack leaves the restricted item out unless Pat, who may see it, asks for it; a
  // restricted sheet is then marked on every printed page (issue 15, problem 7).
  await pat.page.getByRole('link', { name: 'Brief pack to print' }).click();
  const pack = pat.page.getByTestId('brief-pack');
  await pack.waitFor();
  assert.equal(await pat.page.getByTestId('pack-patient').count(), 1);
  const packText = await pack.innerText();
  assert.ok(packText.includes('Ada Synthetic') && packText.includes('Restricted: left out of this pack'), packText);
  assert.ok(!packText.includes('Ivy Synthetic') && !packText.includes(SECRET), packText);
  await pat.page.getByLabel('Include restricted (safeguarding) items').check();
  const ivySheet = pat.page.getByTestId('pack-patient').filter({ hasText: 'Ivy Synthetic' });
  await ivySheet.getByTestId('pack-restricted').waitFor();
  assert.match(await ivySheet.locator('thead').innerText(), /^RESTRICTED \(safeguarding\) · Ivy Synthetic/);
  await pat.page.emulateMedia({ media: 'print' });
  assert.ok(await ivySheet.getByTestId('pack-restricted').isVisible(), 'the mark stays in print');
  await pat.page.screenshot({ path: screenshotPath('brief-pack-restricted-print.png'), fullPage: true });
  await pat.page.emulateMedia({ media: 'screen' });
  await pat.page.goto(meetingUrl);
  await pat.page.getByTestId('agenda-item').filter({ hasText: 'Ivy Synthetic' }).waitFor();

  // Gita is in the team but not allowed: she sees a restricted item of the same length, and
  // nothing of who it is about or why.
  const gita = await session(env.browser);
  await signIn(gita.page, env.baseUrl, 'gita.synthetic@example.nhs.net');
  await gita.page.goto(meetingUrl);
  const withheld = gita.page.locator('[data-testid="agenda-item"][data-withheld="true"]');
  await withheld.waitFor();
  assert.match(await withheld.innerText(), /Restricted item \(safeguarding\)/);
  const gitaAgenda = await gita.page.getByTestId('agenda-list').innerText();
  assert.ok(gitaAgenda.includes('Ada Synthetic'), 'the ordinary item is there');
  assert.ok(!gitaAgenda.includes('Ivy Synthetic') && !gitaAgenda.includes(SECRET), gitaAgenda);
  assert.equal(await withheld.getByRole('button', { name: /Record the outcome|Remove/ }).count(), 0);
  const itemHref = await ivy.getByRole('link', { name: /brief/ }).getAttribute('href');
  await gita.page.goto(`${env.baseUrl}${itemHref}`);
  await gita.page.getByTestId('brief-restricted').waitFor();
  await gita.page.screenshot({ path: screenshotPath('access-withheld-brief.png'), fullPage: true });

  // Pat lets Gita see it; on her next visit she does.
  await ivy.getByLabel('Let someone else see it').selectOption({ label: 'Dr Gita Synthetic' });
  await ivy.getByRole('button', { name: 'Allow' }).click();
  await ivy.getByRole('button', { name: 'Remove Dr Gita Synthetic from who can see this item' }).waitFor();
  await waitAllSent(pat.page);
  await gita.page.goto(meetingUrl);
  const gitaIvy = gita.page.getByTestId('agenda-item').filter({ hasText: 'Ivy Synthetic' });
  await gitaIvy.waitFor();
  assert.ok((await gitaIvy.innerText()).includes(SECRET));

  // Olu observes: he reads the agenda, sees the restricted item only as withheld, and is shown
  // nothing that would change it.
  const oluSession = await session(env.browser);
  await signIn(oluSession.page, env.baseUrl, 'olu.observer@example.nhs.net');
  await oluSession.page.goto(meetingUrl);
  await oluSession.page.getByTestId('read-only').waitFor();
  await oluSession.page.locator('[data-testid="agenda-item"][data-withheld="true"]').waitFor();
  const oluAgenda = await oluSession.page.getByTestId('agenda-list').innerText();
  assert.ok(oluAgenda.includes('Ada Synthetic') && !oluAgenda.includes(SECRET));
  for (const name of [/Move up/, /Move down/, /Record the outcome/, /^Remove$/, /Add an item/]) {
    assert.equal(await oluSession.page.getByRole('button', { name }).count(), 0, `${name} shown to an observer`);
  }
  // Ada's brief opens read-only.
  await oluSession.page.getByRole('link', { name: /brief for Ada Synthetic/ }).click();
  await oluSession.page.getByTestId('read-only').waitFor();
  assert.ok(await oluSession.page.getByLabel(/Situation/).isDisabled());
  assert.equal(await oluSession.page.getByRole('button', { name: 'Mark as ready' }).count(), 0);
  await oluSession.page.screenshot({ path: screenshotPath('access-observer-brief.png'), fullPage: true });

  for (const s of [pat, gita, oluSession]) {
    assert.deepEqual(s.page.errors, []);
    assert.deepEqual(s.page.cspViolations, []);
    await s.context.close();
  }
});

test('a site administrator adds and disables accounts and sees no patients', async () => {
  const sam = await session(env.browser);
  await signIn(sam.page, env.baseUrl, 'sam.admin@example.nhs.net');
  // In no team: no patients anywhere; the Accounts page is in the menu.
  assert.ok(!(await sam.page.locator('main').innerText()).includes('Riverside'));
  await sam.page.getByRole('link', { name: 'Accounts' }).click();
  const table = sam.page.getByTestId('accounts');
  await table.waitFor();
  assert.match(await table.innerText(), /Olu Observer\s+olu.observer@example.nhs.net/);

  // A weak first password is refused in plain words; a good one works.
  await sam.page.getByLabel('Full name').fill('Nia Nurse');
  await sam.page.getByLabel('Email address').fill('nia.nurse@example.nhs.net');
  await sam.page.getByLabel('Role').selectOption({ label: 'District nurse' });
  await sam.page.getByLabel('First password').fill('password1234');
  await sam.page.getByRole('button', { name: 'Add account' }).click();
  await sam.page.getByRole('alert').filter({ hasText: 'common' }).waitFor();
  await sam.page.getByLabel('First password').fill('nia-synthetic-first-pass');
  await sam.page.getByRole('button', { name: 'Add account' }).click();
  await sam.page.getByTestId('accounts-notice').filter({ hasText: 'Added Nia Nurse' }).waitFor();
  await table.getByText('nia.nurse@example.nhs.net').waitFor();

  // Olu is signed in elsewhere; disabling him ends his session at once.
  const olu = await session(env.browser);
  await signIn(olu.page, env.baseUrl, 'olu.observer@example.nhs.net');
  sam.page.once('dialog', (d) => d.accept());
  await sam.page.getByRole('button', { name: 'Disable Olu Observer' }).click();
  await sam.page.getByTestId('accounts-notice').filter({ hasText: 'Olu Observer can no longer sign in' }).waitFor();
  await table.getByRole('row').filter({ hasText: 'Olu Observer' }).getByText('Disabled').waitFor();
  const status = await olu.page.evaluate(async () => (await fetch('/api/session')).status);
  assert.equal(status, 401);
  await sam.page.screenshot({ path: screenshotPath('accounts.png'), fullPage: true });
  for (const s of [sam, olu]) {
    assert.deepEqual(s.page.errors, []);
    assert.deepEqual(s.page.cspViolations, []);
    await s.context.close();
  }
});

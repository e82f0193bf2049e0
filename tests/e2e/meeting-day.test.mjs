// End-to-end: the meeting day's rough edges (issue 29). Each test here failed on the code
// before the issue: a failed "Save outcome" while running the meeting showed its problems above
// the top of the screen, unlinked, with the keyboard left on the button; the sign-in page's
// problems linked to nothing; "Add an item" told one problem at a time; a person from another
// team, or a site administrator, opening a team's pages got empty pages with working-looking
// controls; an action card showed "Mark done" and "Mark as done" together; header links nearly
// vanished under the pointer. Synthetic people and patients only (NHS numbers in the 999 range).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESKTOP,
  EVERY_ROLE,
  STARTED_TODAY,
  addPatientItem,
  openTeamPage,
  waitForMail,
  createTeam,
  fillDateOfBirth,
  axeFaults,
  explained,
  planMeeting,
  session,
  signIn,
  useServerAndBrowser,
  waitAllSent,
} from './helpers.mjs';

const env = useServerAndBrowser(before, after, EVERY_ROLE);

/** What the browser sees of the focused element and of the error summary. */
function focusAndSummary(page) {
  return page.evaluate(() => {
    const summary = document.querySelector('[data-testid="problem-summary"]');
    const panel = document.querySelector('[data-testid="now-discussing"]');
    const box = summary?.getBoundingClientRect();
    const covers = panel?.getBoundingClientRect();
    return {
      focused: document.activeElement === summary,
      top: box?.top,
      bottom: box?.bottom,
      viewport: window.innerHeight,
      // The sticky panel, when it sticks at the top of the screen.
      panelBottom: covers && Math.abs(covers.top) < 1 ? covers.bottom : 0,
    };
  });
}

/** Pat's team (Sol and Gita members) and today's started meeting with three patients. */
let shared = null;
async function teamWithTodaysMeeting(browser, baseUrl) {
  if (shared) return shared;
  const pat = await session(browser);
  const page = pat.page;
  await page.setViewportSize(DESKTOP);
  await signIn(page, baseUrl, 'pat.coordinator@example.nhs.net');
  await createTeam(page, 'Hawthorn MDT', { emails: ['sol.worker@example.gov.uk', 'gita.synthetic@example.nhs.net'] });
  const teamPath = new URL(page.url()).pathname;
  await planMeeting(page, 0, STARTED_TODAY);
  await page.getByTestId('meeting-list').getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Agenda', exact: true }).waitFor();
  const meetingPath = new URL(page.url()).pathname;
  await addPatientItem(page, { nhs: '9990000018', name: 'Ada Synthetic' });
  await addPatientItem(page, { nhs: '9990000026', name: 'Bertie Example' });
  await addPatientItem(page, { nhs: '9990000034', name: 'Cora Placeholder' });
  const patientPath = await page.getByTestId('agenda-item').filter({ hasText: 'Ada Synthetic' })
    .getByRole('link', { name: 'Ada Synthetic' }).first().getAttribute('href');
  // And a meeting a week ahead.
  await page.goto(`${baseUrl}${teamPath}`);
  await planMeeting(page, 7);
  await page.getByTestId('meeting-list').locator('tbody tr').nth(1).getByRole('link').click();
  await page.getByRole('heading', { name: 'Agenda', exact: true }).waitFor();
  const aheadPath = new URL(page.url()).pathname;
  // (Today's open items are carried onto it; Eve is new, with Sol to write her brief.)
  await page.getByRole('button', { name: 'Add an item', exact: true }).click();
  await page.getByLabel('Patient', { exact: true }).selectOption({ label: 'Someone not on the list yet' });
  await page.getByLabel('NHS number').fill('9990000042');
  await page.getByLabel('Full name').fill('Eve Synthetic');
  await fillDateOfBirth(page, '1941-03-02');
  await page.getByLabel('Reason for discussion').fill('Two falls');
  await page.getByLabel('Question for the MDT').fill('Care package review?');
  await page.getByLabel('Lead professional').selectOption({ label: 'Sol Worker' });
  await page.getByRole('button', { name: 'Add to agenda' }).click();
  await page.getByTestId('agenda-item').filter({ hasText: 'Eve Synthetic' }).waitFor();
  await waitAllSent(page);
  await page.goto(`${baseUrl}${meetingPath}`);
  await page.getByRole('heading', { name: 'Agenda', exact: true }).waitFor();
  shared = { pat, page, teamPath, meetingPath, aheadPath, patientPath };
  return shared;
}

test('running the meeting, a failed "Save outcome" shows every problem in view, linked to its field, with the keyboard on it', async () => {
  const { page } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  await explained(page, 'outcome-problems', async () => {
    await page.getByRole('button', { name: 'Run the meeting' }).click();
    await page.getByTestId('now-discussing').waitFor();
    // The last patient: the page is scrolled well down, under the sticky panel.
    await page.getByRole('button', { name: /Record the outcome for Cora Placeholder/ }).click();
    await page.getByLabel('Decision', { exact: true }).check();
    await page.getByRole('button', { name: 'Save outcome' }).click();

    const summary = page.getByTestId('problem-summary');
    await summary.waitFor();
    // Every problem at once: the decision's words, and the action's what, owner (its due date
    // has a default).
    const links = summary.getByRole('link');
    const texts = await links.allInnerTexts();
    assert.equal(texts.length, 3, `three problems, each a link: ${texts.join(' | ')}`);
    assert.ok(texts.some((t) => /decision/i.test(t)), texts.join(' | '));
    assert.ok(texts.some((t) => /Action 1: say what needs doing/.test(t)), texts.join(' | '));
    assert.ok(texts.some((t) => /Action 1: choose the one person who owns it/.test(t)), texts.join(' | '));
    // Seen at once: the summary has the keyboard and is on the screen, below the sticky panel.
    await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'problem-summary');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const seen = await focusAndSummary(page);
    assert.ok(seen.focused, 'the summary has the keyboard');
    assert.ok(seen.top >= seen.panelBottom - 1 && seen.top < seen.viewport, `the summary is in view and not under the panel: ${JSON.stringify(seen)}`);
    // Each field at fault is marked, its message read with it.
    const owner = page.getByLabel('Action 1: owner');
    assert.match(await owner.getAttribute('class'), /nhsuk-select--error/);
    const describedBy = await owner.getAttribute('aria-describedby');
    assert.match(await page.locator(`[id="${describedBy}"]`).innerText(), /choose the one person who owns it/);
    assert.ok(await page.getByTestId('outcome-form').locator('.nhsuk-form-group--error').count() >= 3);
    // A link takes the keyboard to its field.
    await links.filter({ hasText: 'choose the one person' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), await owner.getAttribute('id'));

    // Put right, it saves.
    await page.getByLabel('The decision').fill('Review the care package');
    await page.getByLabel('Action 1: what needs doing').fill('Ask for a care review');
    await owner.selectOption({ label: 'Sol Worker' });
    await page.getByRole('button', { name: 'Save outcome' }).click();
    await page.getByTestId('agenda-item').filter({ hasText: 'Cora Placeholder' }).getByTestId('outcome').waitFor();
    // An item for information has no time of its own: no slot or timer of nothing.
    await page.getByRole('button', { name: 'Stop running the meeting' }).click();
    await page.getByRole('button', { name: /^Add an item$|^Add a late item$/ }).click();
    await page.getByLabel('Type of item').selectOption({ label: 'For information' });
    await page.getByLabel('Title', { exact: true }).fill('Winter pressures update');
    await page.getByRole('button', { name: 'Add to agenda' }).click();
    await page.getByTestId('agenda-item').filter({ hasText: 'Winter pressures update' }).waitFor();
    await page.getByRole('button', { name: 'Run the meeting' }).click();
    const now = page.getByTestId('now-discussing');
    for (let i = 0; i < 6 && !(await now.innerText()).includes('Winter pressures update'); i++) {
      await page.getByRole('button', { name: 'Next item' }).click();
    }
    const panel = await now.innerText();
    assert.match(panel, /for information: no time set/);
    assert.doesNotMatch(panel, /0:00 of 0:00|slot (\d\d:\d\d)–\1/);
    await page.getByRole('button', { name: 'Stop running the meeting' }).click();
  });
});

test('"Add an item" reports a wrong NHS number and an impossible date of birth together, each linked', async () => {
  const { page, meetingPath } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  await page.goto(`${env.baseUrl}${meetingPath}`);
  await page.getByRole('button', { name: /^Add an item$|^Add a late item$/ }).click();
  await page.getByLabel('Patient', { exact: true }).selectOption({ label: 'Someone not on the list yet' });
  await page.getByLabel('NHS number').fill('9990000017'); // a wrong check digit
  await page.getByLabel('Full name').fill('Dora Synthetic');
  const born = page.getByRole('group', { name: 'Date of birth' });
  await born.getByLabel('Day').fill('31');
  await born.getByLabel('Month').fill('2');
  await born.getByLabel('Year').fill('1944');
  await page.getByRole('button', { name: 'Add to agenda' }).click();
  const summary = page.getByTestId('problem-summary');
  await summary.waitFor();
  const texts = await summary.getByRole('link').allInnerTexts();
  assert.ok(texts.some((t) => /NHS number/i.test(t)), texts.join(' | '));
  assert.ok(texts.some((t) => /date of birth|real date/i.test(t)), texts.join(' | '));
  assert.ok(texts.some((t) => /reason/i.test(t)), `the empty reason too: ${texts.join(' | ')}`);
  await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'problem-summary');
  // What was typed stays.
  assert.equal(await page.getByLabel('NHS number').inputValue(), '9990000017');
  assert.equal(await born.getByLabel('Day').inputValue(), '31');
});

test("the sign-in page's problems link to their fields and mark them", async () => {
  const visitor = await session(env.browser);
  const page = visitor.page;
  await page.goto(`${env.baseUrl}/`);
  await page.getByLabel('Email address').waitFor();
  await page.getByRole('button', { name: 'Sign in' }).click();
  const summary = page.getByTestId('problem-summary');
  await summary.waitFor();
  assert.deepEqual(await summary.getByRole('link').allInnerTexts(), ['Enter your email address', 'Enter your password']);
  await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'problem-summary');
  await summary.getByRole('link', { name: 'Enter your password' }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
  assert.match(await page.locator('#email').getAttribute('class'), /nhsuk-input--error/);

  // A wrong password: the server's words, linked to the email address, where one starts again.
  await page.getByLabel('Email address').fill('sol.worker@example.gov.uk');
  await page.getByLabel('Password').fill('not-the-password-at-all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await summary.getByRole('link', { name: /email address or password is not right/ }).waitFor();
  await page.waitForFunction(() => document.activeElement?.dataset?.testid === 'problem-summary');
  assert.equal(await page.getByLabel('Email address').inputValue(), 'sol.worker@example.gov.uk', 'what was typed stays');
  await visitor.context.close();
});

test("someone from another team and a site administrator are told plainly they cannot open a team's pages", async () => {
  const { teamPath, meetingPath, patientPath } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  const teamPages = ['', '/people', '/attendance', '/details', '/actions', '/calendar', '/measures', '/find-a-time'];
  for (const [email, words] of [
    ['olu.observer@example.nhs.net', /You cannot open this team: you are not one of its members or observers/],
    ['sam.admin@example.nhs.net', /You cannot open this team: as a site administrator you manage accounts/],
  ]) {
    const s = await session(env.browser);
    const page = s.page;
    await page.setViewportSize(DESKTOP);
    await signIn(page, env.baseUrl, email);
    await waitAllSent(page);
    for (const tail of teamPages) {
      await explained(page, `no-access${tail.replace('/', '-')}`, async () => {
        await page.goto(`${env.baseUrl}${teamPath}${tail}`);
        const notHere = page.getByTestId('not-available');
        await notHere.waitFor();
        assert.match(await notHere.innerText(), words, `${email} at ${teamPath}${tail}`);
        await notHere.getByRole('link', { name: 'Back to your teams' }).waitFor();
        // Nothing that looks as though it would work.
        assert.equal(await page.getByRole('button', { name: /Plan a meeting|Find times|Save team|Show these measures/ }).count(), 0, `${tail}: no controls`);
        assert.equal(await page.getByRole('link', { name: /CSV|Download/ }).count(), 0, `${tail}: no downloads`);
        assert.equal(await page.getByRole('navigation', { name: 'Team' }).count(), 0, `${tail}: no team navigation`);
      });
    }
    for (const path of [`${meetingPath}/pack`, `${meetingPath}/summaries`]) {
      await page.goto(`${env.baseUrl}${path}`);
      const notHere = page.getByTestId('not-available');
      await notHere.waitFor();
      assert.match(await notHere.innerText(), /You cannot open this meeting/);
      assert.equal(await page.getByRole('button', { name: /Print/ }).count(), 0, `${path}: no print button over nothing`);
    }
    await page.goto(`${env.baseUrl}${patientPath}`);
    await page.getByTestId('not-available').waitFor();
    assert.equal(await page.getByRole('heading', { name: /Who is doing what now|Timeline/ }).count(), 0, 'no empty patient sections');
    assert.deepEqual(page.errors, []);
    await s.context.close();
  }
});

test('an action card never shows "Mark done" and "Mark as done" together', async () => {
  const sol = await session(env.browser);
  const page = sol.page;
  await page.setViewportSize(DESKTOP);
  await teamWithTodaysMeeting(env.browser, env.baseUrl);
  await signIn(page, env.baseUrl, 'sol.worker@example.gov.uk');
  await page.getByRole('link', { name: 'My actions' }).click();
  const card = page.getByTestId('action-card').filter({ hasText: 'Ask for a care review' });
  await card.getByRole('button', { name: 'Accept' }).click();
  await card.getByRole('button', { name: 'Mark done' }).click();
  await card.getByLabel('What was done?').waitFor();
  assert.deepEqual(await card.getByRole('button', { name: /^Mark (as )?done$/ }).allInnerTexts(), ['Mark as done']);
  await card.getByRole('button', { name: 'Back' }).click();
  await card.getByRole('button', { name: 'Mark done' }).waitFor();
  await sol.context.close();
});

test('header links keep their contrast under the pointer and with the keyboard (axe-core)', async () => {
  const { page } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  await page.goto(`${env.baseUrl}/`);
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  const faults = [];
  const links = page.locator('.mdt-header a, .mdt-nav a');
  const count = await links.count();
  assert.ok(count >= 5, `${count} header links`);
  for (let i = 0; i < count; i++) {
    const link = links.nth(i);
    const name = (await link.innerText()).trim() || 'home';
    await link.hover();
    const hovered = await link.evaluate((a) => getComputedStyle(a).color);
    assert.equal(hovered, 'rgb(255, 255, 255)', `${name} stays white under the pointer`);
    faults.push(...(await axeFaults(page, `header, pointer on ${name}`)));
    await link.focus();
    faults.push(...(await axeFaults(page, `header, keyboard on ${name}`)));
    await page.mouse.move(0, 700);
  }
  assert.deepEqual(faults, [], faults.join('\n'));
});

test("a member's own part leads the meeting page on a phone; the coordinator's controls are the coordinator's", async () => {
  const { aheadPath, meetingPath } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  const sol = await session(env.browser);
  const page = sol.page;
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, env.baseUrl, 'sol.worker@example.gov.uk');
  await waitAllSent(page);
  await explained(page, 'member-first-screen', async () => {
    await page.goto(`${env.baseUrl}${aheadPath}`);
    const mine = page.getByTestId('my-part');
    await mine.waitFor();
    // Within the first screen: the answer and the brief Sol is to write.
    const answer = page.getByLabel('Your answer');
    const box = await answer.boundingBox();
    assert.ok(box && box.y + box.height <= 844, `the answer is on the first screen: ${JSON.stringify(box)}`);
    const write = mine.getByTestId('my-briefs-to-write');
    assert.match(await write.innerText(), /Eve Synthetic.*not started/);
    const writeBox = await write.boundingBox();
    assert.ok(writeBox.y + writeBox.height <= 844, `the brief to write is on the first screen: ${JSON.stringify(writeBox)}`);
    // A meeting still to come: whether one is coming, not whether one attended.
    const offered = await answer.locator('option').allInnerTexts();
    assert.deepEqual(offered, ['Not answered yet', 'Attending in person', 'Attending remotely', 'Apologies']);
    const ownRow = page.getByLabel('Answer for Sol Worker');
    assert.ok(!(await ownRow.locator('option').allInnerTexts()).some((o) => /Attended|Absent/.test(o)), 'nor in the table');
    // Answering at the top is the same answer as in the table.
    await answer.selectOption({ label: 'Attending remotely' });
    await ownRow.locator('option:checked', { hasText: 'Attending remotely' }).waitFor({ state: 'attached' });
    await waitAllSent(page);
    // Today's meeting, started: Sol may not run it (no timer to start) and sees no slot of 0 minutes.
    await page.goto(`${env.baseUrl}${meetingPath}`);
    await page.getByTestId('my-part').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Run the meeting' }).count(), 0);
  });
  assert.deepEqual(page.errors, []);
  await sol.context.close();
});

test('a concluded meeting reads as a record: who attended, no answers to change, nothing to cancel', async () => {
  const { page, meetingPath, teamPath } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  await explained(page, 'concluded-record', async () => {
    await page.goto(`${env.baseUrl}${meetingPath}`);
    for (const name of ['Ada Synthetic', 'Bertie Example']) {
      await page.getByRole('button', { name: new RegExp(`Record the outcome for ${name}`) }).click();
      await page.getByLabel('No action needed', { exact: true }).check();
      await page.getByLabel('Why no action is needed').fill('Stable at home');
      await page.getByRole('button', { name: 'Save outcome' }).click();
      await page.getByTestId('agenda-item').filter({ hasText: name }).getByTestId('outcome').waitFor();
    }
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Conclude the meeting' }).click();
    await page.getByText('This meeting is concluded').waitFor();
    const attendance = page.getByTestId('attendance');
    await attendance.getByRole('heading', { name: 'Who attended' }).waitFor();
    assert.equal(await attendance.locator('select').count(), 0, 'no answer to change');
    assert.doesNotMatch(await attendance.innerText(), /Expected, not confirmed|Who is coming/);
    assert.equal(await page.getByTestId('overrun').count(), 0, 'no advice to shorten a held meeting');
    assert.equal(await page.getByTestId('my-part').count(), 0);
    await waitAllSent(page);
    // On the team's list: a held meeting is never offered for cancelling.
    await page.goto(`${env.baseUrl}${teamPath}`);
    const row = page.getByTestId('meeting-list').locator('tbody tr').first();
    await row.getByText('Closed').waitFor();
    assert.equal(await page.getByTestId('meeting-list').getByRole('button', { name: 'Cancel meeting' }).count(), 1, 'only the meeting to come may be cancelled');
    assert.equal(await row.getByRole('button', { name: /Cancel meeting|Change/ }).count(), 0);
  });
});

test('a meeting of ten items is at most 4,000 px tall on a desktop: what is next leads, the rest is a click away', async () => {
  const { page, teamPath } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  await page.goto(`${env.baseUrl}${teamPath}`);
  await planMeeting(page, 14);
  await page.getByTestId('meeting-list').locator('tbody tr').nth(2).getByRole('link').click();
  await page.getByRole('heading', { name: 'Agenda', exact: true }).waitFor();
  const numbers = ['9990000050', '9990000069', '9990000077', '9990000085', '9990000093', '9990000107', '9990000115', '9990000123', '9990000131', '9990000158'];
  const names = ['Fay', 'Gus', 'Hal', 'Ida', 'Jon', 'Kit', 'Lou', 'Max', 'Ned', 'Oli'];
  // Ada's item is carried over from today's meeting; nine more make ten.
  for (let i = 0; (await page.getByTestId('agenda-item').count()) < 10; i++) {
    await addPatientItem(page, { nhs: numbers[i], name: `${names[i]} Synthetic` });
  }
  await waitAllSent(page);
  await page.reload();
  await page.getByRole('heading', { name: 'Agenda', exact: true }).waitFor();
  await page.getByTestId('readiness').waitFor();
  await page.setViewportSize(DESKTOP);
  const desktop = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 320, height: 800 });
  const phone = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize(DESKTOP);
  console.log(`# a meeting of ten items: ${desktop} px tall at 1280, ${phone} px at 320`);
  assert.ok((await page.getByTestId('agenda-item').count()) >= 10);
  assert.ok(desktop <= 4000, `${desktop} px at 1280`);
  assert.ok(phone <= 7000, `${phone} px at 320`);
});

test("Find a time's week grid opens on a week with times to choose, even on a Saturday; its note leads to People", async () => {
  const { teamPath } = await teamWithTodaysMeeting(env.browser, env.baseUrl);
  const s = await session(env.browser);
  const page = s.page;
  await page.setViewportSize(DESKTOP);
  await signIn(page, env.baseUrl, 'pat.coordinator@example.nhs.net');
  await waitAllSent(page);
  // The coming Saturday at noon, UK time (whatever day the tests run): the window starts on the
  // Sunday, and the grid's first week with a day to choose is the next one.
  const today = new Date();
  const saturday = new Date(today.getTime() + ((6 - today.getUTCDay() + 7) % 7) * 86400000);
  saturday.setUTCHours(12, 0, 0, 0);
  await page.clock.setFixedTime(saturday);
  await page.goto(`${env.baseUrl}${teamPath}/find-a-time`);
  await page.getByRole('button', { name: 'Find times' }).click();
  const grid = page.getByTestId('week-grid');
  await grid.waitFor();
  const open = await grid.locator('button.mdt-week-grid__cell').count();
  const closed = await grid.locator('td.mdt-week-grid__closed').count();
  assert.ok(open > 0, `the grid opens on a week with times to choose (${open} open, ${closed} closed)`);
  // Where clinics are recorded: the team's People page.
  // (Nobody in the team has recorded clinics, so the note is there.)
  const note = page.getByTestId('nothing-recorded');
  await note.waitFor();
  assert.equal(new URL(await note.getByRole('link').getAttribute('href'), env.baseUrl).pathname, `${teamPath}/people`);
  await s.context.close();
});

test('a series invitation lets someone without an account answer a meeting with one click; one meeting moved alone updates its occurrence', async () => {
  const s = await session(env.browser);
  const page = s.page;
  await page.setViewportSize(DESKTOP);
  await signIn(page, env.baseUrl, 'pat.coordinator@example.nhs.net');
  // Noor is in the directory with an email address, and has no account.
  await page.getByRole('link', { name: 'Directory' }).click();
  await page.getByRole('button', { name: 'Add a person' }).click();
  await page.getByLabel('Full name').fill('Noor Synthetic');
  await page.getByLabel('Role').selectOption({ label: 'District nurse' });
  await page.getByLabel('Email (optional)').fill('noor.synthetic@example.org');
  await page.getByRole('button', { name: 'Add person' }).click();
  await page.getByTestId('people-list').getByRole('cell', { name: 'Noor Synthetic', exact: true }).waitFor();
  await page.getByRole('link', { name: 'Teams and meetings' }).click();
  await createTeam(page, 'Rowan MDT', { emails: ['sol.worker@example.gov.uk'] });
  // Noor joins, and the team emails its invitations to members who do not sign in.
  await openTeamPage(page, 'Team details');
  await page.getByTestId('member-checkboxes').getByLabel(/Noor Synthetic/).check();
  await page.getByLabel('Email meeting invitations to members who do not sign in').check();
  await page.getByRole('button', { name: 'Save team' }).click();
  await page.getByText('Team saved.').waitFor();
  await openTeamPage(page, 'Find a time');
  await page.getByRole('button', { name: 'Find times' }).click();
  await page.getByTestId('slot-option').first().getByRole('button', { name: 'Every week at this time' }).click();
  await page.getByTestId('planned').waitFor();
  await waitAllSent(page);

  const isNoors = (subject) => (m) => m.envelope_to.includes('noor.synthetic@example.org') && m.subject.startsWith(subject);
  const invitation = await waitForMail(env.mail, isNoors('Invitation: Rowan MDT meetings'));
  assert.match(invitation.text, /Answer for each of the next meetings with one click/);
  const apologies = [...invitation.text.matchAll(/Apologies: (\S+)/g)].map((m) => m[1]);
  assert.ok(apologies.length >= 2, `a link for each of the next meetings: ${apologies.length}`);
  assert.equal(new Set(apologies).size, apologies.length, 'each meeting its own link');

  // Noor answers the first meeting from the email, with no password.
  const visitor = await session(env.browser);
  await visitor.page.goto(apologies[0]);
  await visitor.page.getByRole('button', { name: 'Record my answer' }).click();
  await visitor.page.getByRole('heading', { name: 'Your answer is recorded' }).waitFor();
  await visitor.page.goto(apologies[0]);
  await visitor.page.getByText(/Each answer link works once/).waitFor();
  await visitor.context.close();

  // The coordinator sees it on that meeting, and the next meeting is still unanswered.
  await openTeamPage(page, 'Meetings');
  const rows = page.getByTestId('meeting-list').locator('tbody tr');
  await rows.nth(1).waitFor();
  await rows.nth(0).getByRole('link').click();
  const noor = page.getByLabel('Answer for Noor Synthetic');
  await explained(page, 'series-answer-seen', async () => {
    // (A page shows once its code is loaded: the address changes then.)
    await page.waitForURL(/\/meetings\/[^/]+$/);
    await page.reload();
    await noor.locator('option:checked', { hasText: 'Apologies' }).waitFor({ state: 'attached' });
  });
  await page.getByRole('link', { name: 'Back to the team' }).click();
  await rows.nth(1).getByRole('link').click();
  await noor.locator('option:checked', { hasText: 'Not answered yet' }).waitFor({ state: 'attached' });

  // The second meeting moved on its own, an hour later: Noor hears of that occurrence alone.
  await page.getByRole('link', { name: 'Back to the team' }).click();
  await rows.nth(1).getByRole('button', { name: /^Change/ }).click();
  const starts = page.getByLabel('Starts (UK time)');
  const ends = page.getByLabel('Ends (UK time)');
  const [h, m] = (await starts.inputValue()).split(':').map(Number);
  const [eh, em] = (await ends.inputValue()).split(':').map(Number);
  const later = (hh, mm) => `${String(Math.min(hh + 1, 22)).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
  await starts.fill(later(h, m));
  await ends.fill(later(eh, em));
  await page.getByRole('button', { name: 'Save meeting' }).click();
  await waitAllSent(page);
  const changed = await explained(page, 'series-occurrence-moved', () => waitForMail(env.mail, isNoors('Changed: Rowan MDT meeting')));
  assert.match(changed.calendar, /METHOD:REQUEST/);
  assert.match(changed.calendar, /UID:series-[0-9a-f-]+@mdt/);
  assert.match(changed.calendar, /RECURRENCE-ID;TZID=Europe\/London:\d{8}T\d{6}/);
  const series = invitation.calendar.match(/UID:(series-[0-9a-f-]+@mdt)/)[1];
  assert.ok(changed.calendar.includes(`UID:${series}`), 'the series\' own event, one occurrence of it');
  const sequence = (ics) => Math.max(...[...ics.matchAll(/SEQUENCE:(\d+)/g)].map((x) => Number(x[1])));
  assert.ok(sequence(changed.calendar) > sequence(invitation.calendar), 'a later SEQUENCE than the series invitation');
  await s.context.close();
});

// End-to-end: the real server (fresh data directory, free port) and the built app driven in
// Debian's Chromium through playwright-core. Synthetic people only.
//
// Needs: MDT_SERVER_BIN (the mdt-server binary) and MDT_DIST (Trunk's dist/). Screenshots go
// to tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const SERVER = process.env.MDT_SERVER_BIN ?? 'target/release/mdt-server';
const DIST = process.env.MDT_DIST ?? 'dist';
const ARTIFACTS = path.resolve('tests/e2e/artifacts');
const PASSWORD = 'synthetic-pass-2026';

let server;
let browser;
let baseUrl;
let dataDir;
let serverLog = '';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function addUser(email, name, role) {
  execFileSync(SERVER, ['--data-dir', dataDir, 'user', 'add', '--email', email, '--name', name, '--role', role], {
    input: `${PASSWORD}\n`,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start:\n${serverLog}`);
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-e2e-data-'));
  addUser('pat.coordinator@example.nhs.net', 'Pat Coordinator', 'practice_manager');
  addUser('olu.outsider@example.nhs.net', 'Olu Outsider', 'gp');
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(SERVER, ['--data-dir', dataDir, '--addr', `127.0.0.1:${port}`, '--dist', DIST], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  await waitForServer(`${baseUrl}/`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  if (server) {
    server.kill('SIGINT');
    await new Promise((r) => server.once('exit', r));
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh browser session (its own cookies and storage) with page errors recorded. */
async function session() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return { context, page };
}

async function signIn(page, email) {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
}

async function waitAllSent(page) {
  await page.getByTestId('sync-status').filter({ hasText: 'all changes saved' }).waitFor();
  await page.getByTestId('sync-status').filter({ hasText: 'last synced' }).waitFor();
}

test('sign-in refuses a wrong password in plain words and keeps what was typed', async () => {
  const { context, page } = await session();
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Email address').fill('pat.coordinator@example.nhs.net');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The email address or password is not right').waitFor();
  assert.equal(await page.getByLabel('Email address').inputValue(), 'pat.coordinator@example.nhs.net');
  const api = await page.request.get(`${baseUrl}/api/sync/pull`);
  assert.equal(api.status(), 401);
  await context.close();
});

test('a coordinator creates a team with two members and a meeting; it survives a reload and reaches a second session; another team sees none of it', async () => {
  const { context, page } = await session();
  await signIn(page, 'pat.coordinator@example.nhs.net');
  await page.getByText('You are not in any team yet').waitFor();

  // Two people in the directory.
  await page.getByRole('link', { name: 'Directory' }).click();
  for (const [name, role, phone] of [
    ['Dr Gita Synthetic', 'GP', '01632 960 301'],
    ['Sol Worker', 'Social worker', '01632 960 302'],
  ]) {
    await page.getByRole('button', { name: 'Add a person' }).click();
    await page.getByLabel('Full name').fill(name);
    await page.getByLabel('Role').selectOption({ label: role });
    await page.getByLabel('Phone (optional)').fill(phone);
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByTestId('people-list').getByRole('cell', { name, exact: true }).waitFor();
  }
  // A bad phone number is refused in words, and the typing is kept.
  await page.getByRole('button', { name: 'Add a person' }).click();
  await page.getByLabel('Full name').fill('Nia Typo');
  await page.getByLabel('Phone (optional)').fill('12');
  await page.getByRole('button', { name: 'Add person' }).click();
  await page.getByRole('alert').filter({ hasText: 'Enter a phone number' }).waitFor();
  assert.equal(await page.getByLabel('Full name').inputValue(), 'Nia Typo');
  await page.getByRole('button', { name: 'Close without saving' }).click();

  // The team.
  await page.getByRole('link', { name: 'Teams and meetings' }).click();
  await page.getByRole('button', { name: 'Create a team' }).click();
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('alert').filter({ hasText: "Enter the team's name" }).waitFor();
  await page.getByLabel('Team name').fill('Synthetic Valley MDT');
  await page.getByLabel('Dr Gita Synthetic — GP').check();
  await page.getByLabel('Sol Worker — Social worker').check();
  await page.getByLabel('GP', { exact: true }).check();
  await page.getByLabel('Usual place').fill('Valley Surgery, room 3');
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('heading', { name: 'Synthetic Valley MDT' }).waitFor();

  // A meeting, typed in UK time (1 December: GMT).
  await page.getByRole('button', { name: 'Plan a meeting' }).click();
  await page.getByLabel('Date').fill('2026-12-01');
  await page.getByLabel('Starts (UK time)').fill('13:00');
  await page.getByLabel('Ends (UK time)').fill('14:30');
  await page.getByRole('button', { name: 'Add meeting' }).click();
  await page.getByTestId('meeting-list').getByText('Tue 1 Dec 2026, 13:00–14:30').waitFor();
  await waitAllSent(page);

  // Reload: everything is still there, from the server.
  await page.reload();
  await page.getByTestId('meeting-list').getByText('Tue 1 Dec 2026, 13:00–14:30').waitFor();
  assert.equal(await page.getByLabel('Team name').inputValue(), 'Synthetic Valley MDT');
  assert.ok(await page.getByLabel('Dr Gita Synthetic — GP').isChecked());
  assert.ok(await page.getByLabel('Sol Worker — Social worker').isChecked());
  await page.screenshot({ path: path.join(ARTIFACTS, 'team-after-reload.png'), fullPage: true });

  // A second browser session of the same person sees it after its pull.
  const second = await session();
  await signIn(second.page, 'pat.coordinator@example.nhs.net');
  await second.page.getByTestId('team-list').getByText('Synthetic Valley MDT').waitFor();
  await second.page.getByText('next meeting Tue 1 Dec 2026, 13:00').waitFor();
  await second.context.close();

  // A member of another team sees none of it.
  const other = await session();
  await signIn(other.page, 'olu.outsider@example.nhs.net');
  await other.page.getByText('You are not in any team yet').waitFor();
  await other.page.getByRole('button', { name: 'Create a team' }).click();
  await other.page.getByLabel('Team name').fill('Hilltop MDT');
  await other.page.getByRole('button', { name: 'Create team' }).click();
  await other.page.getByRole('heading', { name: 'Hilltop MDT' }).waitFor();
  await waitAllSent(other.page);
  await other.page.getByRole('link', { name: 'Teams and meetings' }).click();
  await other.page.getByTestId('team-list').getByText('Hilltop MDT').waitFor();
  assert.ok(!(await other.page.getByTestId('team-list').innerText()).includes('Synthetic Valley MDT'));
  await other.page.getByRole('link', { name: 'Directory' }).click();
  await other.page.getByTestId('people-list').getByRole('cell', { name: 'Olu Outsider', exact: true }).waitFor();
  const directory = await other.page.getByTestId('people-list').innerText();
  for (const hidden of ['Dr Gita Synthetic', 'Sol Worker', 'Pat Coordinator']) {
    assert.ok(!directory.includes(hidden), `outsider must not see ${hidden}`);
  }
  await other.page.screenshot({ path: path.join(ARTIFACTS, 'outsider-directory.png'), fullPage: true });
  assert.deepEqual([...page.errors, ...other.page.errors], []);
  await other.context.close();
  await context.close();
});

test('a change in one session reaches another after its next pull', async () => {
  const a = await session();
  const b = await session();
  await signIn(a.page, 'pat.coordinator@example.nhs.net');
  await signIn(b.page, 'pat.coordinator@example.nhs.net');
  await a.page.getByRole('link', { name: 'Synthetic Valley MDT' }).click();
  await b.page.getByRole('link', { name: 'Synthetic Valley MDT' }).click();
  await a.page.getByLabel('Usual place').fill('Valley Surgery, room 5');
  await a.page.getByRole('button', { name: 'Save team' }).click();
  await a.page.getByText('Team saved.').waitFor();
  await waitAllSent(a.page);
  // Session b pulls on its next cycle (or when it comes back online); reload forces one now.
  await b.page.reload();
  await b.page.getByLabel('Usual place').waitFor();
  await b.page.waitForFunction(
    () => document.querySelector('#team-place')?.value === 'Valley Surgery, room 5',
    null,
    { timeout: 20000 },
  );
  await a.context.close();
  await b.context.close();
});

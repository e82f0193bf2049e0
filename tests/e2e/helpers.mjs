// Shared end-to-end set-up: a real server on a free port with a fresh data directory, Debian's
// Chromium through playwright-core, and small helpers for the app's pages.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const SERVER = process.env.MDT_SERVER_BIN ?? 'target/release/mdt-server';
export const DIST = process.env.MDT_DIST ?? 'dist';
export const ARTIFACTS = path.resolve('tests/e2e/artifacts');
export const PASSWORD = 'synthetic-pass-2026';

const DAY_MS = 86400000;

/**
 * How many days ahead of the real date the whole suite runs (MDT_E2E_SHIFT_DAYS, a whole number;
 * unset or 0: the real clock). Every server process runs under Debian's libfaketime and every
 * browser context under Playwright's clock at that offset, time flowing normally in both, and
 * the tests' own dates come from `now()`. Timeouts and measured durations keep the real clock.
 * scripts/test-any-day.sh runs the suite a year ahead and on the next Saturday and Sunday.
 */
export const SHIFT_DAYS = (() => {
  const raw = (process.env.MDT_E2E_SHIFT_DAYS ?? '').trim();
  if (raw === '') return 0;
  if (!/^[+-]?\d+$/.test(raw)) throw new Error(`MDT_E2E_SHIFT_DAYS must be a whole number of days, not "${raw}"`);
  return Number(raw);
})();

/**
 * With a shift, how far the suite's clock is from the real one: each test file (node runs each
 * in a process of its own) starts at MDT_E2E_AT ("HH:MM", UK time; 10:00 unless set) on the UK
 * date SHIFT_DAYS days from today, so a shifted run never crosses midnight, whatever time the
 * real clock says. Without a shift, 0.
 */
export const SHIFT_MS = (() => {
  if (SHIFT_DAYS === 0) return 0;
  const at = (process.env.MDT_E2E_AT ?? '10:00').trim();
  if (!/^\d{2}:\d{2}$/.test(at)) throw new Error(`MDT_E2E_AT must be HH:MM, not "${at}"`);
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  const uk = (t) => Object.fromEntries(parts.formatToParts(t).map((x) => [x.type, x.value]));
  const real = Date.now();
  const day = uk(real + SHIFT_DAYS * DAY_MS);
  const [hour, minute] = at.split(':').map(Number);
  // The UK is at UTC or an hour ahead of it: the candidate that reads as `at` in the UK.
  const wall = Date.UTC(Number(day.year), Number(day.month) - 1, Number(day.day), hour, minute);
  const target = [wall, wall - 3600000].find((t) => {
    const p = uk(t);
    return `${p.hour}:${p.minute}` === at && p.day === day.day;
  });
  if (target === undefined) throw new Error(`${at} does not exist in the UK on ${day.year}-${day.month}-${day.day}`);
  // Whole seconds, as libfaketime takes them.
  return Math.ceil((target - real) / 1000) * 1000;
})();

/** The time on the suite's clock: the real time moved on by SHIFT_MS. */
export function now() {
  return new Date(Date.now() + SHIFT_MS);
}

/** Debian's libfaketime (ensure_faketime in scripts/setup.sh exports where it is). */
function faketimeLibrary() {
  const candidates = [process.env.MDT_FAKETIME_LIB, ...fs.readdirSync('/usr/lib').map((d) => `/usr/lib/${d}/faketime/libfaketime.so.1`)];
  const found = candidates.find((f) => f && fs.existsSync(f));
  if (!found) throw new Error('MDT_E2E_SHIFT_DAYS needs libfaketime: run ensure_faketime from scripts/setup.sh (Debian package faketime)');
  return found;
}

/**
 * The environment of every server process the tests start: with a shifted clock, libfaketime
 * preloaded with the offset (wall clock only; the monotonic clock, which timers and timeouts
 * use, stays real).
 */
export function serverEnv() {
  if (SHIFT_DAYS === 0) return process.env;
  return {
    ...process.env,
    LD_PRELOAD: faketimeLibrary(),
    FAKETIME: `${SHIFT_MS >= 0 ? '+' : '-'}${Math.abs(SHIFT_MS) / 1000}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/**
 * Throws unless the server's clock (the Date header of its answer `response`) agrees with the
 * suite's `now()` within an hour: a server the preload missed would test the wrong day.
 */
function checkServerClock(response, name) {
  const date = Date.parse(response.headers.get('date') ?? '');
  if (Number.isNaN(date)) {
    if (SHIFT_DAYS === 0) return;
    throw new Error(`${name} sent no Date header: cannot check that it runs ${SHIFT_DAYS} days ahead`);
  }
  const apart = Math.abs(date - now().getTime());
  if (apart > 3600000) {
    throw new Error(`${name}'s clock says ${new Date(date).toISOString()}, the tests' says ${now().toISOString()} (MDT_E2E_SHIFT_DAYS=${SHIFT_DAYS})`);
  }
}

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

/** The Python of the venv with aiosmtpd that the test script installs. */
const MAIL_PYTHON = process.env.MDT_MAIL_PYTHON ?? path.resolve('.tools/mail-venv/bin/python');

/**
 * A real SMTP server on loopback (tests/mail/smtp_sink.py): what the app's server sends arrives
 * here over TCP, each message kept as JSON (recipients, subject, text, calendar file, raw).
 */
export async function startSmtpSink() {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-e2e-mail-'));
  const sink = spawn(MAIL_PYTHON, ['tests/mail/smtp_sink.py', folder], { stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  const port = await new Promise((resolve, reject) => {
    sink.stdout.on('data', (d) => {
      said += d;
      const m = said.match(/listening on (\d+)/);
      if (m) resolve(Number(m[1]));
    });
    sink.stderr.on('data', (d) => (said += d));
    sink.once('exit', (code) => reject(new Error(`the SMTP server stopped (${code}): ${said}`)));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    /** Every message received so far, in order of arrival. */
    messages() {
      return fs
        .readdirSync(folder)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(folder, f), 'utf8')));
    },
    async stop() {
      sink.kill('SIGTERM');
      await new Promise((r) => (sink.exitCode !== null ? r() : sink.once('exit', r)));
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** The synthetic patients and the clinical words the tests type: never in an email. */
export const PATIENT_WORDS = [
  'Ada Synthetic', 'Bea Synthetic', 'Bertie Example', 'Cora Placeholder', 'Dev Sample', 'Cy Synthetic',
  'Two falls', 'two falls', 'Falls assessment', 'falls service', 'Lives alone', 'Leg ulcer', 'Care package',
];

/** Ten digits standing alone, or written 3-3-4: shaped like an NHS number (as core::mail::patient_shaped). */
export function patientShaped(text) {
  return /(^|[^A-Za-z0-9])(\d{10}|\d{3}[ -]\d{3}[ -]\d{4})(?![A-Za-z0-9])/.test(text);
}

/** Throws, naming the message, when any part of any message carries patient data. */
export function assertNoPatientData(messages) {
  for (const m of messages) {
    for (const part of [m.raw, m.subject, m.text ?? '', m.calendar ?? '']) {
      if (patientShaped(part)) throw new Error(`an email carries an NHS-number-shaped string: ${m.subject}\n${part}`);
      const word = PATIENT_WORDS.find((w) => part.includes(w));
      if (word) throw new Error(`an email carries "${word}": ${m.subject}\n${part}`);
    }
  }
}

/**
 * Starts the server with these accounts ([email, name, role, ...flags of `user add`]), and the
 * synthetic demo teams too with `{ demo: true }`; returns { baseUrl, mail, stop }. `port` chooses
 * where it listens, `args` are added to its command line, and `prepare(dataDir)` runs once the
 * accounts exist, before it starts (e.g. `mdt-server sso add`). Email goes to
 * a real SMTP server of its own (`{ mail: false }`: email off); when the server stops, every
 * message it sent is checked for patient data.
 */
export async function startServer(users, { demo = false, mail = true, port: chosenPort = null, args = [], prepare = null } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-e2e-data-'));
  if (demo) execFileSync(SERVER, ['--data-dir', dataDir, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() });
  for (const [email, name, role, ...flags] of users) {
    execFileSync(SERVER, ['--data-dir', dataDir, 'user', 'add', '--email', email, '--name', name, '--role', role, ...flags], {
      input: `${PASSWORD}\n`,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: serverEnv(),
    });
  }
  if (prepare) prepare(dataDir);
  // The SMTP server first: it takes a free port of its own, which could otherwise be the one
  // just found free for the app's server.
  const sink = mail ? await startSmtpSink() : null;
  let port, baseUrl, server;
  let log = '';
  // A port found free can be taken by another socket (a browser's outgoing connection) before
  // the server binds it: the server then says so and stops, and another port is tried.
  for (let attempt = 1; ; attempt++) {
    port = chosenPort ?? await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    log = '';
    const mailArgs = sink
      ? ['--smtp-url', sink.url, '--mail-from', 'MDT coordination <mdt@e2e.example.nhs.uk>', '--public-url', baseUrl,
        '--mail-retry-seconds', '1', '--mail-check-seconds', '2']
      : [];
    server = spawn(SERVER, ['--data-dir', dataDir, '--addr', `127.0.0.1:${port}`, '--dist', DIST, ...mailArgs, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv(),
    });
    server.stdout.on('data', (d) => (log += d));
    server.stderr.on('data', (d) => (log += d));
    let exited = false;
    server.once('exit', () => { exited = true; });
    let started = false;
    for (let i = 0; ; i++) {
      const response = await fetch(`${baseUrl}/`).catch(() => null);
      if (response?.ok) {
        checkServerClock(response, 'the server');
        started = true;
        break;
      }
      if (exited || i > 100) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (started) break;
    if (exited && log.includes('Address already in use') && chosenPort === null && attempt < 5) continue;
    server.kill('SIGKILL');
    // Nothing left running (a live SMTP server would keep the test file from ending).
    await sink?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`server did not start:\n${log}`);
  }
  return {
    baseUrl,
    mail: sink,
    async stop() {
      server.kill('SIGINT');
      await new Promise((r) => server.once('exit', r));
      // The server's own log, when asked for (MDT_E2E_SERVER_LOG=1), to follow a failure.
      if (process.env.MDT_E2E_SERVER_LOG) console.log(`# server log:\n${log.replace(/^/gm, '#   ')}`);
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (sink) {
        const received = sink.messages();
        await sink.stop();
        assertNoPatientData(received);
        console.log(`# email: the SMTP server received ${received.length} messages; none carries patient data`);
      }
    },
  };
}

/** A free loopback port (for a server that must know another's address before it starts). */
export { freePort };

/**
 * A real OpenID provider (npm's oidc-provider, tests/oidc/provider.mjs) on loopback, on the
 * tests' clock: `clientSecret` for its `mdt-basic` client, `users` by login (the subject).
 * Returns { issuer, stop }.
 */
export async function startOidcProvider({ port, redirectUri, clientSecret, users }) {
  const { generateKeyPairSync } = await import('node:crypto');
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issuer = `http://127.0.0.1:${port}`;
  const config = { port, issuer, redirect_uri: redirectUri, secret: clientSecret, client_jwk: publicKey.export({ format: 'jwk' }), users };
  const child = spawn(process.execPath, ['tests/oidc/provider.mjs', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() });
  let said = '';
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      said += d;
      if (said.includes('\n')) resolve();
    });
    child.stderr.on('data', () => {});
    child.once('exit', (code) => reject(new Error(`the OpenID provider stopped (${code})`)));
  });
  const discovery = await fetch(`${issuer}/.well-known/openid-configuration`);
  checkServerClock(discovery, 'the OpenID provider');
  return {
    issuer,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** Debian's Chromium, headless, with the flags a root sandbox needs. */
export function launchBrowser() {
  return chromium.launch({
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
}

/**
 * A fresh browser session (own cookies and storage) that records page errors; `contextOptions`
 * go to Playwright's `newContext` (e.g. `{ serviceWorkers: 'block' }`). With a shifted
 * clock (SHIFT_DAYS), every page of the context runs on Playwright's clock set to `now()`, time
 * flowing normally from there (a test may still pin it with `page.clock.setFixedTime`).
 */
export async function session(browser, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  if (SHIFT_DAYS !== 0) await context.clock.install({ time: now() });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // Content Security Policy violations: none, the NHS web font included (its @font-face rules
  // for assets.nhs.uk are taken out of the stylesheet at build time, scripts/strip-font-faces.mjs).
  page.cspViolations = [];
  // The last console lines, printed when a step fails (see `explained`).
  page.consoleTail = [];
  page.on('console', (m) => {
    const text = m.text();
    if (text.includes('Content Security Policy')) page.cspViolations.push(text);
    page.consoleTail.push(`${m.type()}: ${text}`);
    if (page.consoleTail.length > 40) page.consoleTail.shift();
  });
  return { context, page };
}

/**
 * Runs a step; when it fails, prints what the page showed (address, text, console, errors) and
 * keeps a screenshot, so a failure seen only in CI can be understood from its log.
 */
export async function explained(page, name, step) {
  try {
    return await step();
  } catch (error) {
    const text = await page.locator('body').innerText().catch((e) => `(no text: ${e.message})`);
    console.log(`# ${name} failed at ${page.url()}\n# page text: ${text.replace(/\s+/g, ' ').slice(0, 1500)}`);
    console.log(`# console: ${page.consoleTail.join(' | ').slice(0, 3000)}\n# errors: ${page.errors.join(' | ')}`);
    await page.screenshot({ path: screenshotPath(`failed-${name}.png`), fullPage: true }).catch(() => {});
    throw error;
  }
}

/** The password of the demo's accounts (`mdt-server demo`). */
export const DEMO_PASSWORD = 'demo-password-2026';

/** The Python with pyotp that the test script installs (ensure_totp_tool). */
const AUTH_PYTHON = process.env.MDT_AUTH_PYTHON ?? path.resolve('.tools/auth-venv/bin/python');

/**
 * The TOTP code of a base32 `secret` for now (or `steps` 30-second steps from now), computed by
 * PyPI's pyotp (tests/auth/totp.py), independent of the app's own, on the tests' clock.
 */
export function totpCode(secret, steps = 0) {
  return execFileSync(AUTH_PYTHON, ['tests/auth/totp.py', secret, String(steps)], { env: serverEnv() }).toString().trim();
}

/** Recovery codes kept from each account's authenticator set-up, by "baseUrl email". */
const RECOVERY_CODES = new Map();

/**
 * Signs in with a password, through the second factor when the account has or needs one
 * (every site administrator): the first time it sets up the authenticator from the key shown
 * as text, with a code from pyotp, and keeps the recovery codes; later it uses one of those.
 */
export async function signIn(page, baseUrl, email, password = PASSWORD) {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const home = page.getByRole('heading', { name: 'Your teams' });
  const setUp = page.getByRole('heading', { name: 'Set up your authenticator app' });
  const code = page.getByRole('heading', { name: 'Enter the code from your authenticator app' });
  await home.or(setUp).or(code).first().waitFor();
  const key = `${baseUrl} ${email}`;
  if (await setUp.isVisible()) {
    const secret = await page.getByTestId('second-factor-key').innerText();
    await page.getByLabel('Code from the app').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Check code' }).click();
    const codes = page.getByTestId('recovery-codes').getByRole('listitem');
    await codes.first().waitFor();
    RECOVERY_CODES.set(key, await codes.allInnerTexts());
    await page.getByRole('button', { name: /I have kept my recovery codes/ }).click();
  } else if (await code.isVisible()) {
    const kept = RECOVERY_CODES.get(key) ?? [];
    if (kept.length === 0) throw new Error(`no recovery code kept for ${email}: sign in once through the set-up first`);
    await page.getByLabel('Code from your authenticator app').fill(kept.pop());
    await page.getByRole('button', { name: 'Continue' }).click();
  }
  await home.waitFor();
}

/** Waits until the header says every change reached the server. */
export async function waitAllSent(page) {
  await page.getByTestId('sync-status').filter({ hasText: 'all changes saved' }).waitFor();
  await page.getByTestId('sync-status').filter({ hasText: 'last synced' }).waitFor();
}

const UK_PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

/** The UK (Europe/London) calendar date at `at` (default: `now()`), as YYYY-MM-DD. */
export function ukDate(at = now()) {
  const p = Object.fromEntries(UK_PARTS.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** The UK wall-clock time at `at` (default: `now()`), as HH:MM. */
export function ukTime(at = now()) {
  const p = Object.fromEntries(UK_PARTS.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.hour}:${p.minute}`;
}

/** The calendar date `days` after the date `iso` (YYYY-MM-DD). */
export function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The date `days` after today's UK date (on the suite's clock), as the date input wants it (YYYY-MM-DD). */
export function isoDateFromToday(days) {
  return addDays(ukDate(), days);
}

/** The day of the week of the date `iso`: 0 Sunday, 1 Monday … 6 Saturday. */
export function weekdayOf(iso) {
  return new Date(`${iso}T00:00:00Z`).getUTCDay();
}

export const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
export const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * The parts of the date `iso` as the app writes them: { weekday: 'Tuesday', day: 1, month:
 * 'December', year: 2026 }. Abbreviated, the app (chrono's %a and %b) uses the first three
 * letters ('Sep', never the 'Sept' of some locales).
 */
export function dateParts(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  return { weekday: WEEKDAY_NAMES[d.getUTCDay()], day: d.getUTCDate(), month: MONTH_NAMES[d.getUTCMonth()], year: d.getUTCFullYear() };
}

/** The date `iso` as the app shows it, 'Tue 1 Dec 2026', or with `time`: 'Tue 1 Dec 2026, 13:00'. */
export function dateText(iso, time) {
  const { weekday, day, month, year } = dateParts(iso);
  return `${weekday.slice(0, 3)} ${day} ${month.slice(0, 3)} ${year}${time ? `, ${time}` : ''}`;
}

/** The instant that is `time` (HH:MM) UK time on the UK date `iso` (a time the clocks skip is not asked for). */
export function ukInstant(iso, time) {
  const guess = new Date(`${iso}T${time}:00Z`);
  const wall = new Date(`${ukDate(guess)}T${ukTime(guess)}:00Z`);
  return new Date(guess.getTime() - (wall.getTime() - guess.getTime()));
}

export function screenshotPath(name) {
  return path.join(ARTIFACTS, name);
}

/**
 * Registers node:test hooks that start a server with these accounts and a browser, and returns
 * an object whose `baseUrl` and `browser` are set once the hooks have run.
 */
export function useServerAndBrowser(before, after, users, options) {
  const env = { server: null, browser: null, baseUrl: null, mail: null };
  before(async () => {
    env.server = await startServer(users, options);
    env.baseUrl = env.server.baseUrl;
    env.mail = env.server.mail;
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}

/** Creates a team from the teams page: colleagues found by email, quorum roles ticked. */
export async function createTeam(page, name, { emails = [], roles = [] } = {}) {
  await page.getByRole('button', { name: 'Create a team' }).click();
  await page.getByLabel('Team name').fill(name);
  for (const email of emails) {
    await page.getByLabel('Add a colleague who already uses the app').fill(email);
    await page.getByRole('button', { name: 'Find and add' }).click();
    // A found colleague is ticked as a member and the box is cleared for the next one.
    await page.waitForFunction(() => document.querySelector('#colleague-email')?.value === '');
  }
  for (const role of roles) await page.getByLabel(role, { exact: true }).check();
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('heading', { name }).waitFor();
}

/** Opens one of the team's pages from its own navigation ('Meetings', 'Team details', 'People'…). */
export async function openTeamPage(page, name) {
  await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('navigation', { name: 'Team' }).locator('[aria-current="page"]', { hasText: name }).waitFor();
}

/** Adds people from the directory to the team shown, on its details page, then goes back to its meetings. */
export async function addTeamMembers(page, names) {
  await openTeamPage(page, 'Team details');
  for (const name of names) await page.getByTestId('member-checkboxes').getByLabel(new RegExp(name)).check();
  await page.getByRole('button', { name: 'Save team' }).click();
  await page.getByText('Team saved.').waitFor();
  await openTeamPage(page, 'Meetings');
}

/** Adds someone who cannot sign in to the directory (from any page with the navigation). */
export async function addDirectoryPerson(page, name, role) {
  await page.getByRole('link', { name: 'Directory' }).click();
  await page.getByRole('button', { name: 'Add a person' }).click();
  await page.getByLabel('Full name').fill(name);
  await page.getByLabel('Role').selectOption({ label: role });
  await page.getByRole('button', { name: 'Add person' }).click();
  await page.getByTestId('people-list').getByRole('cell', { name, exact: true }).waitFor();
}

/**
 * Plans a meeting `days` from today (UK date), 13:00–14:30 UK time unless `starts` and `ends`
 * say otherwise, from the team page.
 */
export async function planMeeting(page, days, { starts = '13:00', ends = '14:30' } = {}) {
  await page.getByRole('button', { name: 'Plan a meeting' }).click();
  await page.getByLabel('Date').fill(isoDateFromToday(days));
  await page.getByLabel('Starts (UK time)').fill(starts);
  await page.getByLabel('Ends (UK time)').fill(ends);
  await page.getByRole('button', { name: 'Add meeting' }).click();
}

/**
 * `planMeeting(page, 0, STARTED_TODAY)`: a meeting today 00:00–00:30 UK time, which has started
 * whenever the tests run (00:00 is on every UK day: the clocks change at 01:00) and is on
 * today's date, so it can be run and concluded. Its agenda has closed (the coordinator's items
 * are late items; members can add none).
 */
export const STARTED_TODAY = { starts: '00:00', ends: '00:30' };

/** The three colleagues most tests use. */
export const COLLEAGUES = [
  ['pat.coordinator@example.nhs.net', 'Pat Coordinator', 'practice_manager'],
  ['sol.worker@example.gov.uk', 'Sol Worker', 'social_worker'],
  ['gita.synthetic@example.nhs.net', 'Dr Gita Synthetic', 'gp'],
];

/** The three colleagues, an observer and a site administrator (in no team): every role. */
export const EVERY_ROLE = [
  ...COLLEAGUES,
  ['olu.observer@example.nhs.net', 'Olu Observer', 'other'],
  ['sam.admin@example.nhs.net', 'Sam Admin', 'other', '--site-admin'],
];

/** Types an ISO date ('1938-04-12') into the day, month and year boxes of "Date of birth". */
export async function fillDateOfBirth(page, iso) {
  const [year, month, day] = iso.split('-');
  const group = page.getByRole('group', { name: 'Date of birth' });
  await group.getByLabel('Day').fill(String(Number(day)));
  await group.getByLabel('Month').fill(String(Number(month)));
  await group.getByLabel('Year').fill(year);
}

/**
 * Adds a patient not yet on the team's list to the meeting page's agenda (as a late item when
 * the agenda has closed and the coordinator adds it).
 */
export async function addPatientItem(page, { nhs, name, born = '1938-04-12', reason = 'Two falls', question = 'Care package review?' }) {
  await page.getByRole('button', { name: /^Add an item$|^Add a late item$/ }).click();
  await page.getByLabel('Patient', { exact: true }).selectOption({ label: 'Someone not on the list yet' });
  await page.getByLabel('NHS number').fill(nhs);
  await page.getByLabel('Full name').fill(name);
  await fillDateOfBirth(page, born);
  await page.getByLabel('Reason for discussion').fill(reason);
  await page.getByLabel('Question for the MDT').fill(question);
  await page.getByRole('button', { name: 'Add to agenda' }).click();
  await page.getByTestId('agenda-item').filter({ hasText: name }).waitFor();
}

/**
 * A region for the live-update tests: two servers on a fresh PostgreSQL database (made in the
 * cluster of MDT_TEST_DATABASE_URL) behind nginx running deploy/nginx.conf. Returns
 * { baseUrl, stop }, or null when no PostgreSQL is given (the test script always gives one).
 */
export async function startRegion(users) {
  const cluster = process.env.MDT_TEST_DATABASE_URL;
  if (!cluster) return null;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const name = `mdt_e2e_${process.pid}_${Date.now()}`;
  execFileSync('psql', [cluster, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`]);
  const url = new URL(cluster);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  for (const [email, person, role, ...flags] of users) {
    execFileSync(SERVER, ['--database-url', databaseUrl, 'user', 'add', '--email', email, '--name', person, '--role', role, ...flags], {
      input: `${PASSWORD}\n`,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: serverEnv(),
    });
  }
  const servers = [];
  for (const serverName of ['server-a', 'server-b']) {
    const port = await freePort();
    let log = '';
    const child = spawn(SERVER, ['--database-url', databaseUrl, '--addr', `127.0.0.1:${port}`, '--dist', DIST, '--behind-proxy', '--server-name', serverName], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv(),
    });
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    for (let i = 0; ; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      if (response?.ok) {
        checkServerClock(response, serverName);
        break;
      }
      if (i > 200) throw new Error(`${serverName} did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    servers.push({ child, port });
  }
  // nginx with deploy/nginx.conf, the test's ports in place of the example's.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-e2e-nginx-'));
  fs.mkdirSync(path.join(dir, 'logs'));
  const front = await freePort();
  const example = fs.readFileSync('deploy/nginx.conf', 'utf8');
  const upstreams = '        server 127.0.0.1:8081 max_fails=1 fail_timeout=2s;\n        server 127.0.0.1:8082 max_fails=1 fail_timeout=2s;\n';
  if (!example.includes(upstreams) || !example.includes('listen 127.0.0.1:8080;')) {
    throw new Error('deploy/nginx.conf no longer has the example upstreams and port');
  }
  const conf = example
    .replace(upstreams, servers.map((s) => `        server 127.0.0.1:${s.port} max_fails=1 fail_timeout=2s;\n`).join(''))
    .replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${front};`)
    .replace('http {\n', `http {\n    client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;\n    access_log ${dir}/logs/access.log;\n`);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const globals = `daemon off; pid ${dir}/nginx.pid;${process.getuid?.() === 0 ? ' user root;' : ''}`;
  const nginx = spawn(fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx', ['-p', dir, '-e', `${dir}/logs/error.log`, '-c', `${dir}/nginx.conf`, '-g', globals], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const baseUrl = `http://127.0.0.1:${front}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break;
    } catch {}
    if (i > 100) throw new Error(`nginx did not start: ${fs.readFileSync(`${dir}/logs/error.log`, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    async stop() {
      nginx.kill('SIGTERM');
      await new Promise((r) => nginx.once('exit', r));
      for (const s of servers) {
        s.child.kill('SIGTERM');
        await new Promise((r) => s.child.once('exit', r));
      }
      execFileSync('psql', [cluster, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits (up to `ms`) until a message matching `predicate` has arrived; returns it. */
export async function waitForMail(mail, predicate, ms = 20000) {
  const until = Date.now() + ms;
  for (;;) {
    const found = mail.messages().find(predicate);
    if (found) return found;
    if (Date.now() > until) {
      throw new Error(`no such email arrived; received: ${mail.messages().map((m) => `${m.envelope_to} ${m.subject}`).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const AXE = fs.readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
const PHONE_WIDTHS = [390, 320];
export const DESKTOP = { width: 1280, height: 800 };

/**
 * axe-core's WCAG 2.2 A/AA violations on the page as it is now (size, pointer and focus left
 * as they are), each named with `name`.
 */
export async function axeFaults(page, name) {
  // Injected through the browser's debugging protocol, which the app's CSP does not govern.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}${v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''}`);
  }, WCAG_TAGS);
  return violations.map((v) => `${name}: ${v}`);
}

/**
 * The page's faults: axe-core violations (WCAG 2.2 A/AA) at desktop width and at each phone
 * width, and any sideways scrolling at a phone width (naming what sticks out).
 */
export async function faultsOf(page, name) {
  const faults = [];
  const axe = async (width) => faults.push(...(await axeFaults(page, `${name} at ${width} px`)));
  await page.setViewportSize(DESKTOP);
  await axe(DESKTOP.width);
  for (const width of PHONE_WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    await page.waitForTimeout(100);
    const overflow = await page.evaluate(() => {
      const viewport = document.documentElement.clientWidth;
      const page = document.documentElement.scrollWidth;
      if (page <= viewport) return null;
      const culprits = [...document.querySelectorAll('main *, header *')]
        .filter((e) => e.getBoundingClientRect().right > viewport + 1)
        .filter((e) => !e.parentElement || e.parentElement.getBoundingClientRect().right <= viewport + 1)
        .slice(0, 4)
        .map((e) => `${e.tagName.toLowerCase()}${e.className ? '.' + String(e.className).trim().split(/\s+/).join('.') : ''}`);
      return `page ${page} px wide in a ${viewport} px viewport (${culprits.join(', ')})`;
    });
    if (overflow) faults.push(`${name} at ${width} px scrolls sideways: ${overflow}`);
    if (width === 320) {
      await axe(width);
      await page.screenshot({ path: screenshotPath(`phone-320-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`), fullPage: true });
    }
  }
  await page.setViewportSize(DESKTOP);
  return faults;
}

// End-to-end: signing in through one's organisation (issue 28). A real OpenID provider (npm's
// oidc-provider) stands in for NHS CIS2 or Entra ID. A council social worker from an allowed
// domain signs in through it, lands on the home page after choosing an offline passphrase,
// opens her copy offline with that passphrase, and signs out; someone from a domain nobody
// allowed is told in words whom to ask. Synthetic people only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { SERVER, explained, faultsOf, freePort, launchBrowser, screenshotPath, serverEnv, session, startOidcProvider, startServer } from './helpers.mjs';

const SECRET = 'synthetic-e2e-client-secret-42';
const PASSPHRASE = 'kettle harbour violet lantern';
const env = {};

before(async () => {
  const [appPort, providerPort] = [await freePort(), await freePort()];
  env.provider = await startOidcProvider({
    port: providerPort,
    redirectUri: `http://127.0.0.1:${appPort}/api/sso/callback`,
    clientSecret: SECRET,
    users: {
      'sw-0042': { email: 'nia.synthetic@northshire.example', email_verified: true, name: 'Nia Synthetic' },
      'x-77': { email: 'ray.synthetic@elsewhere.example', email_verified: true, name: 'Ray Synthetic' },
    },
  });
  env.server = await startServer([], {
    mail: false,
    port: appPort,
    args: ['--public-url', `http://127.0.0.1:${appPort}`],
    prepare: (dataDir) => execFileSync(SERVER, ['--data-dir', dataDir, 'sso', 'add', '--id', 'northshire', '--label', 'Northshire Council',
      '--issuer', env.provider.issuer, '--client-id', 'mdt-basic', '--domains', 'northshire.example'], {
      input: `${SECRET}\n`, stdio: ['pipe', 'pipe', 'pipe'], env: serverEnv(),
    }),
  });
  env.browser = await launchBrowser();
});

after(async () => {
  await env.browser?.close();
  await env.server?.stop();
  await env.provider?.stop();
});

/** From the app's sign-in page through the provider's own sign-in form, as `login`. */
async function signInThroughProvider(page, login) {
  await page.goto(`${env.server.baseUrl}/`);
  await page.getByRole('link', { name: 'Sign in with Northshire Council' }).click();
  // The provider's page (oidc-provider's development sign-in form).
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
}

test('a person from an allowed domain signs in through the provider, works offline with a passphrase, and signs out', async () => {
  const { page, context } = await session(env.browser);
  await explained(page, 'sso-sign-in', async () => {
    await signInThroughProvider(page, 'sw-0042');
    await page.getByRole('heading', { name: 'Choose an offline passphrase' }).waitFor();
  });
  const faults = await faultsOf(page, 'offline passphrase');
  // Two different passphrases: the error is summarised, linked and focused.
  await page.getByLabel('Offline passphrase').fill(PASSPHRASE);
  await page.getByLabel('Type it again').fill(`${PASSPHRASE}!`);
  await page.getByRole('button', { name: 'Save passphrase and continue' }).click();
  const summary = page.locator('#passphrase-problem');
  await summary.getByRole('link', { name: /The two passphrases are different/ }).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === 'passphrase-problem');
  faults.push(...(await faultsOf(page, 'offline passphrase, mismatch')));
  await page.getByLabel('Type it again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Save passphrase and continue' }).click();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  assert.match(await page.locator('header').innerText(), /Nia Synthetic/);
  await page.screenshot({ path: screenshotPath('sso-home.png'), fullPage: true });

  // Offline, the copy opens with the passphrase (there is no password for this account).
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  await context.setOffline(true);
  await page.reload();
  await page.getByTestId('lock-reason').filter({ hasText: 'You are offline' }).waitFor();
  await page.getByText('Enter the offline passphrase Nia Synthetic').waitFor();
  await page.getByLabel('Offline passphrase').fill('not the passphrase at all');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByText(/does not open the copy on this device/).waitFor();
  await page.getByLabel('Offline passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  await context.setOffline(false);

  // Signing out ends the session; the sign-in page offers the provider again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in with Northshire Council' }).waitFor();
  const probe = await page.evaluate(async () => (await fetch('/api/session/probe')).status);
  assert.equal(probe, 204, 'no session after signing out');
  // Signing in again: the provider remembers her (that is single sign-on), so she comes
  // straight back; signing out wiped the copy on this device, so the new copy asks for a
  // passphrase again.
  await page.getByRole('link', { name: 'Sign in with Northshire Council' }).click();
  await page.getByRole('heading', { name: 'Choose an offline passphrase' }).waitFor();
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.cspViolations, []);
  assert.deepEqual(faults, [], `${faults.length} faults:\n${faults.join('\n')}`);
  await context.close();
});

test('a first sign-in from a domain nobody allowed is refused in words', async () => {
  const { page, context } = await session(env.browser);
  await signInThroughProvider(page, 'x-77');
  await page.getByRole('heading', { name: 'You do not have an account here yet' }).waitFor();
  const text = await page.locator('main').innerText();
  assert.match(text, /Northshire Council says who you are/);
  assert.match(text, /invite you/);
  assert.deepEqual(await faultsOf(page, 'single sign-on refused'), []);
  await page.getByRole('link', { name: 'Go back to sign in' }).click();
  await page.getByRole('link', { name: 'Sign in with Northshire Council' }).waitFor();
  const probe = await page.evaluate(async () => (await fetch('/api/session/probe')).status);
  assert.equal(probe, 204, 'not signed in');
  await context.close();
});

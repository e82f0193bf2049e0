// End-to-end: the second factor of password accounts (issue 28). A site administrator must
// set up an authenticator app at her first sign-in (QR code and the key as text), then signs in
// with its codes (computed by pyotp, never by the app), and with a recovery code, which works
// once. Synthetic people only.
import { test } from 'node:test';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, faultsOf, screenshotPath, session, totpCode, useServerAndBrowser } from './helpers.mjs';

const SAM = 'sam.admin@example.nhs.net';
const env = useServerAndBrowser(before, after, [[SAM, 'Sam Admin', 'other', '--site-admin']], { mail: false });

async function password(page) {
  await page.goto(`${env.baseUrl}/`);
  await page.getByLabel('Email address').fill(SAM);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

test('a site administrator sets up an authenticator, signs in with its codes, and a recovery code works once', async () => {
  const { page, context } = await session(env.browser);
  // Every page of the second factor is checked with axe-core (WCAG 2.2 A/AA) and for sideways
  // scrolling at phone widths.
  const faults = [];
  await password(page);
  await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
  const qr = page.locator('.mdt-qr svg');
  await qr.waitFor();
  const box = await qr.boundingBox();
  assert.ok(box.width >= 150 && box.height >= 150, `QR code ${box.width}×${box.height}`);
  const secret = (await page.getByTestId('second-factor-key').innerText()).trim();
  assert.match(secret, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/, 'the key in groups of four');
  await page.screenshot({ path: screenshotPath('second-factor-set-up.png'), fullPage: true });
  faults.push(...(await faultsOf(page, 'second factor set-up')));

  // A wrong code: summarised, linked to the field, focused.
  await page.getByLabel('Code from the app').fill('000000');
  await page.getByRole('button', { name: 'Check code' }).click();
  await page.locator('#second-factor-problem').getByRole('link', { name: /That code is not right/ }).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === 'second-factor-problem');
  faults.push(...(await faultsOf(page, 'second factor set-up, wrong code')));

  const setUpCode = totpCode(secret);
  await page.getByLabel('Code from the app').fill(setUpCode);
  await page.getByRole('button', { name: 'Check code' }).click();
  const listed = page.getByTestId('recovery-codes').getByRole('listitem');
  await listed.first().waitFor();
  const recovery = await listed.allInnerTexts();
  assert.equal(recovery.length, 10);
  for (const c of recovery) assert.match(c, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
  faults.push(...(await faultsOf(page, 'recovery codes')));
  await page.getByRole('button', { name: /I have kept my recovery codes/ }).click();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  await signOut(page);

  // Next time: a code from the app (the set-up's code was used; the next one is fresh).
  await password(page);
  await page.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
  faults.push(...(await faultsOf(page, 'second factor code')));
  await page.getByLabel('Code from your authenticator app').fill(setUpCode);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#second-factor-problem').getByRole('link', { name: /That code is not right/ }).waitFor();
  await page.getByLabel('Code from your authenticator app').fill(totpCode(secret, 1));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  await signOut(page);

  // A recovery code instead (a lost phone), once.
  await password(page);
  await page.getByLabel('Code from your authenticator app').fill(recovery[0].toUpperCase());
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  await signOut(page);
  await password(page);
  await page.getByLabel('Code from your authenticator app').fill(recovery[0]);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#second-factor-problem').getByRole('link', { name: /That code is not right/ }).waitFor();
  await page.getByLabel('Code from your authenticator app').fill(recovery[1]);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Your teams' }).waitFor();

  // Signed in on a second browser too (another recovery code): the first sees both, and signs
  // the other out.
  const other = await session(env.browser, { userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36' });
  await password(other.page);
  await other.page.getByLabel('Code from your authenticator app').fill(recovery[2]);
  await other.page.getByRole('button', { name: 'Continue' }).click();
  await other.page.getByRole('heading', { name: 'Your teams' }).waitFor();
  await page.getByRole('link', { name: 'Email settings' }).click();
  await page.getByRole('link', { name: 'See where you are signed in' }).click();
  await page.getByRole('heading', { name: 'Where you are signed in' }).waitFor();
  const cards = page.getByTestId('sessions').getByRole('listitem');
  await cards.nth(1).waitFor();
  assert.equal(await cards.count(), 2);
  const phone = cards.filter({ hasText: 'Chrome on Android' });
  await phone.getByText('Password and a recovery code').waitFor();
  await cards.filter({ hasText: 'This browser' }).getByText('Password and a recovery code').waitFor();
  faults.push(...(await faultsOf(page, 'where you are signed in')));
  await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
  await page.getByText('You are now signed in only here.').waitFor();
  assert.equal(await cards.count(), 1);
  assert.equal(await other.page.evaluate(async () => (await fetch('/api/session/probe')).status), 204, 'the other browser is signed out');
  assert.equal(await page.evaluate(async () => (await fetch('/api/session/probe')).status), 200, 'this one is not');
  await other.context.close();

  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.cspViolations, []);
  assert.deepEqual(faults, [], `${faults.length} faults:\n${faults.join('\n')}`);
  await context.close();
});

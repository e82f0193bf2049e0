// End-to-end: the page's first paint before the app's code has arrived (issue 27, the phone's
// first page). index.html holds the sign-in page as static markup (#mdt-shell), and the server
// sends a signed-in request the opening message instead (dist/index-signed-in.html). The app
// takes it over: nothing moves, nothing typed is lost, a sign-in asked for goes ahead, and a
// signed-in person never sees a sign-in form flash up. The app's code is held back or refused
// with Playwright's routing, so no timing is involved. Synthetic demo data only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { APP_HEADER } from '../../scripts/bench_common.mjs';
import { DEMO_PASSWORD, explained, session, useServerAndBrowser } from './helpers.mjs';

const env = useServerAndBrowser(before, after, [], { demo: true, mail: false });

const PRIYA = 'priya.example@demo.nhs.test';
const WASM = '**/*_bg.wasm';

/** What the sign-in page is made of, each with where it sits on the screen. */
const SIGN_IN_PARTS = [
  '.mdt-header__service',
  'main h1',
  'main p.nhsuk-body',
  'label[for=email]',
  '#email',
  'label[for=password]',
  '#password',
  'main button',
];

/** Each visible part's text and box (rounded to a pixel). */
async function layout(page) {
  return page.evaluate((selectors) => selectors.map((selector) => {
    const element = [...document.querySelectorAll(selector)].find((e) => e.getClientRects().length > 0);
    if (!element) return { selector, missing: true };
    const box = element.getBoundingClientRect();
    return {
      selector,
      text: element.innerText?.trim() ?? '',
      box: [box.x, box.y, box.width, box.height].map((n) => Math.round(n)),
    };
  }), SIGN_IN_PARTS);
}

/**
 * Holds the app back until `release()` is called: its loader, its glue code and its wasm (on a
 * slow connection they arrive seconds after the form shows).
 */
async function holdTheApp(page) {
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  for (const code of [WASM, '**/boot-*.js', '**/mdt-web-*.js']) {
    await page.route(code, async (route) => {
      await gate;
      await route.continue();
    });
  }
  return () => release();
}

test('the sign-in page paints before the app arrives, and the app takes it over without moving anything', async () => {
  for (const viewport of [{ width: 412, height: 823 }, { width: 1024, height: 768 }]) {
    const before = await session(env.browser, { viewport });
    await before.page.route(WASM, (route) => route.abort());
    await before.page.goto(`${env.baseUrl}/`);
    await before.page.locator('#mdt-shell').waitFor();
    const staticPage = await layout(before.page);
    assert.ok(await before.page.getByRole('heading', { name: 'Sign in' }).isVisible(), 'the static sign-in heading shows');
    assert.ok(!(await before.page.getByText('Opening your work on this device…').isVisible()), 'a signed-out page does not say it is opening work');
    await before.context.close();

    const after = await session(env.browser, { viewport });
    await explained(after.page, 'static-shell-taken-over', async () => {
      await after.page.goto(`${env.baseUrl}/`);
      await after.page.locator('#mdt-shell').waitFor({ state: 'detached' });
      await after.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });
    const appPage = await layout(after.page);
    assert.deepEqual(appPage, staticPage, `at ${viewport.width} px the app's sign-in page sits exactly where the static one did`);
    assert.ok(staticPage.every((part) => !part.missing), `every part of the sign-in page is in the static page: ${JSON.stringify(staticPage)}`);
    assert.equal(await after.page.locator('#maincontent').count(), 1, 'one main content once the app has taken over');
    assert.deepEqual(after.page.errors, []);
    assert.deepEqual(after.page.cspViolations, []);
    await after.context.close();
  }
});

test('what is typed before the app arrives is kept: the field keeps the keyboard, and a sign-in asked for goes ahead', async () => {
  // Typed, not sent: the app's form holds the same and the password field keeps the focus.
  const typing = await session(env.browser);
  const release = await holdTheApp(typing.page);
  await typing.page.goto(`${env.baseUrl}/`, { waitUntil: 'commit' });
  await typing.page.locator('#mdt-shell #email').fill(PRIYA);
  await typing.page.locator('#mdt-shell #password').fill('half-typ');
  release();
  await explained(typing.page, 'static-shell-typed', async () => {
    await typing.page.locator('#mdt-shell').waitFor({ state: 'detached' });
    await typing.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await typing.page.waitForFunction(() => document.activeElement?.id === 'password');
  });
  assert.equal(await typing.page.locator('#email').inputValue(), PRIYA);
  assert.equal(await typing.page.locator('#password').inputValue(), 'half-typ');
  await typing.page.keyboard.type('ed');
  assert.equal(await typing.page.locator('#password').inputValue(), 'half-typed', 'typing carries on in the same field');
  await typing.context.close();

  // Enter pressed before any of the app's code has arrived: nothing is sent until it has, then
  // it signs in.
  const asking = await session(env.browser);
  const sent = [];
  asking.page.on('request', (r) => { if (r.url().includes('/api/session') && r.method() === 'POST') sent.push(r.url()); });
  const releaseAsking = await holdTheApp(asking.page);
  await asking.page.goto(`${env.baseUrl}/`, { waitUntil: 'commit' });
  await asking.page.locator('#mdt-shell #email').fill(PRIYA);
  await asking.page.locator('#mdt-shell #password').fill(DEMO_PASSWORD);
  await asking.page.locator('#mdt-shell #password').press('Enter');
  await asking.page.locator('#mdt-shell').getByRole('button', { name: 'Signing in…' }).waitFor();
  assert.ok(await asking.page.locator('#mdt-shell button').isDisabled(), 'the static button says it is signing in and cannot be pressed twice');
  assert.deepEqual(sent, [], 'nothing is sent before the app has arrived');
  assert.ok(!asking.page.url().includes('password') && !asking.page.url().includes('?'), `the form never submits itself: ${asking.page.url()}`);
  releaseAsking();
  await explained(asking.page, 'static-shell-asked', () => asking.page.getByRole('heading', { name: 'Your teams' }).waitFor());
  assert.equal(sent.length, 1, 'one sign-in');
  assert.deepEqual(asking.page.errors, []);
  await asking.context.close();
});

test('a signed-in request paints the opening message, never the sign-in form', async () => {
  const { context, page } = await session(env.browser);
  const answer = await context.request.post(`${env.baseUrl}/api/session`, {
    headers: APP_HEADER,
    data: { email: PRIYA, password: DEMO_PASSWORD },
  });
  assert.equal(answer.status(), 200);
  await page.route(WASM, (route) => route.abort());
  await page.goto(`${env.baseUrl}/`);
  await page.getByText('Opening your work on this device…').waitFor();
  assert.ok(!(await page.getByRole('heading', { name: 'Sign in' }).isVisible()), 'no sign-in form for a signed-in request');
  assert.ok(!(await page.getByLabel('Password').isVisible()), 'no password field for a signed-in request');
  await page.unroute(WASM);
  page.errors.length = 0; // the refused wasm's own failure to load
  await explained(page, 'static-shell-signed-in', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Your teams' }).waitFor();
  });
  assert.equal(await page.locator('#mdt-shell').count(), 0, 'the opening message goes once the app shows the page');
  assert.equal(await page.locator('#maincontent').count(), 1);
  assert.deepEqual(page.errors, []);
  await context.close();
});

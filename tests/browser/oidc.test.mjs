// Signing in with an OpenID Connect provider in real Chromium: a host page on another origin opens
// kith's sign-in popup, the popup goes through a real provider (panva's oidc-provider from
// tests/support/oidc, scripted login) and back to kith, whose last page hands the session to the
// opener with postMessage (to the opener's origin only) and closes. A refused sign-in stays open
// on a readable, axe-clean page and tells the opener why.
//
// Then the embed's own "Sign in with MyIdP" button, through the provider's login and consent
// pages: once with the popup able to talk to the page, once with the provider's pages sending
// Cross-Origin-Opener-Policy: same-origin, which cuts the popup off from the page (the embed then
// finds out by itself that the session it drew is open). And the start page of such a sign-in
// refuses to go on when no comment form opened it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { setup, newPage, until, runAxe, repoRoot, freshKey, kithEl, expectText, expectCount } from './harness.mjs';

let env, idp, idpProcess;

async function startIdp() {
  const child = spawn('node', ['server.mjs'], {
    cwd: path.join(repoRoot, 'tests/support/oidc'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', code => reject(new Error(`the provider exited with ${code}`)));
    lines.on('line', line => { if (line.startsWith('listening ')) resolve(line.slice(10).trim()); });
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

const control = (what, body) => fetch(`${idp}/__test/${what}`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
}).then(r => { assert.ok(r.ok, `${what}: ${r.status}`); return r.json(); });

before(async () => {
  const started = await startIdp();
  idpProcess = started.child;
  idp = started.base;
  env = await setup({
    env: {
      KITH_SIGNIN__PROVIDERS: `[{id="myidp",label="MyIdP",kind="oidc",issuer="${idp}",client_id="kith-test",client_secret="kith-test-secret-0123456789abcdef"}]`,
    },
  });
  await control('client', { redirect_uri: `${env.kith.api}/auth/oidc/myidp/callback`, alg: 'RS256' });
  // The site offers the provider (set as an owner would, with `kith site set`).
  execFileSync(process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith',
    ['site', 'set', 'default', '--signin-methods', 'myidp'],
    { env: { PATH: process.env.PATH, KITH_DATABASE__URL: env.kith.dbUrl, KITH_LOG__LEVEL: 'warn' }, stdio: 'pipe' });
  await env.kith.restart();
});

after(async () => {
  await env?.stop();
  idpProcess?.stdin.end();
  idpProcess?.kill();
});

/** Opens the sign-in popup from a host page; resolves with the first kith message the page gets. */
async function signInFromHostPage(context) {
  const page = await newPage(context);
  await page.goto(`${env.host.origin}/p/oidc/?key=/p/oidc/`);
  const popupOpened = context.waitForEvent('page');
  const message = page.evaluate(api => new Promise(resolve => {
    window.addEventListener('message', e => {
      if (e.data && e.data.kith) resolve({ origin: e.origin, data: e.data });
    });
    window.open(`${api}/auth/oidc/myidp/start?origin=${encodeURIComponent(location.origin)}`, 'kith-signin', 'width=480,height=640');
  }), env.kith.api);
  const popup = await popupOpened;
  return { page, popup, message: await message };
}

test('the popup signs in at the provider, hands the session to the opener and closes', async () => {
  const context = await env.browser.newContext();
  const { popup, message } = await signInFromHostPage(context);
  assert.equal(message.origin, env.kith.base);
  assert.equal(message.data.kith, 'signed-in');
  assert.match(message.data.token, /^[0-9a-f]{64}$/);
  assert.deepEqual(message.data.reader, { name: 'Alice Example', provider: 'myidp' });
  await until(() => popup.isClosed(), 'the popup to close');
  await context.close();
});

test('a refused sign-in stays on a readable page and tells the opener why', async () => {
  await control('tamper', { mode: 'expired' });
  const context = await env.browser.newContext();
  const { popup, message } = await signInFromHostPage(context);
  assert.equal(message.origin, env.kith.base);
  assert.equal(message.data.kith, 'signin-failed');
  assert.equal(message.data.error, 'signin_failed');
  assert.ok(!('token' in message.data));
  assert.equal(popup.isClosed(), false);
  assert.equal(await popup.locator('h1').textContent(), 'Not signed in');
  assert.match(await popup.locator('main').textContent(), /ID token has expired/);
  const axe = await runAxe(popup);
  assert.deepEqual(axe.violations.map(v => v.id), []);
  await context.close();
});

const axeSerious = async (page, selector) => (await runAxe(page, selector)).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);

/**
 * Presses the embed's "Sign in", then "Sign in with MyIdP", and signs in at the provider's login
 * and consent pages in the popup as `username`. Resolves with the popup once its last page (kith's
 * callback) has loaded or the popup has closed.
 */
async function signInWithTheEmbed(context, page, username) {
  await kithEl(page, '.kith-signin button:text-is("Sign in")').click();
  const panel = page.getByRole('group', { name: 'Sign in' });
  const popupOpened = context.waitForEvent('page');
  await panel.getByRole('button', { name: 'Sign in with MyIdP' }).click();
  const popup = await popupOpened;
  popup.errors = [];
  popup.on('pageerror', e => popup.errors.push(e));
  await popup.getByLabel('Username').fill(username);
  await popup.getByRole('button', { name: 'Sign in' }).click();
  await popup.getByRole('button', { name: 'Allow' }).click();
  await until(() => popup.isClosed() || popup.url().includes('/auth/oidc/myidp/callback'), 'the way back to kith');
  return popup;
}

/** Posts through the embed's form as the signed-in reader; checks the name and the verified mark. */
async function postSignedIn(page, name, body) {
  const author = kithEl(page, 'input[name=author]');
  assert.equal(await author.inputValue(), name);
  assert.equal(await author.evaluate(input => input.readOnly), true, 'the name is locked');
  await kithEl(page, 'textarea[name=body]').fill(body);
  await kithEl(page, 'button[type=submit]').click();
  const comment = kithEl(page, 'li.kith-comment').filter({ hasText: body });
  await expectCount(comment, 1);
  await expectText(comment.locator('.kith-author'), name);
  await expectText(comment.locator('.kith-verified'), 'verified');
}

test("the embed's own button signs in through the provider's login and consent pages", async () => {
  await control('pages', { forms: true, coop: false });
  const context = await env.browser.newContext();
  try {
    const page = await newPage(context);
    const key = freshKey('oidc-embed');
    await page.goto(`${env.host.origin}${key}`);
    const popup = await signInWithTheEmbed(context, page, 'carol');
    await expectText(kithEl(page, '.kith-signin'), 'Signed in as Alice Example.');
    // The popup told the page and closed; the page holds the session it drew, under its key.
    await until(() => popup.isClosed(), 'the popup to close');
    assert.deepEqual(popup.errors, []);
    const stored = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('kith:session:')));
    const session = JSON.parse(stored[1]);
    assert.match(session.token, /^[0-9a-f]{64}$/);
    assert.equal(session.provider, 'myidp');
    assert.deepEqual(await axeSerious(page, '#kith-thread'), [], 'axe: signed-in form');
    await postSignedIn(page, 'Alice Example', 'Signed in with the button');
    const thread = await (await fetch(`${env.kith.api}/thread?key=${encodeURIComponent(key)}`)).json();
    assert.equal(thread.comments[0].verified, true);
    assert.equal(thread.comments[0].provider, 'myidp');
  } finally {
    await context.close();
    await control('pages', { forms: false, coop: false });
  }
});

test('a provider page with Cross-Origin-Opener-Policy cuts the popup off, and the embed still signs in', async () => {
  await control('pages', { forms: true, coop: true });
  const context = await env.browser.newContext();
  try {
    const page = await newPage(context);
    const key = freshKey('oidc-coop');
    await page.goto(`${env.host.origin}${key}`);
    const messages = [];
    await page.exposeFunction('kithMessageSeen', kind => messages.push(kind));
    await page.evaluate(() => addEventListener('message', e => e.data?.kith && window.kithMessageSeen(e.data.kith)));
    const popup = await signInWithTheEmbed(context, page, 'dave');
    // kith's last page could not reach the page (no opener), so the page found out by itself.
    await expectText(kithEl(page, '.kith-signin'), 'Signed in as Alice Example.');
    if (!popup.isClosed()) {
      assert.equal(await popup.evaluate(() => window.opener), null, 'the opener is cut');
      await expectText(popup.locator('h1'), 'Signed in');
    }
    assert.ok(!messages.includes('signed-in'), `no hand-over message reached the page: ${messages}`);
    assert.ok(messages.includes('signin-start'), 'the start page asked the page before the provider');
    await postSignedIn(page, 'Alice Example', 'Signed in without an opener');
  } finally {
    await context.close();
    await control('pages', { forms: false, coop: false });
  }
});

test('the start page of a sign-in goes nowhere unless the comment form that started it opened it', async () => {
  const context = await env.browser.newContext();
  const page = await newPage(context);
  const poll = 'ab'.repeat(32);
  const providerAsked = [];
  page.on('request', r => { if (r.url().startsWith(idp)) providerAsked.push(r.url()); });
  await page.goto(`${env.kith.api}/auth/oidc/myidp/start?origin=${encodeURIComponent(env.host.origin)}&poll=${poll}`);
  await expectText(page.locator('#message'), 'This window was not opened by the comment form');
  assert.deepEqual(providerAsked, [], 'the provider is never asked');
  assert.deepEqual(await axeSerious(page), [], 'axe: the start page');
  await context.close();
});

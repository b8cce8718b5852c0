// Signing in with an OpenID Connect provider in real Chromium: a host page on another origin opens
// kith's sign-in popup, the popup goes through a real provider (panva's oidc-provider from
// tests/support/oidc, scripted login) and back to kith, whose last page hands the session to the
// opener with postMessage (to the opener's origin only) and closes. A refused sign-in stays open
// on a readable, axe-clean page and tells the opener why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { setup, newPage, until, runAxe, repoRoot } from './harness.mjs';

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

// Reader sign-in by e-mail link (issue 16), end to end in Chromium with the host page on another
// origin than the API: the link goes through a real SMTP conversation with a tiny server here,
// the code from the link's page goes into the embed (typed, or carried back to the page by the
// link's page in the browser that asked), the reader posts with the locked name and the verified
// mark, and signs out. A signed-in reader's like and reaction count once per reader. axe checks the sign-in panel, the signed-in form and the admin
// queue, which says how each author was identified.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { setup, newPage, freshKey, kithEl, expectText, expectCount, expectValue, until, runAxe, apiPost } from './harness.mjs';

/** A minimal SMTP server on loopback that keeps every message's data. */
function startSmtp() {
  const messages = [];
  const server = net.createServer(socket => {
    let buffer = '', inData = false;
    const say = line => socket.write(line + '\r\n');
    say('220 test SMTP');
    socket.on('data', chunk => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          messages.push(buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          inData = false;
          say('250 queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') { say('250-test'); say('250 8BITMIME'); }
        else if (verb === 'DATA') { inData = true; say('354 go on'); }
        else if (verb === 'QUIT') { say('221 bye'); socket.end(); }
        else say('250 ok');
      }
    });
    socket.on('error', () => {});
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    messages,
    stop: () => new Promise(r => server.close(r)),
  })));
}

/** The quoted-printable text of a message, decoded enough to find a link. */
const decoded = data => data.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));

let env, smtp;
before(async () => {
  smtp = await startSmtp();
  env = await setup({ db: 'sqlite', moderation: 'none', env: {
    KITH_MAIL__SMTP_HOST: '127.0.0.1', KITH_MAIL__SMTP_PORT: String(smtp.port), KITH_MAIL__SECURITY: 'plain',
    KITH_MAIL__FROM: 'kith@example.com', KITH_MAIL__POLL_INTERVAL_MS: '100' } });
  // The site offers e-mail sign-in (set as an owner would, with `kith site set`).
  execFileSync(process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith',
    ['site', 'set', 'default', '--signin-methods', 'email'],
    { env: { PATH: process.env.PATH, KITH_DATABASE__URL: env.kith.dbUrl, KITH_LOG__LEVEL: 'warn' }, stdio: 'pipe' });
  await env.kith.restart();
});
after(async () => { await env?.stop(); await smtp?.stop(); });

const axeSerious = async page => {
  const result = await runAxe(page, '#kith-thread');
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
};

test('a reader signs in by e-mail link, posts with the locked name and the verified mark, and signs out', async () => {
  const key = freshKey('signin');
  const context = await env.browser.newContext();
  const page = await newPage(context);
  await page.goto(`${env.host.origin}${key}`);
  const signIn = kithEl(page, '.kith-signin button:text-is("Sign in")');
  await signIn.waitFor();
  await kithEl(page, 'input[name=author]').fill('Ann Lee');
  await signIn.click();
  const panel = page.getByRole('group', { name: 'Sign in' });
  await panel.waitFor();
  assert.equal(await kithEl(page, '#kith-signin-name').inputValue(), 'Ann Lee', 'the typed name is offered');
  await panel.getByLabel('Email').fill('ann@example.com');
  assert.deepEqual(await axeSerious(page), [], 'axe: sign-in panel');
  const before = smtp.messages.length;
  await panel.getByRole('button', { name: 'Send me a link' }).click();
  await expectText(panel.locator('[role=status]'), 'We sent a link to ann@example.com.');

  // The mail arrives through SMTP; its link opens in another tab, whose button shows the code.
  await until(() => smtp.messages.length > before, 'the sign-in mail');
  const mail = decoded(smtp.messages[smtp.messages.length - 1]);
  const link = mail.match(/https?:\/\/[^\s"<>]+\/mail\/signin\/[A-Za-z0-9.-]+/)?.[0];
  assert.ok(link, `a sign-in link in the mail:\n${mail}`);
  const linkPage = await newPage(context);
  await linkPage.goto(link);
  await linkPage.getByRole('button', { name: 'Sign me in' }).click();
  const code = (await linkPage.locator('#code').textContent()).trim();
  assert.match(code, /^[A-Z2-9]{8}$/);
  await linkPage.close();

  await page.getByLabel('Code from the link').fill(code);
  await panel.getByRole('button', { name: 'Sign in' }).click();
  await expectText(kithEl(page, '.kith-signin'), 'Signed in as Ann Lee.');
  const author = kithEl(page, 'input[name=author]');
  assert.equal(await author.inputValue(), 'Ann Lee');
  assert.equal(await author.evaluate(input => input.readOnly), true, 'the name is locked');
  assert.equal(await kithEl(page, 'input[name=email]').isVisible(), false, 'no address field when signed in');
  assert.deepEqual(await axeSerious(page), [], 'axe: signed-in form');

  // Posting: the name is the reader's whatever the field held, and the comment is marked.
  await author.evaluate(input => { input.value = 'Somebody Else'; });
  await kithEl(page, 'textarea[name=body]').fill('Signed in and verified');
  await kithEl(page, 'button[type=submit]').click();
  const comment = kithEl(page, 'li.kith-comment');
  await expectCount(comment, 1);
  await expectText(comment.locator('.kith-author'), 'Ann Lee');
  await expectText(comment.locator('.kith-verified'), 'verified');
  const thread = await (await fetch(`${env.kith.api}/thread?key=${encodeURIComponent(key)}`)).json();
  assert.equal(thread.comments[0].verified, true);
  assert.ok(!JSON.stringify(thread).includes('ann@example.com'), 'the address is never published');

  // Still signed in after a reload (the token is kept in the page's storage), until signing out.
  await page.reload();
  await expectText(kithEl(page, '.kith-signin'), 'Signed in as Ann Lee.');
  const token = await page.evaluate(() => Object.entries(localStorage)
    .find(([k]) => k.startsWith('kith:session:'))?.[1]).then(v => JSON.parse(v).token);
  const whoami = () => fetch(`${env.kith.api}/auth/session`, { headers: { Authorization: `Bearer ${token}` } });

  // The same reader in another browser (the session copied there): their comment has Edit and
  // Delete, which go through the session (no edit token in that browser).
  const stored = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('kith:session:')));
  const other = await env.browser.newContext();
  const otherPage = await newPage(other);
  await otherPage.goto(`${env.host.origin}${key}`);
  await kithEl(otherPage, 'li.kith-comment').waitFor();
  await otherPage.evaluate(([k, v]) => localStorage.setItem(k, v), stored);
  await otherPage.reload();
  const theirs = kithEl(otherPage, 'li.kith-comment');
  await theirs.locator('button:text-is("Edit")').waitFor();
  await theirs.locator('button:text-is("Delete")').click();
  await otherPage.getByRole('dialog', { name: 'Delete' }).getByRole('button', { name: 'Delete' }).click();
  await expectCount(kithEl(otherPage, 'li.kith-comment'), 0);
  await other.close();
  const after = await (await fetch(`${env.kith.api}/thread?key=${encodeURIComponent(key)}`)).json();
  assert.equal(after.total, 0, 'deleted on the server through the session');
  assert.equal((await whoami()).status, 200);
  await kithEl(page, '.kith-signin button:text-is("Sign out")').click();
  await kithEl(page, '.kith-signin button:text-is("Sign in")').waitFor();
  assert.equal(await kithEl(page, 'input[name=author]').evaluate(input => input.readOnly), false);
  assert.equal((await whoami()).status, 401, 'the session is gone on the server');
  assert.equal(await page.evaluate(() => Object.keys(localStorage).some(k => k.startsWith('kith:session:'))), false);
  await context.close();
});

test('with sign-in offered, an anonymous reader comments as before; the sign-in code loads only when asked for', async () => {
  const key = freshKey('anonymous');
  const page = await newPage(env.browser);
  const loaded = [];
  page.on('request', r => { if (r.url().includes('/embed-signin.js')) loaded.push(r.url()); });
  await page.goto(`${env.host.origin}${key}`);
  await kithEl(page, '.kith-signin button:text-is("Sign in")').waitFor();
  const author = kithEl(page, 'input[name=author]');
  assert.equal(await author.evaluate(input => input.readOnly), false);
  assert.equal(await kithEl(page, 'input[name=email]').isVisible(), true);
  await author.fill('Anon Reader');
  await kithEl(page, 'input[name=email]').fill('anon@example.com');
  await kithEl(page, 'textarea[name=body]').fill('No account needed');
  await kithEl(page, 'button[type=submit]').click();
  const comment = kithEl(page, 'li.kith-comment');
  await expectCount(comment, 1);
  await expectText(comment.locator('.kith-author'), 'Anon Reader');
  assert.equal(await comment.locator('.kith-verified').count(), 0, 'no verified mark');
  assert.deepEqual(loaded, [], 'the sign-in module is not loaded for an anonymous reader');
  await kithEl(page, '.kith-signin button:text-is("Sign in")').click();
  await page.getByRole('group', { name: 'Sign in' }).waitFor();
  assert.equal(loaded.length, 1, 'loaded when "Sign in" is pressed');
  await page.close();
});

/** The newest sign-in link mailed (after `before` messages). */
async function newestLink(before) {
  await until(() => smtp.messages.length > before, 'the sign-in mail');
  return decoded(smtp.messages[smtp.messages.length - 1]).match(/https?:\/\/[^\s"<>]+\/mail\/signin\/[A-Za-z0-9.-]+/)[0];
}

/** Presses "Sign in", fills the panel with `email` and `name` and asks for a link: the link mailed. */
async function askForLink(page, email, name) {
  await kithEl(page, '.kith-signin button:text-is("Sign in")').click();
  const panel = page.getByRole('group', { name: 'Sign in' });
  await panel.getByLabel('Email').fill(email);
  await panel.getByLabel('Name').fill(name);
  const before = smtp.messages.length;
  await panel.getByRole('button', { name: 'Send me a link' }).click();
  await expectText(panel.locator('[role=status]'), `We sent a link to ${email}.`);
  return newestLink(before);
}

test("the link's page takes the reader back to the page signed in, in the browser that asked; elsewhere it shows the code", async () => {
  const key = freshKey('signin-back');
  const context = await env.browser.newContext();
  const page = await newPage(context);
  await page.goto(`${env.host.origin}${key}`);
  const link = await askForLink(page, 'bea@example.com', 'Bea');

  // The mail's link, in a new tab of the same browser: the button, then back to the page.
  const linkPage = await newPage(context);
  await linkPage.goto(link);
  await linkPage.getByRole('button', { name: 'Sign me in' }).click();
  const back = linkPage.getByRole('link', { name: 'Back to the page, signed in' });
  assert.match(await back.getAttribute('href'), new RegExp(`^${env.host.origin}${key}#kith-signin=[A-Z2-9]{8}$`));
  assert.deepEqual((await runAxe(linkPage)).violations.map(v => v.id), [], 'axe: the code page');
  await back.click();
  await expectText(kithEl(linkPage, '.kith-signin'), 'Signed in as Bea.');
  assert.equal(new URL(linkPage.url()).hash, '', 'the code left the address bar');
  assert.equal(await kithEl(linkPage, 'input[name=author]').evaluate(input => input.readOnly), true);
  assert.equal((await linkPage.evaluate(() => document.querySelector('#kith-thread').shadowRoot.activeElement?.name)), 'body',
    'the comment box has the focus');
  // The tab that asked follows, without typing anything.
  await expectText(kithEl(page, '.kith-signin'), 'Signed in as Bea.');
  await kithEl(linkPage, '.kith-signin button:text-is("Sign out")').click();
  await kithEl(page, '.kith-signin button:text-is("Sign in")').waitFor();

  // The link opened in another browser (another device): its way back signs nobody in there,
  // and the code it shows still works where the link was asked for.
  const link2 = await askForLink(page, 'bea@example.com', 'Bea');
  const elsewhere = await env.browser.newContext();
  const phone = await newPage(elsewhere);
  await phone.goto(link2);
  await phone.getByRole('button', { name: 'Sign me in' }).click();
  await expectText(phone.locator('main'), 'another device');
  const code = (await phone.locator('#code').textContent()).trim();
  await phone.getByRole('link', { name: 'Back to the page, signed in' }).click();
  await kithEl(phone, '.kith-signin button:text-is("Sign in")').waitFor();
  await kithEl(phone, 'textarea[name=body]').waitFor();
  assert.equal(await phone.evaluate(() => Object.keys(localStorage).some(k => k.startsWith('kith:session:'))), false);
  await elsewhere.close();
  await page.getByLabel('Code from the link').fill(code);
  await page.getByRole('group', { name: 'Sign in' }).getByRole('button', { name: 'Sign in' }).click();
  await expectText(kithEl(page, '.kith-signin'), 'Signed in as Bea.');
  await context.close();
});

/** Signs `email` in through the API as the embed does (the link from the mail); the session token. */
async function signInByApi(email, name) {
  const api = env.kith.api, json = { 'Content-Type': 'application/json' };
  const before = smtp.messages.length;
  const asked = await (await fetch(`${api}/auth/email`, { method: 'POST', headers: json,
    body: JSON.stringify({ email, name, origin: env.host.origin }) })).json();
  await until(() => smtp.messages.length > before, 'the sign-in mail');
  const link = decoded(smtp.messages[smtp.messages.length - 1]).match(/https?:\/\/[^\s"<>]+\/mail\/signin\/[A-Za-z0-9.-]+/)[0];
  const page = await (await fetch(link, { method: 'POST' })).text();
  const code = page.match(/id="code">([A-Z2-9]{8})</)[1];
  const { token } = await (await fetch(`${api}/auth/email/exchange`, { method: 'POST', headers: json,
    body: JSON.stringify({ request: asked.request, code }) })).json();
  return token;
}

test('a signed-in reader manages their comments in the page, without a mail', async () => {
  const token = await signInByApi('mia@example.com', 'Mia');
  const here = freshKey('mine-here'), there = freshKey('mine-there');
  const bearer = { Authorization: `Bearer ${token}` };
  const mine = await apiPostAs(bearer, here, { body: 'Mine *here*' });
  const elsewhere = await apiPostAs(bearer, there, { body: 'Mine over there', thread_title: 'Another post',
    thread_url: `${env.host.origin}${there}` });
  // Someone else's comment on the same page: not in the list.
  await apiPost(env.kith, here, { body: 'Not hers' });

  const context = await env.browser.newContext();
  const page = await newPage(context);
  await page.goto(`${env.host.origin}${here}`);
  await page.evaluate(([key, value]) => localStorage.setItem(key, value),
    [`kith:session:${env.kith.api}/`, JSON.stringify({ token, name: 'Mia', provider: 'email' })]);
  await page.reload();
  await expectText(kithEl(page, '.kith-signin'), 'Signed in as Mia.');
  const mailsBefore = smtp.messages.length;
  await kithEl(page, 'button:text-is("Manage my comments")').click();
  const dialog = page.getByRole('dialog', { name: 'Manage my comments' });
  await dialog.waitFor();
  const items = dialog.locator('li');
  await expectCount(items, 2);
  // Newest first, each linked to its comment on its page.
  await expectText(items.nth(0), 'Mine over there');
  await expectText(items.nth(0).locator('a'), 'Another post');
  assert.equal(await items.nth(0).locator('a').getAttribute('href'), `${env.host.origin}${there}#comment-${elsewhere.comment.id}`);
  await expectText(items.nth(1).locator('.kith-body'), 'Mine here');
  assert.equal(await items.nth(1).locator('.kith-body em').textContent(), 'here', 'the rendered comment');
  assert.ok(!(await dialog.textContent()).includes('Not hers'));
  assert.deepEqual(await axeSerious(page), [], 'axe: the dialog');

  // Editing starts from the comment's source and changes it in the list and in the thread.
  await items.nth(1).getByRole('button', { name: 'Edit' }).click();
  const box = items.nth(1).getByRole('textbox', { name: 'Comment' });
  assert.equal(await box.inputValue(), 'Mine *here*');
  await box.fill('Changed **here**');
  await items.nth(1).getByRole('button', { name: 'Save' }).click();
  await expectText(items.nth(1).locator('.kith-body strong'), 'here');
  await expectText(kithEl(page, `#comment-${mine.comment.id} .kith-body`), 'Changed here');

  // Deleting asks first; the comment on the other page goes on the server.
  await items.nth(0).getByRole('button', { name: 'Delete' }).click();
  await expectText(items.nth(0), 'Delete your comment? This cannot be undone.');
  await items.nth(0).getByRole('button', { name: 'Delete' }).click();
  await expectText(items.nth(0).locator('[role=status]'), 'Your comment was deleted.');
  const gone = await (await fetch(`${env.kith.api}/thread?key=${encodeURIComponent(there)}`)).json();
  assert.equal(gone.total, 0);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expectCount(dialog, 0);
  assert.equal(smtp.messages.length, mailsBefore, 'no mail was sent');

  // Signed out, "Manage my comments" asks for the address and mails a link, as before.
  await kithEl(page, '.kith-signin button:text-is("Sign out")').click();
  await kithEl(page, 'button:text-is("Manage my comments")').click();
  const asks = page.getByRole('dialog', { name: 'Manage my comments' });
  await asks.getByLabel('Email').waitFor();
  await asks.getByRole('button', { name: 'Send link' }).waitFor();
  await context.close();
});

test("a signed-in reader's like and reaction from the embed count once per reader, not per network", async () => {
  const token = await signInByApi('rex@example.com', 'Rex');
  const key = freshKey('signed-in-likes');
  const { comment } = await apiPost(env.kith, key, { author: 'Ann', body: 'like me' });
  const context = await env.browser.newContext();
  const page = await newPage(context);
  await page.goto(`${env.host.origin}${key}`);
  await page.evaluate(([k, v]) => localStorage.setItem(k, v),
    [`kith:session:${env.kith.api}/`, JSON.stringify({ token, name: 'Rex', provider: 'email' })]);
  await page.reload();
  await expectText(kithEl(page, '.kith-signin'), 'Signed in as Rex.');
  const card = kithEl(page, `#comment-${comment.id} > article`);
  const sent = [];
  page.on('request', r => { if (/\/(like|reactions\/hooray)$/.test(r.url()) && r.method() == 'POST') sent.push(r.headers().authorization); });
  await card.locator('input.kith-like').click();
  await expectValue(card.locator('input.kith-like'), '♥ 1');
  await card.getByRole('button', { name: 'Add a reaction', exact: true }).click();
  await card.getByRole('button', { name: 'Hooray 0', exact: true }).click();
  await expectValue(card.getByRole('button', { name: 'Hooray 1', exact: true }), '🎉 1');
  assert.deepEqual(sent, [`Bearer ${token}`, `Bearer ${token}`], 'the session went with the like and the reaction');

  // Anonymous readers are told apart by their address, and this test's requests come from the
  // browser's address: had the embed's like and reaction been keyed by the address, these would
  // be the same reader's again and change nothing. Keyed by the signed-in reader, they count.
  const anonymous = path => fetch(`${env.kith.api}/comments/${comment.id}/${path}`, { method: 'POST' }).then(r => r.json());
  assert.equal((await anonymous('like')).likes, 2);
  assert.equal((await anonymous('reactions/hooray')).reactions.hooray, 2);
  // The reader again, as from another device and network: still once.
  const asReader = path => fetch(`${env.kith.api}/comments/${comment.id}/${path}`,
    { method: 'POST', headers: { Authorization: `Bearer ${token}` } }).then(r => r.json());
  assert.equal((await asReader('like')).likes, 2);
  assert.equal((await asReader('reactions/hooray')).reactions.hooray, 2);
  await context.close();
});

/** Posts a comment through the API with extra headers (a reader's session). */
async function apiPostAs(headers, key, fields) {
  const settings = await (await fetch(`${env.kith.api}/settings`)).json();
  const response = await fetch(`${env.kith.api}/comments`, { method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ thread_key: key, thread_title: 'A post', thread_url: `${env.host.origin}${key}`,
      form_token: settings.form_token, ...fields }) });
  assert.equal(response.status, 201);
  return response.json();
}

test('a site that takes comments only from signed-in readers shows the sign-in link instead of the name fields', async () => {
  execFileSync(process.env.KITH_BIN || '/var/tmp/kith-target/debug/kith',
    ['site', 'set', 'default', '--anonymous-allowed', 'false'],
    { env: { PATH: process.env.PATH, KITH_DATABASE__URL: env.kith.dbUrl, KITH_LOG__LEVEL: 'warn' }, stdio: 'pipe' });
  await env.kith.restart();
  const page = await newPage(env.browser);
  await page.goto(`${env.host.origin}${freshKey('members')}`);
  await expectText(kithEl(page, '.kith-signin'), 'This site takes comments from signed-in readers.');
  await kithEl(page, '.kith-signin button:text-is("Sign in")').waitFor();
  assert.equal(await kithEl(page, 'input[name=author]').isVisible(), false, 'no name field');
  assert.equal(await kithEl(page, 'button[type=submit]').isDisabled(), true, 'nothing to post anonymously');
  assert.deepEqual(await axeSerious(page), [], 'axe: sign-in required');
  // The server refuses an anonymous post whatever the page shows.
  const settings = await (await fetch(`${env.kith.api}/settings`)).json();
  assert.equal(settings.signin.anonymous_allowed, false);
  const refused = await fetch(`${env.kith.api}/comments`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ thread_key: '/x/', author: 'Bob', email: 'bob@example.com', body: 'hi', form_token: settings.form_token }) });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, 'sign_in_required');
  await page.close();
});

test('the admin queue says how each author was identified', async () => {
  // A signed-in reader's comment, through the API as the embed does it (the link from the mail).
  const api = env.kith.api, json = { 'Content-Type': 'application/json' };
  const before = smtp.messages.length;
  const asked = await (await fetch(`${api}/auth/email`, { method: 'POST', headers: json,
    body: JSON.stringify({ email: 'zoe@example.com', name: 'Zoe', origin: env.host.origin }) })).json();
  await until(() => smtp.messages.length > before, 'the sign-in mail');
  const link = decoded(smtp.messages[smtp.messages.length - 1]).match(/https?:\/\/[^\s"<>]+\/mail\/signin\/[A-Za-z0-9.-]+/)[0];
  const page = await (await fetch(link, { method: 'POST' })).text();
  const code = page.match(/id="code">([A-Z2-9]{8})</)[1];
  const { token } = await (await fetch(`${api}/auth/email/exchange`, { method: 'POST', headers: json,
    body: JSON.stringify({ request: asked.request, code }) })).json();
  const settings = await (await fetch(`${api}/settings`)).json();
  const posted = await fetch(`${api}/comments`, { method: 'POST', headers: { ...json, Authorization: `Bearer ${token}` },
    body: JSON.stringify({ thread_key: freshKey('queue'), body: 'Signed in, for the queue', form_token: settings.form_token }) });
  assert.equal(posted.status, 201);

  // The first admin, from the one-time setup link in the log; then the queue.
  const setup = [...env.kith.log().matchAll(/(\/admin\/setup\?token=[0-9a-f]{64})/g)].pop()[1];
  const context = await env.browser.newContext();
  const admin = await newPage(context);
  await admin.goto(env.kith.base + setup);
  await admin.getByLabel("Your site's name").fill('Quiet Corner');
  await admin.getByLabel("Your blog's address").fill(env.host.origin);
  await admin.getByLabel('Login name').fill('owner');
  await admin.getByLabel('Password', { exact: true }).fill('a long enough password 16');
  await admin.getByLabel('Password again').fill('a long enough password 16');
  await admin.getByRole('button', { name: 'Create admin' }).click();
  await expectText(admin.locator('h1'), 'Dashboard');
  await admin.goto(`${env.kith.base}/admin/comments?status=approved`);
  const row = admin.locator('article', { hasText: 'Signed in, for the queue' });
  await expectText(row.locator('.identified'), 'signed in by e-mail link (email:zoe@example.com)');
  const result = await runAxe(admin);
  assert.deepEqual(result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id), [], 'axe: the queue');
  await context.close();
});

// A real OpenID Connect provider (panva's `oidc-provider`, a certified implementation) on a
// loopback port, for tests/api/oidc.rs. Nothing of the protocol is faked: discovery, the
// authorization endpoint with PKCE, the token endpoint with client authentication, the JWKS and
// userinfo are the library's own. What this script adds for the tests:
//
// - a scripted login: `/interaction/{uid}` signs in the account chosen with
//   `POST /__test/account` and grants the requested scopes, instead of showing a login form;
// - `POST /__test/client {redirect_uri, alg}` registers kith's client (the provider is built
//   then, because kith's callback port is only known after kith started);
// - `POST /__test/tamper {mode}`: the token endpoint's real answer is passed through, but its
//   `id_token` is replaced by a crafted one, for the refusal tests: `expired`, `wrong_audience`,
//   `wrong_nonce`, `wrong_issuer` (re-signed with the provider's own key), `other_key` (the
//   same claims and `kid`, signed with a key the provider never published), `unknown_kid` (a
//   key nobody published), `rotated` (a new key published in the JWKS from now on, so a
//   client with a cached JWKS must fetch it again), `none` (pass through).
// - `POST /__test/pages {forms, coop}`: with `forms`, the login and consent steps are pages a
//   person (or a browser test) fills in: a login form (`Username`, "Sign in") and a consent
//   page ("Allow"), as real providers show them; with `coop`, every answer of the provider
//   carries `Cross-Origin-Opener-Policy: same-origin`, which (as on some real providers) cuts
//   the popup off from the page that opened it (`window.opener` is null from then on).
//
// Prints `listening <port>` on stdout once it accepts connections. Ends with its parent's stdin.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

// stdout carries the one `listening` line (the test stops reading after it); everything the
// library prints goes to stderr.
console.log = console.info = (...args) => console.error(...args);
process.stdout.on('error', () => {});

const CLIENT_ID = 'kith-test';
const CLIENT_SECRET = 'kith-test-secret-0123456789abcdef';

const signing = {};
for (const alg of ['RS256', 'ES256']) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  signing[alg] = { ...jwk, kid: `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`, alg, use: 'sig' };
}
// Public keys published besides the provider's own (the `rotated` mode adds one).
const extraPublished = [];

let provider = null;
let account = { sub: 'alice', name: 'Alice Example', preferred_username: 'alice', email: 'alice@example.org', email_verified: true };
let tamper = 'none';
let pages = { forms: false, coop: false };

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://placeholder');
    if (url.pathname.startsWith('/__test/')) return await control(url.pathname, req, res);
    if (!provider) return send(res, 503, { error: 'no client registered yet' });
    if (pages.coop) res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    if (pages.forms && url.pathname.startsWith('/interaction/')) return await interactionPage(req, res, url);
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res);
    if (url.pathname === '/jwks' && !url.searchParams.has('own') && extraPublished.length) return await jwks(req, res);
    if (url.pathname === '/token' && tamper !== 'none') return await tamperedToken(req, res);
    return provider.callback()(req, res);
  } catch (e) {
    console.error(e);
    send(res, 500, { error: String(e) });
  }
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

function issuer() {
  return `http://127.0.0.1:${server.address().port}`;
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function control(path, req, res) {
  const body = JSON.parse((await readBody(req)).toString() || '{}');
  if (path === '/__test/client') {
    provider = build(body.redirect_uri, body.alg || 'RS256');
    return send(res, 200, { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, issuer: issuer() });
  }
  if (path === '/__test/account') {
    account = body;
    return send(res, 200, account);
  }
  if (path === '/__test/pages') {
    pages = { forms: !!body.forms, coop: !!body.coop };
    return send(res, 200, pages);
  }
  if (path === '/__test/tamper') {
    tamper = body.mode;
    return send(res, 200, { mode: tamper });
  }
  return send(res, 404, { error: 'unknown control' });
}

function build(redirectUri, alg) {
  const accounts = new Map();
  const p = new Provider(issuer(), {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: alg,
    }],
    jwks: { keys: [signing.RS256, signing.ES256] },
    // Every client must use PKCE, as kith always does.
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    cookies: { keys: ['kith-test-cookie-key-0123456789'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const claims = accounts.get(id) || account;
      return { accountId: id, claims: async () => ({ ...claims, sub: id }) };
    },
  });
  p.on('server_error', (_ctx, e) => console.error('server_error', e));
  p.accounts = accounts;
  return p;
}

// The scripted login and consent: the chosen account signs in and grants what was asked.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    provider.accounts.set(account.sub, account);
    return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

// The login and consent steps as pages (`pages.forms`): GET shows the form, POST finishes the
// step with what was submitted. The signed-in account is the configured one under the typed
// username (its `sub`).
async function interactionPage(req, res, url) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'POST') {
    const form = new URLSearchParams((await readBody(req)).toString());
    if (details.prompt.name === 'login') {
      const sub = form.get('username') || account.sub;
      provider.accounts.set(sub, { ...account, sub });
      return provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
    }
    return interaction(req, res);
  }
  const action = `/interaction/${details.uid}`;
  const body = details.prompt.name === 'login'
    ? `<h1>Sign in to MyIdP</h1><form method="post" action="${action}"><label for="username">Username</label>
       <input id="username" name="username" autocomplete="username"><button type="submit">Sign in</button></form>`
    : `<h1>Allow access?</h1><p>${details.params.client_id} asks for your name and e-mail address.</p>
       <form method="post" action="${action}"><button type="submit">Allow</button></form>`;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>MyIdP</title></head><body><main>${body}</main></body></html>`);
}

// The provider's JWKS plus the keys published since (`rotated`).
async function jwks(req, res) {
  const own = await fetch(`${issuer()}/jwks?own=1`).then((r) => r.json());
  send(res, 200, { keys: [...own.keys, ...extraPublished] });
}

// The real token endpoint answers (through a second request to this same server); its ID token
// is then swapped for a crafted one.
async function tamperedToken(req, res) {
  const body = await readBody(req);
  const mode = tamper;
  tamper = 'none';
  const upstream = await fetch(`${issuer()}/token`, {
    method: 'POST',
    headers: {
      'content-type': req.headers['content-type'],
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    },
    body,
  });
  const answer = await upstream.json();
  if (!upstream.ok || !answer.id_token) return send(res, upstream.status, answer);
  const header = jose.decodeProtectedHeader(answer.id_token);
  const claims = jose.decodeJwt(answer.id_token);
  const now = Math.floor(Date.now() / 1000);
  let key = header.alg === 'ES256' ? signing.ES256 : signing.RS256;
  let kid = key.kid;
  if (mode === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  else if (mode === 'wrong_audience') claims.aud = 'someone-else';
  else if (mode === 'wrong_nonce') claims.nonce = 'not-the-nonce-kith-sent';
  else if (mode === 'wrong_issuer') claims.iss = 'http://127.0.0.1:1';
  else if (mode === 'other_key' || mode === 'unknown_kid' || mode === 'rotated') {
    const { privateKey, publicKey } = await jose.generateKeyPair(header.alg, { extractable: true });
    key = { ...(await jose.exportJWK(privateKey)), alg: header.alg };
    if (mode !== 'other_key') kid = `new-${randomUUID().slice(0, 8)}`;
    if (mode === 'rotated') {
      extraPublished.push({ ...(await jose.exportJWK(publicKey)), kid, alg: header.alg, use: 'sig' });
    }
  } else {
    return send(res, 500, { error: `unknown tamper mode ${mode}` });
  }
  answer.id_token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: header.alg, kid, typ: header.typ })
    .sign(await jose.importJWK(key, header.alg));
  send(res, 200, answer);
}

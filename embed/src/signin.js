// The sign-in panel (embed-signin.js, loaded on demand when the reader presses "Sign in"): a
// button per OpenID Connect / OAuth provider the site offers, and sign-in by e-mail link. How it
// works and why the session is a token kept in this page's storage, not a cookie: docs/signin.md.
import { el, button } from './dom.js';
import { save } from './storage.js';

/**
 * Shows the panel in `box`. `prefill` holds the form's name and address; `done` runs once the
 * reader is signed in (the session is saved under `view.api.key` by then).
 */
export function signIn(view, box, prefill, done) {
  // An e-mail sign-in's browser secret, kept in this page's storage until used: the link's page
  // sends the reader back to this page with the code (form.js), maybe in another tab.
  const pendingKey = 'signin:' + view.api.base;
  const { t } = view.i18n;
  const { email: byMail, providers = [] } = view.settings.signin;
  const apiOrigin = new URL(view.serverBase).origin;
  const error = el('p', { className: 'kith-form-error', role: 'alert' });
  // (In the panel once a provider's popup opened: what to do there.)
  const status = el('p', { role: 'status' });
  const fail = failure => { error.textContent = view.errorMessage(failure); };
  // The provider sign-in waiting for its popup (see `providerButton`), and its polling.
  let waiting = null, timer;
  const stop = () => {
    waiting = null;
    clearInterval(timer);
    removeEventListener('message', onMessage);
    removeEventListener('focus', check);
  };
  const finish = ({ token, reader }) => {
    stop();
    save(pendingKey, null);
    save(view.api.key, { token, name: reader.name, provider: reader.provider });
    done();
    view.announce(t('signed_in_as', { name: reader.name }));
  };
  // Whether the session this page drew has been opened: the popup's last page may not be able to
  // tell this window (a provider page with Cross-Origin-Opener-Policy cuts `window.opener`), so
  // the page asks the server itself, with the token only it knows.
  let checking = false;
  async function check() {
    const flow = waiting;
    if (!flow || checking) return;
    if (!panel.isConnected || Date.now() > flow.until) return stop();
    checking = true;
    try {
      const { reader } = await view.api('auth/session', { headers: { Authorization: 'Bearer ' + flow.token } });
      if (waiting == flow) finish({ token: flow.token, reader });
    } catch {
      // not signed in yet (401), or the network: the next check tries again
    }
    checking = false;
  }
  // The server's pages in the popup talk to this window, and only messages from that popup, on
  // the API's own origin, count (not the page, nor any other frame, even one of the API's
  // origin): the start page asks whether this window really started the sign-in (so a link to
  // the start URL cannot sign anyone in for somebody else), and the last page says how it ended
  // (an older server's page hands over the session itself, as `token`).
  let popup;
  function onMessage({ origin, data, source }) {
    if (origin != apiOrigin || !popup || source != popup || !data?.kith) return;
    if (data.kith == 'signin-start' && waiting && data.poll == waiting.hash) {
      popup.postMessage({ kith: 'signin-continue', poll: waiting.hash }, apiOrigin);
    } else if (data.kith == 'signed-in') {
      if (data.token) finish(data);
      else check();
    } else if (data.kith == 'signin-failed') {
      stop();
      status.textContent = '';
      error.textContent = data.message || t('error');
    }
  }

  // A provider sign-in's session token is drawn here, ahead of the click (the popup must open in
  // the click itself): the start URL carries only its SHA-256 (`poll`), and the server opens the
  // session under that hash once the provider vouched for the reader. Without Web Crypto (a page
  // not served over HTTPS) the popup hands the session over by postMessage alone.
  let next = null;
  const draw = () => {
    const token = Array.from(crypto.getRandomValues(new Uint8Array(32)), b => b.toString(16).padStart(2, '0')).join('');
    crypto.subtle?.digest('SHA-256', new TextEncoder().encode(token)).then(digest => {
      next = { token, hash: Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('') };
    }, () => {});
  };
  draw();
  const providerButton = provider => button(t('sign_in_with', { provider: provider.label }), () => {
    const flow = next;
    next = null;
    draw();
    error.textContent = '';
    popup = open(`${view.api.base}auth/oidc/${encodeURIComponent(provider.id)}/start?origin=${encodeURIComponent(location.origin)}`
      + (flow ? '&poll=' + flow.hash : ''), 'kith-signin', 'popup,width=520,height=680');
    stop();
    addEventListener('message', onMessage);
    if (flow) {
      // Checked every two seconds and when this window gets the focus back, for as long as the
      // server keeps a sign-in open (signin.flow_ttl_secs, 10 minutes by default).
      waiting = { ...flow, until: Date.now() + 15 * 60000 };
      timer = setInterval(check, 2000);
      addEventListener('focus', check);
    }
    status.textContent = t('signin_waiting');
    error.before(status);
  }, 'kith-button kith-secondary');

  const field = (name, label, props) => {
    const input = el('input', { id: 'kith-signin-' + name, name, className: 'kith-input', required: true, ...props });
    return [input, el('div', { className: 'kith-field' }, el('label', { htmlFor: input.id }, label), input)];
  };
  const panel = el('div', { role: 'group', 'aria-labelledby': 'kith-signin-title' },
    el('h4', { className: 'kith-form-title', id: 'kith-signin-title' }, t('sign_in')));
  for (const provider of providers) panel.append(providerButton(provider));
  if (byMail) {
    const [email, emailField] = field('email', t('email'), { type: 'email', autocomplete: 'email', value: prefill.email });
    const [name, nameField] = field('name', t('author'), { autocomplete: 'name', value: prefill.name });
    const step = el('div', {}, el('p', { className: 'kith-note' }, t('signin_email_help')), emailField, nameField,
      button(t('send_link'), async () => {
        error.textContent = '';
        if (!email.value.trim()) return email.focus();
        try {
          const { request } = await view.api('auth/email', {
            method: 'POST',
            body: { email: email.value.trim(), name: name.value.trim(), origin: location.origin, page: location.href.split('#')[0] },
          });
          save(pendingKey, { request });
          const [code, codeField] = field('code', t('signin_code'), { autocomplete: 'one-time-code', autocapitalize: 'characters' });
          step.replaceChildren(el('p', { role: 'status' }, t('signin_sent', { email: email.value.trim() })), codeField,
            button(t('sign_in'), () => view.api('auth/email/exchange', {
              method: 'POST', body: { request, code: code.value },
            }).then(finish, fail), 'kith-button'));
          code.focus();
        } catch (failure) {
          fail(failure);
        }
      }, 'kith-button'));
    panel.append(step);
  }
  panel.append(error);
  box.replaceChildren(panel);
  panel.querySelector('input, button')?.focus();
}

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
  const { t } = view.i18n;
  const { email: byMail, providers = [] } = view.settings.signin;
  const apiOrigin = new URL(view.serverBase).origin;
  const error = el('p', { className: 'kith-form-error', role: 'alert' });
  const fail = failure => { error.textContent = view.errorMessage(failure); };
  const finish = ({ token, reader }) => {
    removeEventListener('message', onMessage);
    save(view.api.key, { token, name: reader.name, provider: reader.provider });
    done();
    view.announce(t('signed_in_as', { name: reader.name }));
  };
  // A provider's popup ends on the server's page, which posts the session to this window: only a
  // message from that popup, on the API's own origin, counts (not the page, nor any other frame,
  // even one of the API's origin).
  let popup;
  const onMessage = ({ origin, source, data }) => {
    if (origin == apiOrigin && popup && source == popup && data?.kith == 'signed-in' && data.token) finish(data);
  };
  addEventListener('message', onMessage);

  const field = (name, label, props) => {
    const input = el('input', { id: 'kith-signin-' + name, name, className: 'kith-input', required: true, ...props });
    return [input, el('div', { className: 'kith-field' }, el('label', { htmlFor: input.id }, label), input)];
  };
  const panel = el('div', { role: 'group', 'aria-labelledby': 'kith-signin-title' },
    el('h4', { className: 'kith-form-title', id: 'kith-signin-title' }, t('sign_in')));
  for (const provider of providers) {
    panel.append(button(t('sign_in_with', { provider: provider.label }), () => popup = open(
      `${view.api.base}auth/oidc/${encodeURIComponent(provider.id)}/start?origin=${encodeURIComponent(location.origin)}`,
      'kith-signin', 'popup,width=520,height=680'), 'kith-button kith-secondary'));
  }
  if (byMail) {
    const [email, emailField] = field('email', t('email'), { type: 'email', autocomplete: 'email', value: prefill.email });
    const [name, nameField] = field('name', t('author'), { autocomplete: 'name', value: prefill.name });
    const step = el('div', {}, el('p', { className: 'kith-note' }, t('signin_email_help')), emailField, nameField,
      button(t('send_link'), async () => {
        error.textContent = '';
        if (!email.value.trim()) return email.focus();
        try {
          const { request } = await view.api('auth/email', {
            method: 'POST', body: { email: email.value.trim(), name: name.value.trim(), origin: location.origin },
          });
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

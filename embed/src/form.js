// The "Leave a Reply" form: at the bottom of the thread, or moved under a comment to reply to it.
import { el, button, trusted } from './dom.js';
import { load, save } from './storage.js';
import { proveWork } from './pow.js';
import { markdownPreview } from './editor.js';
import { openDialog } from './dialogs.js';

const PERSON_FIELDS = ['author', 'email', 'website'];

export function createForm(view) {
  const { t } = view.i18n;
  const draftKey = 'draft:' + view.site + view.threadKey;
  const byId = id => view.root.getElementById('kith-' + id);

  const field = (name, required, props, tag = 'input') => {
    const input = el(tag, {
      id: 'kith-' + name, name, className: 'kith-input', required,
      maxLength: view.settings.limits?.[name], 'aria-describedby': `kith-${name}-error`, ...props,
    });
    return el('div', { className: 'kith-field' },
      el('label', { htmlFor: input.id }, t(name), required && el('span', { className: 'kith-required', 'aria-hidden': 'true' }, ' *')),
      input,
      el('span', { className: 'kith-field-error', id: `kith-${name}-error` }));
  };
  const checkbox = name => el('label', { className: 'kith-check' }, el('input', { type: 'checkbox', name }), ' ', t(name));

  const title = el('h3', { className: 'kith-form-title' }, t('leave'));
  const person = el('div', { className: 'kith-row' },
    field('author', view.settings.require_name, { autocomplete: 'name' }),
    field('email', view.settings.require_email, { type: 'email', autocomplete: 'email' }),
    field('website', false, { type: 'url', autocomplete: 'url' }));

  // Optional sign-in (docs/signin.md): "Sign in" loads the panel (embed-signin.js) on demand;
  // signed in, the name is the reader's and locked, the address field goes (the server has it).
  const signin = view.settings.signin || {};
  const signinBox = el('div', { className: 'kith-signin' });
  const renderSignin = () => {
    const session = load(view.api.key);
    const blocked = !session && signin.anonymous_allowed === false;
    const { author, email } = fields;
    author.readOnly = !!session;
    if (session) author.value = session.name;
    author.required = !session && view.settings.require_name;
    email.required = !session && view.settings.require_email;
    email.parentNode.hidden = !!session;
    person.hidden = submit.disabled = blocked;
    manageBox.hidden = !session && view.settings.mail === false;
    signinBox.replaceChildren(...session
      ? [t('signed_in_as', { name: session.name }), ' ', button(t('sign_out'), async () => {
        await view.api('auth/session', { method: 'DELETE' }).catch(() => {});
        save(view.api.key, null);
        renderSignin();
        view.announce(t('signed_out'));
      })]
      : signin.email || signin.providers?.length ? [blocked ? t('sign_in_needed') + ' ' : '', button(t('sign_in'), () =>
        signinModule().then(module => module.signIn(view, signinBox, { name: author.value, email: email.value }, renderSignin), showError))]
      : []);
  };
  /** The sign-in module (embed-signin.js), loaded the first time it is needed. */
  let signinLoad;
  const signinModule = () => (signinLoad ||= import(`${view.serverBase}embed-signin.js?v=${SIGNIN_VERSION}`).then(module => {
    module.provide({ el, button, load, save, trusted });
    return module;
  }, error => { signinLoad = null; throw error; }));
  const cancelReply = button(t('cancel'), () => open(null), 'kith-link-button kith-cancel-reply');
  cancelReply.hidden = true;
  const bodyField = field('body', true, { rows: 6 }, 'textarea');
  const { preview, toggle: previewToggle, write: showEditor } = markdownPreview(view, bodyField.querySelector('textarea'), error => showError(error));
  const formError = el('p', { className: 'kith-form-error', role: 'alert' });
  const submit = el('button', { type: 'submit', className: 'kith-button' }, t('submit'));

  const form = el('form', {
    className: 'kith-form',
    noValidate: true,
    // A form that cannot go anywhere, should its submit handler ever fail: a plain submission
    // would send the reader's address in the URL of the page, or of the host's `<base href>`.
    method: 'dialog',
    onsubmit: event => { event.preventDefault(); send(); },
    oninput: event => {
      const input = event.target;
      if (input == fields.body) save(draftKey, input.value);
      if (input.id) {
        input.removeAttribute('aria-invalid');
        const error = byId(input.name + '-error');
        if (error) error.textContent = '';
      }
    },
  },
  el('div', { className: 'kith-form-header' }, title, cancelReply),
  el('p', { className: 'kith-note' }, t('note')),
  signinBox,
  bodyField,
  preview,
  person,
  // The honeypot: invisible to people and to assistive technology, filled in by naive bots.
  el('div', { className: 'kith-honeypot', 'aria-hidden': 'true' },
    el('label', {}, t('hp'), el('input', { name: 'hp', tabIndex: -1, autocomplete: 'off' }))),
  checkbox('notify_replies'),
  checkbox('notify_thread'),
  checkbox('remember'),
  formError,
  el('div', { className: 'kith-buttons' }, submit, previewToggle));

  // The form's fields by name, in an object without a prototype: `form.elements.body` would give
  // a polluted Object.prototype's `body` instead of the field.
  const fields = { __proto__: null };
  for (const input of form.elements) fields[input.name] = input;
  // "Manage my comments": a signed-in reader gets the list of their comments at once (mine.js, in
  // the sign-in module); anyone else asks the server to mail a link to the address, if it has
  // comments here. Hidden when the server sends no mail and nobody can sign in.
  const manage = button(t('manage'), () => (load(view.api.key)
    ? signinModule().then(module => module.manageComments(view)).catch(error => {
      showError(error);
      if (error.error == 'session_expired') renderSignin();
    })
    : openDialog(view, {
      title: t('manage'),
      text: t('manage_help'),
      field: { label: t('email'), type: 'email', value: fields.email.value },
      confirmLabel: t('send'),
      onConfirm: async email => {
        await view.api('mail/manage', { method: 'POST', body: { email } });
        return t('manage_sent');
      },
      showResult: true,
    })), 'kith-link-button kith-manage');
  const manageBox = el('p', {}, manage);
  const home = el('div', {}, view.closed ? el('p', { className: 'kith-closed' }, t('closed')) : form, manageBox);
  fields.body.value = load(draftKey) || '';
  const remembered = load('me');
  if (remembered) {
    for (const name of PERSON_FIELDS) fields[name].value = remembered[name] || '';
    fields.remember.checked = true;
  }

  renderSignin();
  // Signed in or out in another tab (a sign-in link's page sends the reader back in a new one):
  // this form follows.
  addEventListener('storage', ({ key }) => { if (key?.endsWith(view.api.key)) renderSignin(); });
  // Back from an e-mail sign-in link's page, whose link carries the one-time code in the
  // fragment (docs/signin.md): with the browser secret this browser kept when it asked for the
  // link, the code signs it in, no typing. The code leaves the address bar at once.
  const back = /^#kith-signin=([A-Z0-9]+)$/.exec(location.hash);
  const pendingKey = 'signin:' + view.api.base;
  const pending = back && load(pendingKey);
  if (back) history.replaceState(history.state, '', location.href.split('#')[0]);
  if (pending) {
    view.api('auth/email/exchange', { method: 'POST', body: { request: pending.request, code: back[1] } }).then(({ token, reader }) => {
      save(pendingKey, null);
      save(view.api.key, { token, name: reader.name, provider: reader.provider });
      renderSignin();
      if (form.isConnected) fields.body.focus();
      view.announce(t('signed_in_as', { name: reader.name }));
    }, error => showError(error));
  }

  let replyTo = null;
  /** Back to the bottom, as "Leave a Reply". */
  const reset = () => {
    replyTo = null;
    title.textContent = t('leave');
    cancelReply.hidden = true;
    home.append(form);
  };
  /** Opens the form as a reply to `comment` (under its `item`), or at the bottom when null. */
  const open = (comment, item) => {
    reset();
    if (comment) {
      replyTo = comment.id;
      title.textContent = t('reply_to', { name: comment.author || t('anon') });
      cancelReply.hidden = false;
      item.insertBefore(form, item.lastChild);
    }
    (comment ? fields.body : item || fields.body).focus();
  };

  /** Shows an error next to its field (422 with `field`), else above the buttons. */
  const showError = error => {
    const input = error.field && byId(error.field);
    if (error.status == 422 && input) {
      input.setAttribute('aria-invalid', 'true');
      byId(error.field + '-error').textContent = view.errorMessage(error);
      input.focus();
    } else {
      formError.textContent = view.errorMessage(error);
    }
  };

  // After a post, a new form token and challenge; after a failure only a new challenge (a
  // solution is single-use, while a new token would restart the server's minimum form age).
  let settingsRefresh;
  const refreshSettings = everything => {
    settingsRefresh = view.api('settings').then(settings => {
      if (everything) view.settings = settings;
      else view.settings.pow = settings.pow;
    }, () => {});
  };

  const send = async () => {
    formError.textContent = '';
    const value = name => fields[name].value.trim();
    const missing = [];
    for (const name of ['body', 'author', 'email']) if (fields[name].required && !value(name)) missing.push(name);
    if (missing.length) {
      for (const name of missing) showError({ status: 422, field: name, message: t('required') });
      return byId(missing[0]).focus();
    }
    submit.disabled = true;
    submit.textContent = t('posting');
    try {
      await settingsRefresh;
      const { settings } = view;
      const pow = settings.pow ? { challenge: settings.pow.challenge, nonce: await proveWork(settings.pow) } : null;
      const result = await view.api('comments', {
        method: 'POST',
        body: {
          thread_key: view.threadKey, thread_title: view.threadTitle, thread_url: location.href.split('#')[0],
          parent_id: replyTo, author: value('author'), email: value('email'), website: value('website') || null,
          body: fields.body.value, notify_replies: fields.notify_replies.checked, notify_thread: fields.notify_thread.checked,
          form_token: settings.form_token, hp: fields.hp.value, pow,
        },
      });
      const comment = result.comment;
      const me = {};
      for (const name of PERSON_FIELDS) me[name] = value(name);
      save('me', fields.remember.checked ? me : null);
      view.own.entries[comment.id] = {
        id: comment.id, edit_token: result.edit_token, editable_until: result.editable_until,
        comment, body: fields.body.value, key: view.threadKey,
      };
      view.own.persist();
      const item = view.addComment(comment, replyTo);
      fields.body.value = '';
      save(draftKey, null);
      showEditor();
      open(null, item.firstChild);
      view.announce(t(comment.status == 'pending' ? 'pending' : 'posted'));
      refreshSettings(true);
    } catch (error) {
      showError(error);
      if (error.error == 'session_expired') renderSignin();
      if (view.settings.pow) refreshSettings(false);
    }
    submit.disabled = false;
    submit.textContent = t('submit');
  };

  return {
    home,
    open,
    /** Puts the form back at the bottom if it sits inside `item`, which is about to go. */
    rescueFrom: item => { if (item.contains(form)) reset(); },
  };
}

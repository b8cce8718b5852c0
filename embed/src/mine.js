// "Manage my comments" for a signed-in reader (docs/signin.md): an in-page dialog listing their
// comments on this site (`GET …/auth/comments`, the session is the proof, no mail), each linked to
// its page, with Edit and Delete while the site lets signed-in readers change them. Comments on
// the page the reader is reading change there too. Part of the sign-in module (embed-signin.js).
import { el, button, trusted } from './dom.js';

/** Opens the dialog; resolves once it is open (a failed listing is thrown, for the form to show). */
export async function manageComments(view) {
  const { t } = view.i18n;
  const { comments } = await view.api('auth/comments');
  const opener = view.root.activeElement;
  const list = el('ol', {});
  const close = button(t('close'), () => dialog.close(), 'kith-button kith-secondary');
  const dialog = el('dialog', {
    className: 'kith-dialog',
    'aria-labelledby': 'kith-mine-title',
    onclose: () => {
      dialog.remove();
      if (opener?.isConnected) opener.focus();
    },
  },
  el('h2', { className: 'kith-form-title', id: 'kith-mine-title', tabIndex: -1 }, t('manage')),
  el('p', { className: 'kith-note' }, t('mine_help')),
  comments.length ? list : el('p', {}, t('mine_none')),
  el('div', { className: 'kith-buttons' }, close));
  // Newest first: the comment a reader comes to change is most often a recent one.
  for (const comment of comments.reverse()) list.append(entry(view, comment, dialog));
  view.section.append(dialog);
  dialog.showModal();
}

/** One comment in the list: where it is, when, its text, and what the reader may do with it. */
function entry(view, comment, dialog) {
  const { t, ago } = view.i18n;
  const body = el('div', { className: 'kith-body' });
  body.innerHTML = trusted(comment.html);  // the server's sanitized HTML
  const error = el('p', { className: 'kith-field-error', role: 'alert' });
  const actions = el('div', { className: 'kith-buttons' });
  const title = comment.thread_title || comment.thread_key;
  const item = el('li', { className: 'kith-comment' },
    // (A link to this very page only moves to the comment: the dialog gets out of the way.)
    comment.url ? el('a', { href: comment.url, onclick: () => dialog.close() }, title) : el('strong', {}, title),
    ' ', el('span', { className: 'kith-time' }, ago(comment.created_at)),
    comment.status == 'pending' && el('p', { className: 'kith-pending' }, t('held')),
    body, error, actions);
  const fail = failure => { error.textContent = view.errorMessage(failure); };
  // The comment's item in the thread on this page, if it is there.
  const onPage = () => comment.thread_key == view.threadKey && view.root.getElementById('comment-' + comment.id);

  const showActions = () => {
    error.textContent = '';
    actions.replaceChildren();
    if (new Date(comment.editable_until) > Date.now()) {
      actions.append(button(t('edit'), edit), button(t('del'), askDelete));
    }
  };

  const edit = async () => {
    error.textContent = '';
    let source;
    try {
      ({ body: source } = await view.api(`comments/${comment.id}/source`));
    } catch (failure) {
      return fail(failure);
    }
    const text = el('textarea', { className: 'kith-input', rows: 5, value: source, 'aria-label': t('body') });
    const save = async () => {
      try {
        const result = await view.api('comments/' + comment.id, { method: 'PATCH', body: { body: text.value } });
        Object.assign(comment, { html: result.comment.html, editable_until: result.editable_until || comment.editable_until });
        body.innerHTML = trusted(comment.html);
        body.hidden = false;
        text.remove();
        const own = view.own.entries[comment.id];
        if (own) {
          Object.assign(own, { comment: result.comment, body: text.value, editable_until: comment.editable_until });
          view.own.persist();
        }
        const shown = onPage();
        if (shown) view.replaceComment(shown, result.comment);
        showActions();
        actions.firstChild?.focus();
        view.announce(t('saved'));
      } catch (failure) {
        fail(failure);
      }
    };
    body.hidden = true;
    body.after(text);
    actions.replaceChildren(button(t('save'), save, 'kith-button'),
      button(t('cancel'), () => { text.remove(); body.hidden = false; showActions(); actions.firstChild.focus(); }, 'kith-button kith-secondary'));
    text.focus();
  };

  // Deleting asks first, in place (no second dialog over this one).
  const askDelete = () => {
    error.textContent = '';
    const confirm = button(t('del'), async () => {
      try {
        await view.api('comments/' + comment.id, { method: 'DELETE' });
      } catch (failure) {
        return fail(failure);
      }
      delete view.own.entries[comment.id];
      view.own.persist();
      const shown = onPage();
      if (shown) {
        // With replies, a placeholder keeps them in place; without, the comment goes.
        if (shown.lastChild.children.length) view.replaceComment(shown, { ...comment, status: 'deleted', author: '', html: '' });
        else {
          view.form.rescueFrom(shown);
          shown.remove();
        }
        view.setTotal(view.total - (comment.status != 'pending'));
      }
      item.replaceChildren(el('p', { role: 'status' }, t('removed')));
      dialog.querySelector('h2').focus();
    }, 'kith-button');
    actions.replaceChildren(el('span', {}, t('del_q')), confirm,
      button(t('cancel'), () => { showActions(); actions.lastChild.focus(); }, 'kith-button kith-secondary'));
    confirm.focus();
  };

  showActions();
  return item;
}

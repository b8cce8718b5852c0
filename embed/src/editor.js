// Markdown preview for a comment textarea, shared by the post form and the edit box.
import { el, button, trusted } from './dom.js';

/**
 * The preview box and the Preview/Write toggle for `textarea`. The preview is the server's
 * rendering of the text (sanitized there). `write()` switches back to the textarea.
 */
export function markdownPreview(view, textarea, onError) {
  const { t } = view.i18n;
  const preview = el('div', { className: 'kith-body kith-preview', hidden: true });
  const show = previewing => {
    preview.hidden = !previewing;
    textarea.hidden = previewing;
    toggle.textContent = t(previewing ? 'write' : 'preview');
  };
  const toggle = button(t('preview'), async () => {
    if (!preview.hidden) return show(false);
    try {
      const result = await view.api('preview', { method: 'POST', body: { body: textarea.value } });
      preview.innerHTML = trusted(result.html);
      show(true);
    } catch (error) {
      onError(error);
    }
  }, 'kith-button kith-secondary');
  return { preview, toggle, write: () => show(false) };
}

/**
 * The edit box of the reader's own comment (`edit` is its Edit button): as roomy as the post
 * box, with the same preview. While editing, the body and the actions are hidden (embed.css:
 * .kith-editing).
 */
export function editBox(view, { comment, own, item, article, body, edit, ownerHeaders }) {
  const { t } = view.i18n;
  const text = el('textarea', { className: 'kith-input', rows: 6, value: own.body || body.textContent, 'aria-label': t('body') });
  const error = el('p', { className: 'kith-field-error', role: 'alert' });
  const showError = failure => { error.textContent = view.errorMessage(failure); };
  const { preview, toggle } = markdownPreview(view, text, showError);
  const close = () => {
    editor.remove();
    article.classList.remove('kith-editing');
    edit.focus();
  };
  const save = async () => {
    try {
      const result = await view.api('comments/' + comment.id, { method: 'PATCH', body: { body: text.value }, headers: ownerHeaders });
      Object.assign(own, { comment: result.comment, body: text.value, editable_until: result.editable_until || own.editable_until });
      view.own.persist();
      view.replaceComment(item, result.comment).firstChild.focus();
      view.announce(t('saved'));
    } catch (failure) {
      showError(failure);
    }
  };
  const editor = el('div', { className: 'kith-edit' }, text, preview, error,
    el('div', { className: 'kith-buttons' },
      button(t('save'), save, 'kith-button'),
      toggle,
      button(t('cancel'), close, 'kith-button kith-secondary')));
  article.classList.add('kith-editing');
  body.after(editor);
  text.focus();
}

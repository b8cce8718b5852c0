// Markdown preview for a comment textarea, shared by the post form and the edit box.
import { el, button } from './dom.js';

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
      preview.innerHTML = result.html;
      show(true);
    } catch (error) {
      onError(error);
    }
  }, 'kith-button kith-secondary');
  return { preview, toggle, write: () => show(false) };
}

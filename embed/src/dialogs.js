// In-page dialogs, instead of the browser's confirm() and prompt(): a native modal <dialog>, so
// the rest of the page is inert while it is open (focus stays inside), Escape closes it, it is
// labelled by its title, and focus goes back to the button that opened it.
import { el, button } from './dom.js';

/**
 * Opens a dialog with a `title`, an optional `text`, an optional required `field`
 * (`{ label, type, value, rows }`) and a `confirmLabel` button. On confirm,
 * `onConfirm(fieldValue)` runs; if it throws, its error shows in the dialog, which stays open.
 * Otherwise it returns a message: announced after closing, or shown in the dialog (with a Close
 * button) when `showResult` is set, for results a sighted reader must see.
 */
export function openDialog(view, { title, text, field, confirmLabel, onConfirm, showResult }) {
  const { t } = view.i18n;
  const opener = view.root.activeElement;
  const input = field && el(field.rows ? 'textarea' : 'input', {
    id: 'kith-dialog-input', className: 'kith-input', type: field.type, rows: field.rows,
    value: field.value || '', required: true, 'aria-describedby': 'kith-dialog-error',
  });
  const error = el('p', { className: 'kith-field-error', id: 'kith-dialog-error', role: 'alert' });
  const confirm = el('button', { className: 'kith-button' }, confirmLabel);
  const cancel = button(t('cancel'), () => dialog.close(), 'kith-button kith-secondary');
  const content = el('div', {},
    text && el('p', { id: 'kith-dialog-text' }, text),
    input && el('div', { className: 'kith-field' }, el('label', { htmlFor: input.id }, field.label), input),
    error);
  const submit = async event => {
    event.preventDefault();
    const value = input?.value.trim();
    if (input && !value) {
      input.setAttribute('aria-invalid', 'true');
      error.textContent = t('required');
      return input.focus();
    }
    confirm.disabled = true;
    try {
      const message = await onConfirm(value);
      if (showResult) {
        content.replaceChildren(el('p', { role: 'status' }, message));
        confirm.remove();
        cancel.textContent = t('close');
        cancel.focus();
      } else {
        dialog.close();
        view.announce(message);
      }
    } catch (failure) {
      error.textContent = view.errorMessage(failure);
    }
    confirm.disabled = false;
  };
  const dialog = el('dialog', {
    className: 'kith-dialog',
    'aria-labelledby': 'kith-dialog-title',
    'aria-describedby': text && 'kith-dialog-text',
    onclose: () => {
      dialog.remove();
      if (opener?.isConnected) opener.focus();
    },
  }, el('form', { noValidate: true, method: 'dialog', onsubmit: submit },
    el('h2', { className: 'kith-form-title', id: 'kith-dialog-title' }, title),
    content,
    el('div', { className: 'kith-buttons' }, confirm, cancel)));
  view.section.append(dialog);
  dialog.showModal();
}

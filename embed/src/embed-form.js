// embed-form.js: the posting UI, an ES module that embed.js loads on demand (view.ui in
// thread.js): right after the first comments are painted, or at once when the reader acts before
// that. The form, the Markdown preview and edit box, the dialogs and the proof-of-work solver.
// The small helpers it shares with embed.js (dom.js, storage.js) are not bundled again: embed.js
// hands over its own with `provide` (build.mjs resolves their imports here to `kith:base`).
export { provide } from 'kith:base';
export { createForm } from './form.js';
export { openDialog } from './dialogs.js';
export { editBox } from './editor.js';

// embed-signin.js: the sign-in panel, an ES module the posting UI (embed-form.js) loads when the
// reader presses "Sign in". Like embed-form.js it shares embed.js's helpers (`provide`).
export { provide } from 'kith:base';
export { signIn } from './signin.js';

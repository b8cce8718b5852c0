// embed-signin.js: the sign-in panel and a signed-in reader's "Manage my comments" dialog, an ES
// module the posting UI (embed-form.js) loads when the reader presses "Sign in" or, signed in,
// "Manage my comments". Like embed-form.js it shares embed.js's helpers (`provide`).
export { provide } from 'kith:base';
export { signIn } from './signin.js';
export { manageComments } from './mine.js';

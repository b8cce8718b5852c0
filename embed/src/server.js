// Finding the kith server: it is wherever this script was loaded from.

/**
 * A member of `document`, read from Document.prototype (methods come bound to the document): the
 * host page's markup can shadow `document`'s own members (DOM clobbering: `<img
 * name="currentScript" src="https://evil.example/">`, `<form name="querySelector">`), so the
 * embed never reads them from `document` itself.
 */
export const doc = name => {
  const value = Reflect.get(Document.prototype, name, document);
  return typeof value == 'function' ? value.bind(document) : value;
};

/**
 * The script element that loaded us (matched by file name when `currentScript` is not set, e.g.
 * inside a module) and the server's base URL, ending with "/".
 */
export function findServer(fileNamePattern) {
  const script = doc('currentScript')
    || [...doc('querySelectorAll')('script[src]')].find(s => fileNamePattern.test(s.src));
  return { script, base: new URL('./', script.src).href };
}

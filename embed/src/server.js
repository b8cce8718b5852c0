// Finding the kith server: it is wherever this script was loaded from.

/**
 * The script element that loaded us (matched by file name when `currentScript` is not set, e.g.
 * inside a module) and the server's base URL, ending with "/".
 */
export function findServer(fileNamePattern) {
  const script = document.currentScript
    || [...document.querySelectorAll('script[src]')].find(s => fileNamePattern.test(s.src));
  return { script, base: new URL('./', script.src).href };
}

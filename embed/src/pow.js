// Proof of work: find a nonce such that SHA-256("<challenge>:<nonce>") starts with `difficulty`
// zero bits. Solved in a Web Worker so the page stays responsive.

/**
 * The solver. It must stay self-contained (no outside names): its source text is also what the
 * Worker runs. A small SHA-256 over the UTF-16 code units of an ASCII string.
 */
export function solveChallenge({ challenge, difficulty }) {
  // Round constants and initial hash: fractional parts of cube and square roots of the primes.
  const roundConstants = [], initialHash = [];
  const fraction = x => ((x - Math.floor(x)) * 4294967296) | 0;
  const rotate = (x, n) => (x >>> n) | (x << (32 - n));
  for (let candidate = 2, found = 0; found < 64; candidate++) {
    let isPrime = true;
    for (let divisor = 2; divisor * divisor <= candidate; divisor++) {
      if (candidate % divisor == 0) { isPrime = false; break; }
    }
    if (!isPrime) continue;
    if (found < 8) initialHash[found] = fraction(candidate ** 0.5);
    roundConstants[found++] = fraction(candidate ** (1 / 3));
  }

  for (let nonce = 0; ; nonce++) {
    const message = challenge + ':' + nonce, length = message.length;
    // Padded message as big-endian 32-bit words: data, a 1 bit, zeros, the bit length.
    const words = new Int32Array((((length + 8) >> 6) + 1) << 4);
    for (let i = 0; i < length; i++) words[i >> 2] |= message.charCodeAt(i) << (24 - (i & 3) * 8);
    words[length >> 2] |= 128 << (24 - (length & 3) * 8);
    words[words.length - 1] = length * 8;

    const hash = initialHash.slice(), schedule = [];
    for (let block = 0; block < words.length; block += 16) {
      let [a, b, c, d, e, f, g, h] = hash;
      for (let j = 0; j < 64; j++) {
        if (j < 16) schedule[j] = words[block + j];
        else {
          const x = schedule[j - 15], y = schedule[j - 2];
          schedule[j] = ((rotate(x, 7) ^ rotate(x, 18) ^ (x >>> 3)) + (rotate(y, 17) ^ rotate(y, 19) ^ (y >>> 10))
            + schedule[j - 7] + schedule[j - 16]) | 0;
        }
        const t1 = (h + (rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)) + ((e & f) ^ (~e & g)) + roundConstants[j] + schedule[j]) | 0;
        const t2 = ((rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      const state = [a, b, c, d, e, f, g, h];
      for (let i = 0; i < 8; i++) hash[i] = (hash[i] + state[i]) | 0;
    }

    let zeroBits = 0;
    for (const word of hash) {
      const leading = Math.clz32(word);
      zeroBits += leading;
      if (leading < 32) break;
    }
    if (zeroBits >= difficulty) return '' + nonce;
  }
}

/** Solves in a Blob Web Worker; on the main thread when workers are blocked (e.g. by a CSP). */
export function proveWork(challenge) {
  return new Promise(resolve => {
    try {
      const source = `onmessage=e=>postMessage((${solveChallenge})(e.data))`;
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
      worker.onmessage = event => { resolve(event.data); worker.terminate(); };
      worker.onerror = event => { event.preventDefault(); resolve(solveChallenge(challenge)); };
      worker.postMessage(challenge);
    } catch {
      resolve(solveChallenge(challenge));
    }
  });
}

/* kith comments embed. Plain ES2020, no dependencies. Only the server's sanitized `html` goes into innerHTML. */
(() => {
  'use strict';
  const D = document, now = () => Date.now();
  const S = D.currentScript || [...D.querySelectorAll('script[src]')].find(s => /\/embed\.js([?#]|$)/.test(s.src));
  const B = new URL('./', S.src).href;
  const E = {
    comments: { one: '{n} comment', other: '{n} comments' },
    empty: "No comments yet. Why don't you start the discussion?",
    closed: 'Comments are closed.',
    leave: 'Leave a Reply',
    reply_to: 'Reply to {name}',
    note: 'Your email address will not be published. Required fields are marked *',
    body: 'Comment', author: 'Name', email: 'Email', website: 'Website',
    notify_replies: 'Notify me of replies by email',
    notify_thread: 'Notify me of new comments on this post',
    remember: 'Save my name, email, and website in this browser for the next time I comment.',
    submit: 'Post Comment', posting: 'Posting…', preview: 'Preview', write: 'Write',
    cancel: 'Cancel', reply: 'Reply', like: 'Like', report: 'Report',
    report_q: 'Why should this comment be reviewed? (a short reason)',
    reported: 'Thank you, the comment was reported.',
    edit: 'Edit', del: 'Delete', save: 'Save', del_q: 'Delete your comment? This cannot be undone.',
    deleted: 'This comment was deleted.', removed: 'Your comment was deleted.',
    pending: 'Your comment is awaiting moderation.',
    posted: 'Your comment was posted.', saved: 'Your changes were saved.',
    left: 'Editable for {t}', owner: 'Owner', pinned: 'Pinned', edited: 'edited', anon: 'Anonymous',
    more: 'Load more comments', sort: 'Sort by', oldest: 'Oldest', newest: 'Newest', top: 'Top',
    required: 'This field is required.', error: 'Something went wrong. Please try again.',
    load_error: 'Comments could not be loaded.', hp: 'Leave this field empty'
  };

  // localStorage that never throws (storage may be blocked)
  const ls = (k, v) => {
    try {
      k = 'kith:' + k;
      if (v === undefined) return JSON.parse(localStorage.getItem(k));
      v === null ? localStorage.removeItem(k) : localStorage.setItem(k, JSON.stringify(v));
    } catch (e) { /* storage unavailable */ }
  };

  // createElement helper: props are set as properties (or attributes when not a property), on* as listeners.
  const h = (t, a, ...k) => {
    const e = D.createElement(t);
    for (const n in a) {
      const v = a[n];
      if (v == null || v === false) continue;
      if (n[0] == 'o' && n[1] == 'n') e.addEventListener(n.slice(2), v);
      else if (n in e) e[n] = v;
      else e.setAttribute(n, v);
    }
    e.append(...k.filter(x => x != null && x !== false && x !== ''));
    return e;
  };
  const sv = (t, a) => {
    const e = D.createElementNS('http://www.w3.org/2000/svg', t);
    for (const n in a) e.setAttribute(n, a[n]);
    return e;
  };
  // identicon: 5x5 mirrored grid, hue and cells from the avatar hex
  const avatar = x => {
    const v = [...(x || '')].map(c => parseInt(c, 16) || 0), f = 'hsl(' + ((v[0] << 8 | v[1] << 4 | v[2]) % 360) + ',55%,50%)';
    const s = sv('svg', { viewBox: '-.75 -.75 6.5 6.5', class: 'av', 'aria-hidden': 'true' });
    for (let i = 0; i < 15; i++) {
      if (v[3 + (i >> 2)] >> (i & 3) & 1) {
        const c = i / 5 | 0, y = i % 5;
        s.append(sv('rect', { x: c, y, width: 1, height: 1, fill: f }), sv('rect', { x: 4 - c, y, width: 1, height: 1, fill: f }));
      }
    }
    return s;
  };

  // proof of work: self-contained SHA-256 (also stringified into a Worker)
  function solve(p) {
    const K = [], H = [], fr = x => (x - Math.floor(x)) * 4294967296 | 0, r = (x, n) => x >>> n | x << 32 - n;
    for (let n = 2, i = 0; i < 64; n++) {
      let q = 1;
      for (let j = 2; j * j <= n; j++) if (n % j == 0) { q = 0; break; }
      if (q) { if (i < 8) H[i] = fr(n ** 0.5); K[i++] = fr(n ** (1 / 3)); }
    }
    for (let nonce = 0; ; nonce++) {
      const s = p.challenge + ':' + nonce, l = s.length, M = new Int32Array(((l + 8) >> 6) + 1 << 4), h = H.slice(), w = [];
      for (let i = 0; i < l; i++) M[i >> 2] |= s.charCodeAt(i) << 24 - (i & 3) * 8;
      M[l >> 2] |= 128 << 24 - (l & 3) * 8;
      M[M.length - 1] = l * 8;
      for (let o = 0; o < M.length; o += 16) {
        let [a, b, c, d, e, f, g, k] = h;
        for (let j = 0; j < 64; j++) {
          if (j < 16) w[j] = M[o + j];
          else {
            const x = w[j - 15], y = w[j - 2];
            w[j] = (r(x, 7) ^ r(x, 18) ^ x >>> 3) + (r(y, 17) ^ r(y, 19) ^ y >>> 10) + w[j - 7] + w[j - 16] | 0;
          }
          const t1 = k + (r(e, 6) ^ r(e, 11) ^ r(e, 25)) + (e & f ^ ~e & g) + K[j] + w[j] | 0;
          const t2 = (r(a, 2) ^ r(a, 13) ^ r(a, 22)) + (a & b ^ a & c ^ b & c) | 0;
          k = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
        }
        [a, b, c, d, e, f, g, k].forEach((v, i) => { h[i] = h[i] + v | 0; });
      }
      let z = 0;
      for (const v of h) { const q = Math.clz32(v); z += q; if (q < 32) break; }
      if (z >= p.difficulty) return '' + nonce;
    }
  }
  const pow = p => new Promise(res => {
    try {
      const w = new Worker(URL.createObjectURL(new Blob(['onmessage=e=>postMessage((' + solve + ')(e.data))'], { type: 'text/javascript' })));
      w.onmessage = e => { res(e.data); w.terminate(); };
      w.onerror = e => { e.preventDefault(); res(solve(p)); };
      w.postMessage(p);
    } catch (e) { res(solve(p)); }
  });

  const init = async c => {
    const ds = c.dataset, site = ds.kithSite || 'default', key = ds.kithKey || location.pathname;
    const A = B + 'api/v1/sites/' + encodeURIComponent(site) + '/';
    const api = (p, m, b, hd) => fetch(A + p, {
      method: m || 'GET',
      headers: Object.assign(b ? { 'Content-Type': 'application/json' } : {}, hd),
      body: b && JSON.stringify(b)
    }).then(async r => {
      const j = await r.json().catch(() => ({}));
      if (!r.ok) throw Object.assign(new Error(j.message || ''), j, { status: r.status });
      return j;
    });
    const R = c.attachShadow({ mode: 'open' });
    const live = h('div', { className: 'sr', role: 'status' });
    const W = h('section', { className: 'k', 'aria-labelledby': 'k-h' }, live);
    R.append(h('link', { rel: 'stylesheet', href: B + 'embed.css' }), W);
    const say = m => { live.textContent = m; };
    const ownKey = 'own:' + site, own = ls(ownKey) || {}, liked = ls('liked:' + site) || {};
    const store = () => ls(ownKey, own);
    for (const i in own) if (!(now() - new Date((own[i].comment || {}).created_at) < 2592e6)) delete own[i];  // keep 30 days
    store();

    let T = E, lang = 'en', st, th, rtf, pr, total = 0, cursor = null, sort = 'oldest', closed = false, replyTo = null, tm = [], iv, stP;
    const t = (k, v) => {
      let s = T[k] || E[k];
      if (typeof s == 'object') s = s[pr.select(v.n)] || s.other;
      return s.replace(/\{(\w+)\}/g, (_, n) => v[n]);
    };
    const ago = s => {
      let x = (new Date(s) - now()) / 1e3, u = 'second';
      for (const [m, n] of [[60, 'minute'], [60, 'hour'], [24, 'day'], [7, 'week'], [4.35, 'month'], [12, 'year']]) {
        if (Math.abs(x) < m) break;
        x /= m; u = n;
      }
      return rtf.format(u == 'second' && x > -45 ? 0 : Math.round(x), u);
    };
    const thread = cur => api('thread?key=' + encodeURIComponent(key) + '&sort=' + sort + '&limit=50' + (cur ? '&cursor=' + encodeURIComponent(cur) : ''))
      .catch(e => { if (e.error == 'thread_not_found') return { total: 0, comments: [], next_cursor: null }; throw e; });

    try {
      [st, th] = await Promise.all([api('settings'), thread()]);
      lang = ds.kithLang || st.language || 'en';
      const f = lang.slice(0, 2).toLowerCase();
      if (f != 'en') {
        const j = await fetch(B + 'locales/' + f + '.json').then(r => r.ok ? r.json() : null).catch(() => null);
        if (j) T = Object.assign({}, E, j); else lang = 'en';
      }
    } catch (e) {
      W.append(h('p', { className: 'fe' }, E.load_error));
      return;
    }
    try { rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }); pr = new Intl.PluralRules(lang); } catch (e) {
      lang = 'en'; rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' }); pr = new Intl.PluralRules(lang);
    }
    W.lang = lang;
    closed = !!(th.thread && th.thread.closed);

    const head = h('h2', { className: 'ct', id: 'k-h' });
    const setTotal = n => { total = n; head.textContent = n ? t('comments', { n }) : t('empty'); };
    const list = h('ol', { className: 'ls' });
    const more = h('button', { type: 'button', className: 'btn sec', hidden: true, onclick: async () => {
      more.disabled = true;
      try { const r = await thread(cursor); r.comments.forEach(x => list.append(C(x))); setCursor(r.next_cursor); } catch (e) { say(msg(e)); }
      more.disabled = false;
    } }, t('more'));
    const setCursor = n => { cursor = n; more.hidden = !n; };
    const sel = h('select', { onchange: async () => {
      sort = sel.value;
      try { const r = await thread(); keep(list); list.textContent = ''; fill(r); } catch (e) { say(msg(e)); }
    } }, ...['oldest', 'newest', 'top'].map(v => h('option', { value: v }, t(v))));
    const msg = e => e.status && e.message || t('error');
    const btn = (x, fn, cl) => h('button', { type: 'button', className: cl || 'l', onclick: fn }, x);

    const tick = () => { tm = tm.filter(([s, f]) => s.isConnected && f()); };

    // swap a rendered comment for a new rendering, keeping its replies
    const swap = (li, x) => { const n = C(x); keep(li); n.lastChild.replaceWith(li.lastChild); li.replaceWith(n); return n; };
    const keep = li => { if (li.contains(F)) reset(); };

    // one comment (and its replies)
    const C = x => {
      const o = own[x.id], del = x.status == 'deleted', pend = x.status == 'pending';
      if (o && x.status == 'approved') { o.comment.status = 'approved'; store(); }
      const body = h('div', { className: 'b' }), ft = h('div', { className: 'f' }), rl = h('ol', { className: 'r' });
      if (del) body.append(h('em', {}, t('deleted'))); else body.innerHTML = x.html;
      const d = new Date(x.created_at), web = x.website && /^https?:\/\//i.test(x.website);
      const art = h('article', { className: 'a', tabIndex: -1 },
        h('div', { className: 'm' },
          del ? null : avatar(x.avatar),
          del ? null : h(web ? 'a' : 'span', { className: 'n', href: web ? x.website : null, rel: web ? 'nofollow ugc noopener' : null }, x.author || t('anon')),
          x.owner && h('span', { className: 'bd' }, t('owner')),
          x.pinned && h('span', { className: 'bd' }, t('pinned')),
          h('a', { className: 't', href: '#comment-' + x.id }, h('time', { dateTime: x.created_at, title: d.toLocaleString(lang) }, ago(x.created_at))),
          x.edited_at && h('span', { className: 't' }, '· ' + t('edited'))),
        pend && h('p', { className: 'pe' }, t('pending')),
        body, ft);
      const li = h('li', { className: 'c', id: 'comment-' + x.id }, art, rl);
      (x.replies || []).forEach(y => rl.append(C(y)));
      if (del) return li;
      if (!pend) {
        const lb = btn('', async () => {
          try {
            const r = await api('comments/' + x.id + '/like', 'POST');
            setL(r.likes, liked[x.id] = 1); ls('liked:' + site, liked);
          } catch (e) { say(msg(e)); }
        }, 'l lk');
        const setL = (n, p) => { lb.replaceChildren(h('span', { 'aria-hidden': 'true' }, '♥ '), h('span', { className: 'sr' }, t('like') + ' '), '' + n); lb.setAttribute('aria-pressed', !!p); };
        setL(x.likes, liked[x.id]);
        ft.append(lb, closed ? '' : btn(t('reply'), () => openForm(x, li)), btn(t('report'), async () => {
          const r = prompt(t('report_q'));
          if (r && r.trim()) {
            try { await api('comments/' + x.id + '/report', 'POST', { reason: r.trim() }); say(t('reported')); } catch (e) { say(msg(e)); }
          }
        }));
      }
      if (o && new Date(o.editable_until) > now()) {
        const left = h('span', { className: 'left' });
        const eb = btn(t('edit'), () => {
          const ta = h('textarea', { className: 'in', rows: 4, value: o.body || body.textContent, 'aria-label': t('body') });
          const er = h('p', { className: 'e', role: 'alert' });
          const close = () => { box.remove(); body.hidden = ft.hidden = false; eb.focus(); };
          const box = h('div', { className: 'ed' }, ta, er, h('div', { className: 'bt' },
            btn(t('save'), async () => {
              try {
                const r = await api('comments/' + x.id, 'PATCH', { body: ta.value }, { 'X-Edit-Token': o.edit_token });
                Object.assign(o, { comment: r.comment, body: ta.value, editable_until: r.editable_until || o.editable_until });
                store();
                swap(li, r.comment).firstChild.focus();
                say(t('saved'));
              } catch (e) { er.textContent = msg(e); }
            }, 'btn'),
            btn(t('cancel'), () => close(), 'btn sec')));
          body.hidden = ft.hidden = true;
          art.insertBefore(box, ft);
          ta.focus();
        });
        const db = btn(t('del'), async () => {
          if (!confirm(t('del_q'))) return;
          try {
            await api('comments/' + x.id, 'DELETE', null, { 'X-Edit-Token': o.edit_token });
            delete own[x.id]; store();
            if (rl.children.length) swap(li, Object.assign({}, x, { status: 'deleted', author: '', html: '' })); else { keep(li); li.remove(); }
            if (!pend) setTotal(total - 1);
            say(t('removed'));
          } catch (e) { say(msg(e)); }
        });
        const end = new Date(o.editable_until), upd = () => {
          const l = end - now();
          if (l <= 0) { eb.remove(); db.remove(); left.remove(); return 0; }
          left.textContent = t('left', { t: (l / 6e4 | 0) + ':' + String(l / 1e3 % 60 | 0).padStart(2, '0') });
          return 1;
        };
        ft.append(eb, db, left);
        if (upd()) tm.push([left, upd]);
        iv = iv || setInterval(tick, 1e3);
      }
      return li;
    };

    // the form
    const fl = n => R.getElementById('k-' + n);
    const field = (n, req, a, tag) => {
      const i = h(tag || 'input', Object.assign({ id: 'k-' + n, name: n, className: 'in', required: req, maxLength: (st.limits || {})[n], 'aria-describedby': 'k-' + n + '-e' }, a));
      return h('div', { className: 'fl' },
        h('label', { htmlFor: i.id }, t(n), req && h('span', { className: 'rq', 'aria-hidden': 'true' }, ' *')),
        i, h('span', { className: 'e', id: 'k-' + n + '-e' }));
    };
    const check = n => h('label', { className: 'ck' }, h('input', { type: 'checkbox', name: n }), ' ', t(n));
    const title = h('h3', { className: 'ft' }, t('leave'));
    const cancel = btn(t('cancel'), () => openForm(null), 'l cx');
    const pv = h('div', { className: 'b pv', hidden: true });
    const pb = btn(t('preview'), async () => {
      const ta = fl('body');
      if (pv.hidden) {
        try { const r = await api('preview', 'POST', { body: ta.value }); pv.innerHTML = r.html; pv.hidden = false; ta.hidden = true; pb.textContent = t('write'); } catch (e) { fail(e); }
      } else unpreview();
    }, 'btn sec');
    const unpreview = () => { pv.hidden = true; fl('body').hidden = false; pb.textContent = t('preview'); };
    const fe = h('p', { className: 'fe', role: 'alert' });
    const sub = h('button', { type: 'submit', className: 'btn' }, t('submit'));
    const F = h('form', { className: 'fm', noValidate: true, onsubmit: e => { e.preventDefault(); send(); }, oninput: e => {
      const i = e.target;
      if (i == el.body) ls(dk, i.value);
      if (i.id) { i.removeAttribute('aria-invalid'); const s = fl(i.name + '-e'); if (s) s.textContent = ''; }
    } },
    h('div', { className: 'fh' }, title, cancel),
    h('p', { className: 'no' }, t('note')),
    field('body', true, { rows: 6 }, 'textarea'), pv,
    h('div', { className: 'row' },
      field('author', st.require_name, { autocomplete: 'name' }),
      field('email', st.require_email, { type: 'email', autocomplete: 'email' }),
      field('website', false, { type: 'url', autocomplete: 'url' })),
    h('div', { className: 'hp', 'aria-hidden': 'true' }, h('label', {}, t('hp'), h('input', { name: 'hp', tabIndex: -1, autocomplete: 'off' }))),
    check('notify_replies'), check('notify_thread'), check('remember'),
    fe, h('div', { className: 'bt' }, sub, pb));
    const el = F.elements, bottom = h('div', {}, closed ? h('p', { className: 'cl' }, t('closed')) : F);
    cancel.hidden = true;
    const dk = 'draft:' + site + key, me = ls('me');
    el.body.value = ls(dk) || '';
    if (me) { ['author', 'email', 'website'].forEach(n => { el[n].value = me[n] || ''; }); el.remember.checked = true; }

    const reset = () => { replyTo = null; title.textContent = t('leave'); cancel.hidden = true; bottom.append(F); };
    const openForm = (x, li) => {
      reset();
      if (x) {
        replyTo = x.id;
        title.textContent = t('reply_to', { name: x.author || t('anon') });
        cancel.hidden = false;
        li.insertBefore(F, li.lastChild);
      }
      (x ? el.body : li || el.body).focus();
    };
    const fail = e => {
      const i = e.field && fl(e.field);
      if (e.status == 422 && i) {
        i.setAttribute('aria-invalid', 'true');
        fl(e.field + '-e').textContent = msg(e);
        i.focus();
      } else fe.textContent = msg(e);
    };
    // after a post: a new form token and PoW challenge; after a failure only a new challenge (PoW is
    // single-use, while a new token would restart the server's minimum form age)
    const refresh = all => { stP = api('settings').then(s => { if (all) st = s; else st.pow = s.pow; }, () => {}); };
    const send = async () => {
      fe.textContent = '';
      const v = n => el[n].value.trim(), miss = ['body', 'author', 'email'].filter(n => el[n].required && !v(n));
      if (miss.length) {
        miss.forEach(n => fail({ status: 422, field: n, message: t('required') }));
        return fl(miss[0]).focus();
      }
      sub.disabled = true; sub.textContent = t('posting');
      try {
        await stP;  // a fresh form token / challenge after the previous post
        const p = st.pow ? { challenge: st.pow.challenge, nonce: await pow(st.pow) } : null;
        const r = await api('comments', 'POST', {
          thread_key: key, thread_title: ds.kithTitle || D.title, thread_url: location.href.split('#')[0],
          parent_id: replyTo, author: v('author'), email: v('email'), website: v('website') || null,
          body: el.body.value, notify_replies: el.notify_replies.checked, notify_thread: el.notify_thread.checked,
          form_token: st.form_token, hp: el.hp.value, pow: p
        });
        const x = r.comment;
        ls('me', el.remember.checked ? { author: v('author'), email: v('email'), website: v('website') } : null);
        own[x.id] = { id: x.id, edit_token: r.edit_token, editable_until: r.editable_until, comment: x, body: el.body.value, key };
        store();
        const li = C(x), par = replyTo && R.getElementById('comment-' + replyTo);
        if (par) par.lastChild.append(li); else if (sort == 'newest') list.prepend(li); else list.append(li);
        if (x.status == 'approved') setTotal(total + 1);
        el.body.value = '';
        ls(dk, null);
        unpreview();
        openForm(null, li.firstChild);
        say(t(x.status == 'pending' ? 'pending' : 'posted'));
        refresh(1);
      } catch (e) { fail(e); if (st.pow) refresh(); }
      sub.disabled = false; sub.textContent = t('submit');
    };

    const fill = r => {
      setTotal(r.total);
      r.comments.forEach(x => list.append(C(x)));
      setCursor(r.next_cursor);
      // the author's own comments held for moderation, from this browser only
      for (const i in own) {
        const o = own[i];
        if (o.key == key && o.comment.status == 'pending' && !R.getElementById('comment-' + i)) {
          const p = o.comment.parent_id && R.getElementById('comment-' + o.comment.parent_id);
          (p ? p.lastChild : list).append(C(o.comment));
        }
      }
    };
    W.append(h('div', { className: 'hd' }, head, h('label', { className: 'so' }, t('sort') + ' ', sel)), list, more, bottom);
    fill(th);
    const hl = () => {
      const m = /^#comment-\d+$/.test(location.hash) && R.getElementById(location.hash.slice(1));
      if (m) { m.scrollIntoView({ block: 'center' }); m.firstChild.classList.add('hl'); }
    };
    hl();
    addEventListener('hashchange', hl);
  };

  const start = () => { const c = D.getElementById('kith-thread'); if (c && !c.shadowRoot) init(c); };
  D.readyState == 'loading' ? D.addEventListener('DOMContentLoaded', start) : start();
})();

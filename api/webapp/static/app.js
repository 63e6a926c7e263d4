// Atlas review workspace: sign in, upload, watch documents, check and correct an abstract.
// Plain DOM code, no framework. Every value from the API reaches the page through text nodes
// (el() children and textContent), never through HTML parsing, so document text cannot inject markup.
'use strict';

(() => {
  const KEY = 'atlas.key';
  const NAME = 'atlas.reviewer';
  const POLL_MS = 3000;
  const PAGE_SCALE = 1.5;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);

  const S = {
    key: null, name: '', view: null, gen: 0, pollTimer: null,
    docId: null, doc: null, ext: null, versions: [], schema: null,
    selected: null, page: null, focusCites: [], pageToken: 0, pageImages: new Map(),
  };

  // ---------- small helpers ----------

  /** Build an element; string children become text nodes (never parsed as HTML). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function svg(tag, attrs = {}, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  const enc = encodeURIComponent;
  const humanize = (name) => name.replace(/_/g, ' ').replace(/\bsqft\b/, 'sq ft').replace(/^./, (c) => c.toUpperCase());

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  function fmtNumber(n, digits = 2) {
    return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits });
  }

  function fmtValue(v) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'number') return fmtNumber(v);
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  function toast(message) {
    const t = $('toast');
    t.textContent = message;
    t.classList.add('show');
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => t.classList.remove('show'), 3000);
  }

  /** Run an async handler; failures are shown in `errorBox` (or a toast), never left as unhandled rejections. */
  function guard(fn, errorBox) {
    return async (...args) => {
      try {
        if (errorBox) errorBox.textContent = '';
        await fn(...args);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return; // signOut already explained it
        const message = err && err.message ? err.message : String(err);
        if (errorBox) errorBox.textContent = message;
        else toast(message);
      }
    };
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function errorOf(resp) {
    let body = null;
    if ((resp.headers.get('Content-Type') || '').includes('json')) body = await resp.json();
    const e = body && body.error ? body.error : {};
    return new ApiError(resp.status, e.code || `http_${resp.status}`, e.message || resp.statusText || 'request failed');
  }

  /** Call the /v1 API with the signed-in key; JSON back unless raw. A refused key signs out. */
  async function api(path, { method = 'GET', json, raw = false, signingIn = false } = {}) {
    const headers = { Authorization: `Bearer ${S.key}` };
    const init = { method, headers };
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    const resp = await fetch(path, init);
    if (!resp.ok) {
      const err = await errorOf(resp);
      if (err.status === 401 && !signingIn) signOut(`Signed out: ${err.message}`);
      throw err;
    }
    return raw ? resp : resp.json();
  }

  /** Fetch a download with the key and hand it to the browser as a file. */
  async function download(path) {
    const resp = await api(path, { raw: true });
    const blob = await resp.blob();
    const match = /filename="([^"]+)"/.exec(resp.headers.get('Content-Disposition') || '');
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: match ? match[1] : path.split('/').pop() });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  // ---------- views and routing ----------

  function show(viewId, title) {
    for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== viewId;
    document.title = title ? `${title} · Atlas review` : 'Atlas review workspace';
  }

  function leaveView() {
    S.gen += 1;
    clearTimeout(S.pollTimer);
    for (const info of S.pageImages.values()) URL.revokeObjectURL(info.url);
    S.pageImages.clear();
  }

  function route() {
    leaveView();
    if (!S.key) return showSignin();
    $('who').hidden = false;
    const m = /^#\/documents\/([^/?#]+)$/.exec(location.hash);
    if (m) return showDocument(decodeURIComponent(m[1]));
    return showDocuments();
  }

  // ---------- sign in ----------

  function showSignin(message) {
    S.view = 'signin';
    $('who').hidden = true;
    show('view-signin', 'Sign in');
    $('signin-error').textContent = message || '';
    $('signin-key').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(NAME);
    S.key = null;
    S.name = '';
    leaveView();
    showSignin(message);
  }

  async function signIn(ev) {
    ev.preventDefault();
    const key = $('signin-key').value.trim();
    const name = $('signin-name').value.trim();
    if (!key) throw new Error('Enter an API key.');
    S.key = key;
    try {
      await api('/v1/documents?limit=1', { signingIn: true });
    } catch (err) {
      S.key = null;
      throw err.status === 401 ? new Error(`That key was refused: ${err.message}`) : err;
    }
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(NAME, name);
    S.name = name;
    $('signin-key').value = '';
    renderWho();
    route(); // to the page the address asked for (a shared link to a lease works after signing in)
  }

  function renderWho() {
    const prefix = (S.key || '').split('_')[1] || '';
    $('who-name').textContent = S.name ? `${S.name} (key ${prefix})` : `key ${prefix}`;
  }

  // ---------- documents ----------

  function showDocuments() {
    S.view = 'documents';
    show('view-documents', 'Documents');
    refreshDocuments();
  }

  async function refreshDocuments() {
    clearTimeout(S.pollTimer);
    const gen = S.gen;
    try {
      const body = await api('/v1/documents?limit=200');
      if (gen !== S.gen) return;
      renderDocuments(body.documents);
      $('docs-error').textContent = '';
    } catch (err) {
      if (gen === S.gen && err.status !== 401) $('docs-error').textContent = `Could not load documents: ${err.message}`;
    }
    if (gen === S.gen && S.view === 'documents') S.pollTimer = setTimeout(refreshDocuments, POLL_MS);
  }

  function statusCell(doc) {
    const parts = [el('span', { class: `status status-${doc.status}`, dataset: { status: doc.status } }, doc.status)];
    if (doc.status === 'failed' && doc.error_message) parts.push(' ', el('span', { class: 'small' }, doc.error_message));
    else if (doc.status !== 'ready' && doc.progress && doc.progress.message) {
      parts.push(' ', el('span', { class: 'small muted' }, doc.progress.message));
    }
    return parts;
  }

  /** Update the table in place (rows keyed by id) so focus and scroll survive each poll. */
  function renderDocuments(docs) {
    const tbody = $('doc-table').tBodies[0];
    const rows = new Map([...tbody.rows].map((tr) => [tr.dataset.id, tr]));
    docs.forEach((doc, i) => {
      let tr = rows.get(doc.id);
      if (!tr) {
        tr = el('tr', { dataset: { id: doc.id } },
          el('td', {}, el('a', { href: `#/documents/${enc(doc.id)}` })), el('td'), el('td', { class: 'num' }), el('td'));
      }
      rows.delete(doc.id);
      const [name, status, pages, updated] = tr.cells;
      name.firstChild.textContent = doc.filename;
      status.replaceChildren(...statusCell(doc));
      pages.textContent = doc.page_count ?? '–';
      updated.textContent = fmtTime(doc.updated_at);
      if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
    });
    for (const tr of rows.values()) tr.remove();
    $('docs-empty').hidden = docs.length > 0;
    $('doc-table').hidden = docs.length === 0;
  }

  /** Upload one file with XMLHttpRequest so the bar can follow the upload's progress events. */
  function uploadOne(file) {
    const bar = el('progress', { max: 100, value: 0, 'aria-label': `Upload of ${file.name}` });
    const note = el('span', { class: 'muted small' }, 'uploading…');
    const item = el('li', { class: 'upload' }, el('span', {}, file.name), bar, note);
    $('uploads').prepend(item);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/documents');
    xhr.setRequestHeader('Authorization', `Bearer ${S.key}`);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      bar.value = Math.round((e.loaded / e.total) * 100);
      item.dataset.progress = String(bar.value);
    });
    xhr.addEventListener('load', () => {
      const body = xhr.response;
      if (xhr.status === 202 || xhr.status === 200) {
        bar.value = 100;
        item.dataset.docId = body.id;
        note.replaceChildren(xhr.status === 200 ? 'already uploaded: ' : 'uploaded: ',
          el('a', { href: `#/documents/${enc(body.id)}` }, 'open'));
        if (S.view === 'documents') refreshDocuments();
      } else {
        item.dataset.failed = 'true';
        note.className = 'error small';
        note.textContent = `failed: ${body && body.error ? body.error.message : `HTTP ${xhr.status}`}`;
        if (xhr.status === 401) signOut('Signed out: the key was refused');
      }
    });
    xhr.addEventListener('error', () => {
      item.dataset.failed = 'true';
      note.className = 'error small';
      note.textContent = 'failed: the server could not be reached';
    });
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  }

  function wireUploads() {
    const zone = $('dropzone');
    const input = $('file-input');
    const pick = () => input.click();
    zone.addEventListener('click', pick);
    zone.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); }
    });
    input.addEventListener('change', () => {
      for (const f of input.files) uploadOne(f);
      input.value = '';
    });
    for (const type of ['dragenter', 'dragover']) {
      zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add('over'); });
    }
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      for (const f of e.dataTransfer.files) uploadOne(f);
    });
    // a file dropped beside the zone must not navigate away from the workspace
    for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
    for (const b of document.querySelectorAll('[data-export]')) {
      b.addEventListener('click', guard(() => download(b.dataset.export), $('docs-error')));
    }
  }

  // ---------- one document ----------

  async function showDocument(id) {
    S.view = 'document';
    S.docId = id;
    S.doc = null;
    S.ext = null;
    S.selected = null;
    show('view-document', 'Document');
    $('doc-title').textContent = '';
    $('doc-meta').textContent = '';
    $('doc-error').textContent = '';
    $('workspace').hidden = true;
    $('sections').hidden = true;
    $('doc-status').hidden = true;
    $('undo').disabled = true;
    $('export-json').disabled = true;
    await loadDocument(S.gen);
  }

  async function loadDocument(gen) {
    try {
      const doc = await api(`/v1/documents/${enc(S.docId)}`);
      if (gen !== S.gen) return;
      S.doc = doc;
      $('doc-title').textContent = doc.filename;
      document.title = `${doc.filename} · Atlas review`;
      if (doc.status !== 'ready') {
        const why = doc.status === 'failed' ? (doc.error_message || 'processing failed')
          : (doc.progress && doc.progress.message) || 'waiting for the worker';
        $('doc-status').hidden = false;
        $('doc-status').textContent = `This document is ${doc.status}: ${why}`;
        if (doc.status !== 'failed') S.pollTimer = setTimeout(() => loadDocument(gen), POLL_MS);
        return;
      }
      const [ext, versions, schema] = await Promise.all([
        api(`/v1/documents/${enc(S.docId)}/extraction`),
        api(`/v1/documents/${enc(S.docId)}/extraction/versions`),
        S.schema || fetch('/v1/schema/extraction').then((r) => r.json()),
      ]);
      if (gen !== S.gen) return;
      S.schema = schema;
      $('doc-status').hidden = true;
      setExtraction(ext, versions.versions);
      const first = $('field-list').querySelector('button.field');
      if (first) {
        selectField(first.dataset.field);
        first.focus();
      }
    } catch (err) {
      if (gen === S.gen && err.status !== 401) $('doc-error').textContent = err.message;
    }
  }

  const isPdf = () => S.doc && S.doc.media_type === 'application/pdf';

  function setExtraction(ext, versions) {
    S.ext = ext;
    S.versions = versions;
    const reviewed = ext.extractor_version.startsWith('human:');
    $('doc-meta').textContent = `Version ${ext.version} of ${versions.length} · ${reviewed ? 'reviewed' : 'extracted'} by `
      + `${ext.created_by} · ${fmtTime(ext.created_at)} · ${ext.kind.replace(/_/g, ' ')}`;
    $('doc-meta').dataset.version = ext.version;
    $('undo').disabled = !ext.reviews.some((r) => r.action === 'correct' && !r.undone_by);
    $('export-json').disabled = false;
    $('workspace').hidden = false;
    $('sections').hidden = false;
    renderFields();
    renderFlags();
    renderRent();
    renderTrail();
    renderVersionPickers();
  }

  /** Needs-review fields first, then the schema's order (the abstract's reading order), then any extras. */
  function orderedFields() {
    const known = (S.schema.properties.fields.required || []);
    const rank = (name) => (known.includes(name) ? known.indexOf(name) : known.length);
    return Object.keys(S.ext.fields)
      .map((name) => ({ name, i: rank(name), f: S.ext.fields[name] }))
      .sort((a, b) => (a.f.status === 'needs_review' ? 0 : 1) - (b.f.status === 'needs_review' ? 0 : 1)
        || a.i - b.i || a.name.localeCompare(b.name));
  }

  function confidenceBadge(conf) {
    const level = conf >= 0.85 ? 'high' : conf >= 0.6 ? 'mid' : 'low';
    return el('span', { class: `badge conf-${level}`, title: 'confidence' }, `${Math.round(conf * 100)}%`);
  }

  function fieldBadges(name, f) {
    const out = [];
    if (f.status === 'needs_review') out.push(el('span', { class: 'badge review-mark' }, 'needs review'));
    if (S.ext.reviews.some((r) => r.field === name && r.action === 'correct' && !r.undone_by)) {
      out.push(el('span', { class: 'badge reviewed-mark' }, 'corrected'));
    }
    if (f.status !== 'not_found' || f.value !== null) out.push(confidenceBadge(f.confidence));
    return out;
  }

  function renderFields() {
    const list = $('field-list');
    list.replaceChildren(...orderedFields().map(({ name, f }) => el('li', {},
      el('button', {
        type: 'button', class: `field${f.status === 'needs_review' ? ' needs-review' : ''}`,
        dataset: { field: name, status: f.status }, 'aria-current': name === S.selected ? 'true' : 'false',
        onclick: () => selectField(name),
      },
      el('span', { class: 'name' }, humanize(name)),
      el('span', { class: 'val' }, f.status === 'not_found' && f.value === null ? 'not found' : fmtValue(f.value)),
      el('span', { class: 'badges' }, fieldBadges(name, f))))));
  }

  function fieldButton(name) {
    return $('field-list').querySelector(`button.field[data-field="${CSS.escape(name)}"]`);
  }

  function selectField(name) {
    const f = S.ext.fields[name];
    if (!f) return;
    S.selected = name;
    for (const b of $('field-list').querySelectorAll('button.field')) {
      b.setAttribute('aria-current', b.dataset.field === name ? 'true' : 'false');
    }
    $('field-detail').hidden = false;
    $('field-detail').dataset.field = name;
    $('detail-name').textContent = humanize(name);
    $('detail-value').textContent = fmtValue(f.value);
    $('detail-badges').replaceChildren(...fieldBadges(name, f));
    const cite = f.citations[0];
    $('detail-quote').textContent = cite ? `“${cite.quote}” (page ${cite.page})` : '';
    $('detail-cites').replaceChildren(...f.citations.map((c, i) => el('button', {
      type: 'button', class: 'cite', dataset: { page: c.page }, disabled: !isPdf(),
      onclick: guard(() => showCitations(f.citations, c.page), $('doc-error')),
    }, `Citation ${i + 1}: page ${c.page}`)));
    buildEditor(name, f.value);
    $('edit-error').textContent = '';
    $('edit-note').value = '';
    $('detail-history').replaceChildren(...S.ext.reviews.filter((r) => r.field === name).reverse().map((r) => el('li', {},
      `v${r.version} ${r.action}${r.undone_by ? ` (undone in v${r.undone_by})` : ''} by ${r.by}, ${fmtTime(r.at)}: `,
      fmtValue(r.old), ' → ', fmtValue(r.new))));
    if (!cite) {
      hidePage();
      $('detail-quote').textContent = f.value === null ? 'No citation: the lease does not state this term.'
        : 'No citation: this value was entered by a reviewer.';
    } else if (!isPdf()) {
      hidePage();
    } else {
      guard(() => showCitations(f.citations, cite.page), $('doc-error'))();
    }
  }

  function hidePage() {
    S.pageToken += 1;
    S.focusCites = [];
    $('page-view').hidden = true;
  }

  /** Show page n with the boxes of those of `citations` that sit on it; page turns keep the same citations. */
  function showCitations(citations, n) {
    S.focusCites = citations;
    return showPage(n);
  }

  async function pageImage(n) {
    let info = S.pageImages.get(n);
    if (!info) {
      const resp = await api(`/v1/documents/${enc(S.docId)}/pages/${n}.png?scale=${PAGE_SCALE}`, { raw: true });
      const blob = await resp.blob();
      info = {
        url: URL.createObjectURL(blob),
        width: parseFloat(resp.headers.get('X-Page-Width')),
        height: parseFloat(resp.headers.get('X-Page-Height')),
      };
      S.pageImages.set(n, info);
    }
    return info;
  }

  /** Show page n with the focused citations' boxes drawn over it (boxes are PDF points, origin top-left). */
  async function showPage(n) {
    const token = ++S.pageToken;
    const gen = S.gen;
    const count = S.doc.page_count || n;
    $('page-view').hidden = false;
    $('page-label').textContent = `Page ${n} of ${count}`;
    $('page-prev').disabled = n <= 1;
    $('page-next').disabled = n >= count;
    const info = await pageImage(n);
    if (token !== S.pageToken || gen !== S.gen) return;
    const img = $('page-img');
    if (img.getAttribute('src') !== info.url) {
      img.src = info.url;
      try {
        await img.decode();
      } catch (err) {
        if (token !== S.pageToken) return; // a later page replaced this one mid-decode
        throw err;
      }
      if (token !== S.pageToken) return;
    }
    img.alt = `Page ${n} of ${S.doc.filename}`;
    img.dataset.page = n;
    S.page = n;
    const citations = S.focusCites.filter((c) => c.page === n);
    const frame = $('page-frame');
    for (const old of frame.querySelectorAll('.hl')) old.remove();
    const boxed = citations.filter((c) => Array.isArray(c.bbox));
    for (const c of boxed) {
      const [x0, y0, x1, y1] = c.bbox;
      const box = el('div', { class: 'hl', dataset: { page: n }, title: c.quote });
      box.style.left = `${(x0 / info.width) * 100}%`;
      box.style.top = `${(y0 / info.height) * 100}%`;
      box.style.width = `${((x1 - x0) / info.width) * 100}%`;
      box.style.height = `${((y1 - y0) / info.height) * 100}%`;
      frame.append(box);
    }
    $('page-note').textContent = citations.length && !boxed.length
      ? 'The cited words have no position on this page (text without layout).'
      : boxed.length ? `${boxed.length} cited passage${boxed.length > 1 ? 's' : ''} highlighted.` : '';
    const first = frame.querySelector('.hl');
    const scroller = $('page-scroller');
    if (first) scroller.scrollTop = Math.max(0, first.offsetTop - scroller.clientHeight / 3);
  }

  const turnPage = (delta) => showPage(S.page + delta);

  // ---------- editing ----------

  function valueSchema(name) {
    const fields = S.schema && S.schema.properties && S.schema.properties.fields;
    const spec = fields && fields.properties && fields.properties[name];
    return (spec && spec.properties && spec.properties.value) || {};
  }

  /** An input that suits the field's type in the extraction schema (enum, yes/no, number, date, JSON, text). */
  function buildEditor(name, value) {
    const vs = valueSchema(name);
    const types = [].concat(vs.type || []);
    let ctl;
    let kind;
    if (vs.enum) {
      kind = 'enum';
      ctl = el('select', {}, vs.enum.map((v) => el('option', { value: v === null ? '' : v }, v === null ? '(none)' : v)));
      ctl.value = value ?? '';
    } else if (types.includes('boolean')) {
      kind = 'boolean';
      ctl = el('select', {}, el('option', { value: '' }, '(none)'), el('option', { value: 'true' }, 'yes'),
        el('option', { value: 'false' }, 'no'));
      ctl.value = value === null || value === undefined ? '' : String(value);
    } else if (types.includes('object')) {
      kind = 'json';
      ctl = el('textarea', { spellcheck: 'false' });
      ctl.value = value === null || value === undefined ? '' : JSON.stringify(value, null, 2);
    } else if (types.includes('integer') || types.includes('number')) {
      kind = types.includes('integer') ? 'integer' : 'number';
      ctl = el('input', { type: 'number', step: kind === 'integer' ? '1' : 'any' });
      ctl.value = value ?? '';
    } else if (vs.format === 'date') {
      kind = 'date';
      ctl = el('input', { type: 'date' });
      ctl.value = value ?? '';
    } else {
      kind = 'string';
      ctl = el('input', { type: 'text', maxlength: 2000 });
      ctl.value = value ?? '';
    }
    ctl.id = 'edit-value';
    ctl.dataset.kind = kind;
    $('edit-slot').replaceChildren(ctl);
  }

  function readEditor() {
    const ctl = $('edit-value');
    const raw = ctl.value.trim();
    if (raw === '') return null;
    switch (ctl.dataset.kind) {
      case 'boolean': return raw === 'true';
      case 'integer':
      case 'number': {
        const n = Number(raw);
        if (!Number.isFinite(n)) throw new Error('Enter a number.');
        if (ctl.dataset.kind === 'integer' && !Number.isInteger(n)) throw new Error('Enter a whole number.');
        return n;
      }
      case 'json':
        try {
          return JSON.parse(raw);
        } catch (err) {
          throw new Error(`Enter valid JSON (${err.message}).`);
        }
      default: return raw;
    }
  }

  async function saveCorrection(ev) {
    ev.preventDefault();
    const name = S.selected;
    const value = readEditor();
    const note = $('edit-note').value.trim();
    $('edit-save').disabled = true;
    try {
      const ext = await api(`/v1/documents/${enc(S.docId)}/extraction/fields/${enc(name)}`, {
        method: 'PATCH', json: { value, note: note || undefined, reviewed_by: S.name || undefined },
      });
      await afterNewVersion(ext, name);
      toast(`Saved: ${humanize(name)} is now ${fmtValue(value)} (version ${ext.version})`);
    } finally {
      $('edit-save').disabled = false;
    }
  }

  async function undo() {
    const ext = await api(`/v1/documents/${enc(S.docId)}/extraction/undo`, {
      method: 'POST', json: S.name ? { reviewed_by: S.name } : {},
    });
    const undone = ext.reviews.filter((r) => r.version === ext.version).map((r) => r.field);
    await afterNewVersion(ext, undone[0] || S.selected);
    toast(`Undone: ${undone.map(humanize).join(', ')} restored (version ${ext.version})`);
  }

  async function afterNewVersion(ext, focusField) {
    const versions = await api(`/v1/documents/${enc(S.docId)}/extraction/versions`);
    setExtraction(ext, versions.versions);
    if (focusField && S.ext.fields[focusField]) {
      selectField(focusField);
      fieldButton(focusField).focus();
    }
    if (S.versions.length > 1) await compare(S.versions[S.versions.length - 2].version, ext.version);
  }

  // ---------- risk flags, rent, trail, compare ----------

  function citeButton(c) {
    return el('button', {
      type: 'button', class: 'cite', dataset: { page: c.page }, disabled: !isPdf(),
      onclick: guard(async () => {
        await showCitations([c], c.page);
        $('page-view').scrollIntoView({ block: 'start' });
      }, $('doc-error')),
    }, `page ${c.page}`);
  }

  function renderFlags() {
    const flags = S.ext.risk_flags;
    $('flag-list').replaceChildren(...(flags.length ? flags.map((f) => el('li', { dataset: { type: f.type } },
      el('div', { class: 'row gap' }, el('span', { class: `badge sev-${f.severity}` }, f.severity),
        el('strong', {}, humanize(f.type)), el('span', { class: 'muted small' }, `${Math.round(f.confidence * 100)}%`)),
      el('p', {}, f.explanation),
      f.citations.map((c) => el('div', { class: 'clause' }, citeButton(c), el('q', {}, c.quote)))))
      : [el('li', { class: 'muted' }, 'No risk flags.')]));
  }

  function money(n) {
    const currency = S.ext.fields.currency && S.ext.fields.currency.value;
    return currency ? `${fmtNumber(n)} ${currency}` : fmtNumber(n);
  }

  function renderRent() {
    const periods = S.ext.rent_schedule;
    $('rent-table').tBodies[0].replaceChildren(...(periods.length ? periods.map((p) => el('tr', {},
      el('td', {}, p.start || '—'), el('td', {}, p.end || '—'), el('td', { class: 'num' }, money(p.monthly_rent)),
      el('td', { class: 'num' }, Number.isFinite(p.annual_psf) ? fmtNumber(p.annual_psf) : '—'),
      el('td', {}, p.citations.slice(0, 1).map(citeButton))))
      : [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'No rent schedule found.'))]));
    $('rent-chart').replaceChildren(rentChart(periods));
  }

  /** A round axis step (1, 2, 2.5 or 5 times a power of ten) of at least `raw`. */
  function niceStep(raw) {
    if (!(raw > 0)) return 1;
    const power = 10 ** Math.floor(Math.log10(raw));
    return [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  }

  /** A step chart of monthly rent over the lease's dated periods, as inline SVG. */
  function rentChart(periods) {
    const day = 86400000;
    const pts = periods.filter((p) => p.start && p.end && Number.isFinite(p.monthly_rent))
      .map((p) => ({ t0: Date.parse(p.start), t1: Date.parse(p.end) + day, rent: p.monthly_rent, p }))
      .filter((p) => Number.isFinite(p.t0) && Number.isFinite(p.t1) && p.t1 > p.t0)
      .sort((a, b) => a.t0 - b.t0);
    if (!pts.length) return el('p', { class: 'muted' }, 'No dated rent steps to chart.');
    const W = 720; const H = 240; const m = { l: 84, r: 20, t: 16, b: 34 };
    const t0 = pts[0].t0; const t1 = Math.max(...pts.map((p) => p.t1));
    const step = niceStep(Math.max(...pts.map((p) => p.rent)) / 4);
    const top = step * Math.max(1, Math.ceil(Math.max(...pts.map((p) => p.rent)) / step + 0.15));
    const x = (t) => m.l + ((t - t0) / (t1 - t0)) * (W - m.l - m.r);
    const y = (r) => H - m.b - (r / top) * (H - m.t - m.b);
    const first = pts[0]; const last = pts[pts.length - 1];
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'rent-chart-title' },
      svg('title', { id: 'rent-chart-title' }, `Monthly rent from ${money(first.rent)} (${first.p.start}) `
        + `to ${money(last.rent)} (${last.p.start}), ${pts.length} steps`));
    for (let r = 0; r <= top + step / 2; r += step) {
      chart.append(svg('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: y(r), y2: y(r) }),
        svg('text', { x: m.l - 6, y: y(r) + 4, 'text-anchor': 'end' }, fmtNumber(r, 0)));
    }
    const startYear = new Date(t0).getUTCFullYear();
    const endYear = new Date(t1).getUTCFullYear();
    const stride = Math.max(1, Math.ceil((endYear - startYear + 1) / 10));
    for (let yr = startYear; yr <= endYear; yr += stride) {
      const t = Date.UTC(yr, 0, 1);
      if (t < t0 || t > t1) continue;
      chart.append(svg('line', { class: 'axis', x1: x(t), x2: x(t), y1: H - m.b, y2: H - m.b + 5 }),
        svg('text', { x: x(t), y: H - m.b + 18, 'text-anchor': 'middle' }, String(yr)));
    }
    let d = '';
    for (const p of pts) d += `${d ? 'L' : 'M'}${x(p.t0).toFixed(1)},${y(p.rent).toFixed(1)}L${x(p.t1).toFixed(1)},${y(p.rent).toFixed(1)}`;
    chart.append(svg('path', { class: 'area', d: `${d}L${x(last.t1).toFixed(1)},${y(0)}L${x(t0).toFixed(1)},${y(0)}Z` }),
      svg('path', { class: 'line', d }),
      svg('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: y(0), y2: y(0) }),
      svg('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: y(0) }));
    for (const p of pts) {
      chart.append(svg('circle', { cx: x(p.t0), cy: y(p.rent), r: 4, 'data-rent': p.rent },
        svg('title', {}, `${p.p.start}: ${money(p.rent)} a month`)));
    }
    return chart;
  }

  function renderTrail() {
    const rows = [...S.ext.reviews].reverse();
    $('trail-table').tBodies[0].replaceChildren(...(rows.length ? rows.map((r) => el('tr', { dataset: { version: r.version } },
      el('td', {}, `v${r.version}${r.action === 'undo' ? ` (undoes v${r.undoes})` : ''}`),
      el('td', {}, fmtTime(r.at)), el('td', {}, r.by), el('td', {}, humanize(r.field)),
      el('td', {}, el('del', { class: 'diff-old' }, fmtValue(r.old)), ' → ', el('ins', { class: 'diff-new' }, fmtValue(r.new))),
      el('td', {}, r.note || '')))
      : [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'No corrections yet.'))]));
  }

  function renderVersionPickers() {
    const options = () => S.versions.map((v) => el('option', { value: v.version }, `v${v.version} · ${v.created_by}`));
    const a = $('compare-a');
    const b = $('compare-b');
    a.replaceChildren(...options());
    b.replaceChildren(...options());
    const n = S.versions.length;
    if (n) {
      a.value = String(S.versions[Math.max(0, n - 2)].version);
      b.value = String(S.versions[n - 1].version);
    }
    $('compare-form').querySelector('button').disabled = n < 2;
    $('compare-table').hidden = true;
    $('compare-empty').hidden = true;
  }

  async function compare(a, b) {
    const body = await api(`/v1/documents/${enc(S.docId)}/extraction/compare?a=${enc(a)}&b=${enc(b)}`);
    $('compare-a').value = String(body.a.version);
    $('compare-b').value = String(body.b.version);
    $('compare-a-head').textContent = `v${body.a.version} (${body.a.created_by})`;
    $('compare-b-head').textContent = `v${body.b.version} (${body.b.created_by})`;
    $('compare-table').tBodies[0].replaceChildren(...body.changes.map((c) => el('tr', { dataset: { field: c.field } },
      el('th', { scope: 'row' }, humanize(c.field)),
      el('td', { class: 'diff-old' }, fmtValue(c.a.value)), el('td', { class: 'diff-new' }, fmtValue(c.b.value)))));
    $('compare-table').hidden = body.changes.length === 0;
    $('compare-empty').hidden = body.changes.length > 0;
  }

  // ---------- keyboard ----------

  function onFieldKeys(e) {
    const buttons = [...$('field-list').querySelectorAll('button.field')];
    const i = buttons.indexOf(document.activeElement);
    if (i < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const moves = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: buttons.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      const target = buttons[Math.max(0, Math.min(buttons.length - 1, moves[e.key]))];
      target.focus();
      selectField(target.dataset.field);
    } else if (e.key === 'e') {
      e.preventDefault();
      selectField(buttons[i].dataset.field);
      $('edit-value').focus();
    }
  }

  function onEditKeys(e) {
    if (e.key !== 'Escape' || !S.selected) return;
    e.preventDefault();
    buildEditor(S.selected, S.ext.fields[S.selected].value);
    $('edit-error').textContent = '';
    fieldButton(S.selected).focus();
  }

  // ---------- start ----------

  function init() {
    S.key = sessionStorage.getItem(KEY);
    S.name = sessionStorage.getItem(NAME) || '';
    if (S.key) renderWho();
    $('signin-form').addEventListener('submit', guard(signIn, $('signin-error')));
    $('sign-out').addEventListener('click', () => signOut('Signed out.'));
    wireUploads();
    $('field-list').addEventListener('keydown', onFieldKeys);
    $('edit-form').addEventListener('submit', guard(saveCorrection, $('edit-error')));
    $('edit-form').addEventListener('keydown', onEditKeys);
    $('undo').addEventListener('click', guard(undo, $('doc-error')));
    $('export-json').addEventListener('click', guard(() => download(`/v1/documents/${enc(S.docId)}/export.json`),
      $('doc-error')));
    $('page-prev').addEventListener('click', guard(() => turnPage(-1), $('doc-error')));
    $('page-next').addEventListener('click', guard(() => turnPage(1), $('doc-error')));
    $('compare-form').addEventListener('submit', guard(async (e) => {
      e.preventDefault();
      await compare($('compare-a').value, $('compare-b').value);
    }, $('doc-error')));
    window.addEventListener('hashchange', route);
    route();
  }

  init();
})();

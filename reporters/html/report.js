// coffer HTML report. The findings arrive as one JSON document (script#coffer-data, written by
// html_data.go); this script draws from it only what is on screen: a page of each matrix, a page
// of finding groups, the resources of an opened group. No framework and no network. Every value
// from the report is put in the page as text (textContent), never as markup.
(function () {
  'use strict';
  var perf = window.performance && performance.mark ? performance : null;
  function mark(name) {
    if (perf) {
      perf.mark('coffer:' + name);
    }
  }
  mark('start');
  var dataEl = document.getElementById('coffer-data');
  if (!dataEl) {
    return;
  }
  var D = JSON.parse(dataEl.textContent);
  mark('parsed');

  var S = D.s, T = D.t, CH = D.checks, RES = D.res, F = D.f, N = F.c.length;
  var NB = D.nb, NP = D.np;
  var STATUS = ['FAIL', 'ERROR', 'WAIVED', 'PASS'];
  var STATUS_CLASS = ['st-fail', 'st-error', 'st-waived', 'st-pass'];
  var CELL = {F: ['FAIL', 'st-fail'], E: ['ERROR', 'st-error'], W: ['WAIVED', 'st-waived'], P: ['PASS', 'st-pass'], n: ['n/a', 'st-na'], '-': ['n/a', 'st-na']};
  var SEV_RANK = {CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3};
  var FLAG_EVIDENCE = 1, FLAG_NA = 2, FLAG_BASELINE = 4, FLAG_SHORTENED = 8;
  var PAGE_ROWS = 100, PAGE_GROUPS = 50, PAGE_RESOURCES = 50;
  // Check entries: [id, title, severity, service, fix, summary, short, frameworks, bucket column, principal column].
  var C_ID = 0, C_TITLE = 1, C_SEV = 2, C_SVC = 3, C_FIX = 4, C_SUMMARY = 5, C_SHORT = 6, C_FW = 7, C_BCOL = 8, C_PCOL = 9;
  // Resources: [name, arn text, kind, region, role, account].
  var R_NAME = 0, R_ARN = 1, R_KIND = 2, R_REGION = 3, R_ROLE = 4, R_ACCOUNT = 5;
  var isOrg = D.accounts.length > 1 || !!document.getElementById('scope');

  // text expands text template ti for resource ri: the parts joined by the resource's name,
  // which gives back the text the reporter split, byte for byte.
  function text(ti, ri) {
    var parts = T[ti];
    return parts.length === 1 ? parts[0] : parts.join(RES[ri][R_NAME]);
  }
  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (content !== undefined && content !== null) {
      e.textContent = content;
    }
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) {
        continue;
      }
      parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return parent;
  }
  function num(n) {
    return n.toLocaleString('en-US');
  }
  function plural(n, one, many) {
    return num(n) + ' ' + (n === 1 ? one : many);
  }

  // Findings of each resource (in data order, worst first): resItems[resStart[r]..resStart[r+1]).
  var resStart = new Int32Array(RES.length + 1);
  var resItems = new Int32Array(N);
  (function () {
    var i;
    for (i = 0; i < N; i++) {
      resStart[F.r[i] + 1]++;
    }
    for (i = 0; i < RES.length; i++) {
      resStart[i + 1] += resStart[i];
    }
    var fill = resStart.slice(0, RES.length);
    for (i = 0; i < N; i++) {
      resItems[fill[F.r[i]]++] = i;
    }
  })();
  var waiver = {};
  D.w.forEach(function (w) {
    waiver[w[0]] = w[1];
  });
  mark('indexed');

  function statusLabel(i) {
    return F.fl[i] & FLAG_NA ? 'n/a' : STATUS[F.st[i]];
  }
  function statusClass(i) {
    return F.fl[i] & FLAG_NA ? 'st-na' : STATUS_CLASS[F.st[i]];
  }
  function badge(label, cls) {
    return el('span', 'badge ' + cls, label);
  }
  function sevBadge(sev) {
    return badge(sev, 'sev-' + sev.toLowerCase());
  }
  function resourceFacts(ri) {
    var r = RES[ri], bits = [S[r[R_KIND]]];
    if (S[r[R_ROLE]]) {
      bits.push(S[r[R_ROLE]]);
    }
    if (S[r[R_REGION]]) {
      bits.push(S[r[R_REGION]]);
    }
    if (isOrg && S[r[R_ACCOUNT]]) {
      bits.push('account ' + S[r[R_ACCOUNT]]);
    }
    return '(' + bits.join(', ') + ')';
  }

  // Copying: the exact text of the commands, from the data, never from the page.
  var copyStatus = document.getElementById('copy-status');
  // copyText puts text on the clipboard: through the Clipboard API where the browser has it,
  // else (or when it refuses) through a selected text area and the copy command.
  function copyText(textToCopy) {
    function legacy() {
      var area = document.createElement('textarea');
      area.value = textToCopy;
      area.setAttribute('readonly', '');
      area.className = 'offscreen';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand('copy');
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      return ok ? Promise.resolve() : Promise.reject(new Error('copy refused'));
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(textToCopy).catch(legacy);
    }
    return legacy();
  }
  function copyButton(label, kind, value, visible) {
    var b = el('button', 'copy', visible || 'Copy');
    b.type = 'button';
    b.dataset.copy = kind;
    b.dataset.value = String(value);
    b.setAttribute('aria-label', label);
    return b;
  }
  // copySource returns what a copy button copies: one finding's commands, or those of every
  // resource of a group, one after the other.
  function copySource(button) {
    var v = Number(button.dataset.value);
    if (button.dataset.copy === 'finding') {
      return text(F.x[v], F.r[v]);
    }
    return groupsShown[v].items.map(function (i) {
      return text(F.x[i], F.r[i]);
    }).join('\n');
  }
  function onCopy(button) {
    var source = copySource(button);
    copyText(source).then(function () {
      button.textContent = 'Copied';
      copyStatus.textContent = 'Copied to the clipboard.';
    }, function () {
      // The clipboard can be refused (permissions, a file:// page in some browsers): select the
      // commands shown beside the button so one keystroke copies them.
      var pre = button.parentNode.querySelector('pre');
      if (pre) {
        var range = document.createRange();
        range.selectNodeContents(pre);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      button.textContent = 'Selected';
      copyStatus.textContent = 'The clipboard is not available; the commands are selected, press Ctrl+C to copy.';
    });
    window.setTimeout(function () {
      button.textContent = button.dataset.copy === 'group' ? 'Copy all' : 'Copy';
    }, 2000);
  }

  // anchor is a finding's stable link target, as earlier reports had it: check id and a hash of
  // the ARN (FNV-1a over its UTF-8 bytes).
  function anchor(i) {
    var arn = text(RES[F.r[i]][R_ARN], F.r[i]);
    var bytes = new TextEncoder().encode(arn);
    var h = 0x811c9dc5;
    for (var k = 0; k < bytes.length; k++) {
      h ^= bytes[k];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    var id = CH[F.c[i]][C_ID].toLowerCase().replace(/[^a-z0-9-]/g, '-');
    return 'f-' + id + '-' + ('0000000' + h.toString(16)).slice(-8);
  }

  // renderFinding draws one finding in full: facts, message, notes, evidence, remediation.
  function renderFinding(i, withTitle, withoutMessage) {
    var c = CH[F.c[i]], ri = F.r[i], r = RES[ri];
    var art = el('article', 'finding-detail');
    art.dataset.finding = String(i);
    if (withTitle) {
      add(art, add(el('h4'), badge(statusLabel(i), statusClass(i)), ' ', sevBadge(c[C_SEV]), ' ', c[C_TITLE]));
    }
    var facts = el('dl', 'facts');
    function fact(name, value, code) {
      var dd = el('dd');
      if (code) {
        add(dd, el('code', null, value));
      } else {
        dd.textContent = value;
      }
      add(facts, add(el('div'), el('dt', null, name), dd));
      return dd;
    }
    add(fact('Check', c[C_ID], true), ' (' + c[C_SVC] + ')');
    add(fact('Resource', r[R_NAME]), ' ', el('span', 'muted', resourceFacts(ri)));
    fact('ARN', text(r[R_ARN], ri), true);
    c[C_FW].forEach(function (fw) {
      fact(fw[0], fw[1]);
    });
    art.appendChild(facts);
    var msg = text(F.m[i], ri);
    if (!msg && F.st[i] === 3) {
      msg = 'Passes on ' + r[R_NAME] + '.';
    }
    if (!withoutMessage) {
      add(art, el('p', 'message', msg));
    }
    if (F.fl[i] & FLAG_BASELINE) {
      add(art, el('p', 'note baseline', D.notes.known));
    }
    if (waiver[i] !== undefined) {
      add(art, el('p', 'note waiver', 'Waived: ' + text(waiver[i], ri)));
    }
    if (F.fl[i] & FLAG_EVIDENCE) {
      add(art, add(el('div', 'evidence'), el('h5', null, 'Evidence'), add(el('p'), el('code', null, text(F.ep[i], ri))), el('pre', null, text(F.ev[i], ri))));
    }
    if (F.st[i] !== 3) {
      var rem = add(el('div', 'remediation'), add(el('h5', null, 'Remediation '), el('span', 'muted', '(fix: ' + c[C_FIX] + ')')), el('p', null, c[C_SUMMARY]));
      var cmds = text(F.x[i], ri);
      if (cmds) {
        var box = add(el('div', 'commands'), add(el('pre'), el('code', null, cmds)));
        if (F.fl[i] & FLAG_SHORTENED) {
          add(box, el('p', 'note', D.notes.shortened));
        } else {
          var n = cmds.split('\n').length;
          add(box, copyButton('Copy the ' + (n === 1 ? 'command' : n + ' commands') + ' for ' + c[C_ID] + ' on ' + r[R_NAME], 'finding', i));
        }
        add(rem, box);
      }
      add(art, rem);
    }
    return art;
  }

  // ---- Scope: the account an organisation report shows ----
  var scope = {account: -1}; // a string index of D.s, or -1 for every account
  function inScope(ri) {
    return scope.account < 0 || RES[ri][R_ACCOUNT] === scope.account;
  }

  // ---- Pager ----
  function pager(total, page, size, noun, onPage) {
    var nav = el('nav', 'pager');
    nav.setAttribute('aria-label', 'Pages of ' + noun);
    var pages = Math.max(1, Math.ceil(total / size));
    var from = total === 0 ? 0 : page * size + 1, to = Math.min(total, (page + 1) * size);
    function btn(label, target, disabled) {
      var b = el('button', 'page', label);
      b.type = 'button';
      b.disabled = disabled;
      b.addEventListener('click', function () {
        onPage(target);
      });
      return b;
    }
    add(nav, btn('First', 0, page === 0), btn('Previous', page - 1, page === 0),
      el('span', 'pages', num(from) + '–' + num(to) + ' of ' + plural(total, noun.replace(/s$/, ''), noun)),
      btn('Next', page + 1, page >= pages - 1), btn('Last', pages - 1, page >= pages - 1));
    return nav;
  }

  // ---- Matrices: 0 buckets, 1 principals, 2 the rest (account, trails, keys) ----
  function Matrix(section, kind) {
    this.section = section;
    this.kind = kind;
    this.view = section.querySelector('.matrix-view');
    this.form = section.querySelector('form.matrix-filters');
    this.page = 0;
    this.detail = null;
    if (kind === 0) {
      this.from = 0;
      this.to = NB;
    } else if (kind === 1) {
      this.from = NB;
      this.to = NB + NP;
    } else {
      this.from = NB + NP;
      this.to = RES.length;
    }
    this.cols = kind < 2 ? D.cols[kind] : [];
    this.colOf = kind === 0 ? C_BCOL : C_PCOL;
    if (this.form) {
      this.fill();
      var m = this;
      this.form.addEventListener('input', function () {
        m.page = 0;
        m.render();
      });
      this.form.addEventListener('submit', function (ev) {
        ev.preventDefault();
      });
      this.form.hidden = this.to === this.from;
    }
  }
  Matrix.prototype.rowKind = function (ri) {
    var r = RES[ri];
    return this.kind === 0 ? (S[r[R_ROLE]] || '—') : S[r[R_KIND]];
  };
  Matrix.prototype.fill = function () {
    var kinds = {}, list = [], ri;
    for (ri = this.from; ri < this.to; ri++) {
      var k = this.rowKind(ri);
      if (!kinds[k]) {
        kinds[k] = true;
        list.push(k);
      }
    }
    var sel = this.form.elements.kind;
    list.forEach(function (k) {
      add(sel, el('option', null, k)).lastChild.value = k;
    });
    var control = this.form.elements.control;
    this.cols.forEach(function (col, j) {
      var group = el('optgroup');
      group.label = col[0];
      var o = el('option', null, col[0] + ' (column)');
      o.value = 'c' + j;
      group.appendChild(o);
      if (col[1].length > 1) {
        col[1].forEach(function (id) {
          var oc = el('option', null, id);
          oc.value = 'k' + id;
          group.appendChild(oc);
        });
      }
      control.appendChild(group);
    });
  };
  // cellOf is the status code of a resource for one check: its finding's, or - when it has none.
  function checkCode(ri, id) {
    for (var k = resStart[ri]; k < resStart[ri + 1]; k++) {
      var i = resItems[k];
      if (CH[F.c[i]][C_ID] === id) {
        return F.fl[i] & FLAG_NA ? 'n' : 'FEWP'.charAt(F.st[i]);
      }
    }
    return '-';
  }
  Matrix.prototype.rows = function () {
    var out = [], ri;
    var f = this.form ? this.form.elements : null;
    var kind = f ? f.kind.value : '', control = f ? f.control.value : '', status = f ? f.status.value : '';
    var needle = f ? f.text.value.trim().toLowerCase() : '';
    for (ri = this.from; ri < this.to; ri++) {
      if (!inScope(ri)) {
        continue;
      }
      if (this.kind === 2) {
        // One row per finding of the resource.
        for (var k = resStart[ri]; k < resStart[ri + 1]; k++) {
          out.push(resItems[k]);
        }
        continue;
      }
      if (kind && this.rowKind(ri) !== kind) {
        continue;
      }
      if (needle && RES[ri][R_NAME].toLowerCase().indexOf(needle) < 0) {
        continue;
      }
      if (status || control) {
        var cells = D.cells[ri], ok = false;
        var match = function (code) {
          return status === '' ? code !== '-' : (status === 'n' ? code === 'n' || code === '-' : code === status);
        };
        if (control.charAt(0) === 'c') {
          ok = match(cells.charAt(Number(control.slice(1))));
        } else if (control.charAt(0) === 'k') {
          ok = match(checkCode(ri, control.slice(1)));
        } else {
          for (var j = 0; j < cells.length && !ok; j++) {
            ok = match(cells.charAt(j));
          }
        }
        if (!ok) {
          continue;
        }
      }
      out.push(ri);
    }
    return out;
  };
  Matrix.prototype.render = function () {
    var rows = this.rows(), m = this;
    var pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
    if (this.page >= pages) {
      this.page = pages - 1;
    }
    var view = el('div', 'matrix-view');
    var total = this.to - this.from;
    if (total === 0) {
      add(view, el('p', null, ['No finding is about a bucket.', 'No finding is about an IAM principal.', 'No account-wide, trail or key finding.'][this.kind]));
      this.swap(view);
      return;
    }
    var noun = this.kind === 2 ? 'findings' : 'rows';
    var slice = rows.slice(this.page * PAGE_ROWS, (this.page + 1) * PAGE_ROWS);
    var onPage = function (p) {
      m.page = p;
      m.render();
    };
    add(view, pager(rows.length, this.page, PAGE_ROWS, noun, onPage));
    if (rows.length === 0) {
      add(view, el('p', null, scope.account >= 0 ? 'Nothing in account ' + S[scope.account] + ' matches.' : 'Nothing matches the filters.'));
      this.swap(view);
      return;
    }
    var table = el('table', this.kind === 2 ? 'list' : 'matrix');
    var head = el('tr');
    if (this.kind === 2) {
      ['Resource', 'Type', 'Check', 'Status'].forEach(function (h) {
        var th = el('th', null, h);
        th.scope = 'col';
        head.appendChild(th);
      });
    } else {
      [this.kind === 0 ? 'Bucket' : 'Principal', this.kind === 0 ? 'Role' : 'Type'].forEach(function (h) {
        var th = el('th', null, h);
        th.scope = 'col';
        head.appendChild(th);
      });
      this.cols.forEach(function (col) {
        var th = el('th', null, col[0]);
        th.scope = 'col';
        th.title = col[1].join(', ');
        head.appendChild(th);
      });
    }
    add(table, add(el('thead'), head));
    var body = el('tbody');
    slice.forEach(function (x) {
      body.appendChild(m.kind === 2 ? m.otherRow(x) : m.row(x));
    });
    add(table, body);
    add(view, add(el('div', 'scroll'), table));
    if (this.kind < 2) {
      add(view, add(el('p', 'legend'), 'Columns: ', this.cols.map(function (col) {
        return col[0] + ' = ' + col[1].join(', ');
      }).join('; ') + '.'));
    }
    this.swap(view);
  };
  Matrix.prototype.swap = function (view) {
    this.view.replaceWith(view);
    this.view = view;
    if (this.detail) {
      this.detail.remove();
      this.detail = null;
    }
  };
  Matrix.prototype.row = function (ri) {
    var r = RES[ri], tr = el('tr'), cells = D.cells[ri], m = this;
    var th = add(el('th'), el('span', 'name', r[R_NAME]));
    th.scope = 'row';
    var where = [S[r[R_REGION]]];
    if (isOrg) {
      where.push(S[r[R_ACCOUNT]]);
    }
    where = where.filter(Boolean).join(' · ');
    if (where) {
      add(th, ' ', el('span', 'muted', where));
    }
    add(tr, th, el('td', null, this.rowKind(ri)));
    // The checks of each cell, for its tooltip, named without what the matrix implies.
    var inCol = this.cols.map(function () {
      return [];
    });
    for (var k = resStart[ri]; k < resStart[ri + 1]; k++) {
      var i = resItems[k], col = CH[F.c[i]][m.colOf];
      if (col >= 0) {
        inCol[col].push(CH[F.c[i]][C_SHORT] + ': ' + statusLabel(i));
      }
    }
    for (var j = 0; j < this.cols.length; j++) {
      var code = cells.charAt(j), look = CELL[code] || CELL['-'];
      var td = el('td', 'cell ' + look[1]);
      td.dataset.status = code === 'n' || code === '-' ? 'NA' : look[0];
      if (code === '-') {
        add(td, badge(look[0], look[1]));
      } else {
        var b = el('button', 'badge ' + look[1], look[0]);
        b.type = 'button';
        b.dataset.cell = ri + ':' + j;
        b.title = inCol[j].join('\n');
        b.setAttribute('aria-label', look[0] + ': ' + this.cols[j][0] + ' on ' + r[R_NAME]);
        td.appendChild(b);
      }
      tr.appendChild(td);
    }
    return tr;
  };
  Matrix.prototype.otherRow = function (i) {
    var ri = F.r[i], r = RES[ri], c = CH[F.c[i]];
    var th = add(el('th'), r[R_NAME]);
    th.scope = 'row';
    if (isOrg && S[r[R_ACCOUNT]]) {
      add(th, ' ', el('span', 'muted', S[r[R_ACCOUNT]]));
    }
    var b = el('button', 'badge ' + statusClass(i), statusLabel(i));
    b.type = 'button';
    b.dataset.finding = String(i);
    b.setAttribute('aria-label', statusLabel(i) + ': ' + c[C_ID] + ' on ' + r[R_NAME]);
    return add(el('tr'), th, el('td', null, S[r[R_KIND]]), add(el('td'), c[C_TITLE] + ' ', el('code', null, c[C_ID])), add(el('td'), b));
  };
  // showDetail draws, under the table, the findings behind a cell (or one finding).
  Matrix.prototype.showDetail = function (title, items) {
    var panel = el('div', 'detail');
    panel.setAttribute('role', 'region');
    panel.setAttribute('aria-label', title);
    var close = el('button', 'close', 'Close');
    close.type = 'button';
    var m = this;
    close.addEventListener('click', function () {
      panel.remove();
      m.detail = null;
    });
    add(panel, add(el('h3'), title, ' ', close));
    items.forEach(function (i) {
      panel.appendChild(renderFinding(i, true));
    });
    if (this.detail) {
      this.detail.remove();
    }
    this.view.after(panel);
    this.detail = panel;
    panel.scrollIntoView({block: 'nearest'});
  };
  Matrix.prototype.openCell = function (ri, j) {
    var items = [];
    for (var k = resStart[ri]; k < resStart[ri + 1]; k++) {
      var i = resItems[k];
      if (CH[F.c[i]][this.colOf] === j) {
        items.push(i);
      }
    }
    this.showDetail(RES[ri][R_NAME] + ' — ' + this.cols[j][0], items);
  };

  // ---- Findings, grouped ----
  var form = document.getElementById('filters');
  var shown = document.getElementById('shown');
  var groupsBox = document.getElementById('groups');
  var groupsShown = []; // the groups of the current filters, in order
  var groupPages = 1;

  function checked(name) {
    var set = {};
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
      if (box.checked) {
        set[box.value] = true;
      }
    });
    return set;
  }
  function matches(i, filt) {
    var c = CH[F.c[i]];
    if (!filt.sev[c[C_SEV]] || !filt.status[STATUS[F.st[i]]] || (filt.service && c[C_SVC] !== filt.service) || !inScope(F.r[i])) {
      return false;
    }
    if (filt.text) {
      return RES[F.r[i]][R_NAME].toLowerCase().indexOf(filt.text) >= 0 || c[C_ID].toLowerCase().indexOf(filt.text) >= 0;
    }
    return true;
  }
  function currentFilter() {
    return {sev: checked('severity'), status: checked('status'), service: form.elements.service.value, text: form.elements.text.value.trim().toLowerCase()};
  }
  // group puts together the findings of one check with the same status and the same message but
  // for the resource's name: the check failed the same way on each of them.
  function group(filt) {
    var byKey = new Map(), list = [], n = 0;
    for (var i = 0; i < N; i++) {
      if (!matches(i, filt)) {
        continue;
      }
      n++;
      var key = F.c[i] + ',' + F.st[i] + ',' + F.m[i] + ',' + (F.fl[i] & FLAG_NA);
      var g = byKey.get(key);
      if (!g) {
        g = {check: F.c[i], status: F.st[i], items: []};
        byKey.set(key, g);
        list.push(g);
      }
      g.items.push(i);
    }
    // Worst first (the data's order), then by check, then the largest groups first.
    list.forEach(function (g, k) {
      g.seen = k;
    });
    list.sort(function (a, b) {
      var ca = CH[a.check], cb = CH[b.check];
      return a.status - b.status || SEV_RANK[ca[C_SEV]] - SEV_RANK[cb[C_SEV]] ||
        (ca[C_ID] < cb[C_ID] ? -1 : ca[C_ID] > cb[C_ID] ? 1 : 0) || b.items.length - a.items.length || a.seen - b.seen;
    });
    return {groups: list, findings: n};
  }
  // messageOf shows a group's message: the first resource's, with its name marked as a
  // placeholder when the group has several resources.
  function messageOf(g) {
    var i = g.items[0], ri = F.r[i], parts = T[F.m[i]];
    var p = el('p', 'message');
    var msg = text(F.m[i], ri);
    if (!msg && F.st[i] === 3) {
      parts = ['Passes on ', '.'];
    } else if (!msg) {
      return null;
    }
    if (g.items.length === 1 || parts.length === 1) {
      p.textContent = parts.length === 1 ? parts[0] : parts.join(RES[ri][R_NAME]);
      return p;
    }
    var ph = '‹' + S[RES[ri][R_KIND]] + '›';
    parts.forEach(function (part, k) {
      if (k > 0) {
        add(p, el('span', 'placeholder', ph));
      }
      add(p, part);
    });
    return p;
  }
  function renderGroup(g, gi) {
    var c = CH[g.check], first = g.items[0];
    var det = el('details', 'group');
    det.dataset.group = String(gi);
    det.dataset.status = statusLabel(first);
    var sum = el('summary');
    add(sum, badge(statusLabel(first), statusClass(first)), ' ', sevBadge(c[C_SEV]), ' ', el('span', 'title', c[C_TITLE]), ' ', el('code', null, c[C_ID]), ' ',
      el('span', 'count', g.items.length === 1 ? RES[F.r[first]][R_NAME] : plural(g.items.length, 'resource', 'resources')));
    var msg = messageOf(g);
    if (msg) {
      add(sum, msg);
    }
    det.appendChild(sum);
    det.addEventListener('toggle', function () {
      if (det.open && !det.dataset.drawn) {
        det.dataset.drawn = '1';
        drawGroupBody(det, g, gi);
      }
    });
    return det;
  }
  function drawGroupBody(det, g, gi) {
    var body = el('div', 'group-body');
    if (g.items.length === 1) {
      body.appendChild(renderFinding(g.items[0], false, true));
      det.appendChild(body);
      return;
    }
    var c = CH[g.check], first = g.items[0];
    if (F.st[first] !== 3) {
      var rem = add(el('div', 'remediation'), add(el('h5', null, 'Remediation '), el('span', 'muted', '(fix: ' + c[C_FIX] + ')')), el('p', null, c[C_SUMMARY]));
      var anyCmd = false, shortened = false, same = true;
      g.items.forEach(function (i) {
        anyCmd = anyCmd || F.x[i] !== 0;
        shortened = shortened || (F.fl[i] & FLAG_SHORTENED) !== 0;
        same = same && F.x[i] === F.x[first];
      });
      if (anyCmd) {
        // The commands once: with the resource's name as a placeholder when they are the same
        // for every resource but for it, else the first resource's. Each resource's own commands
        // are under it, and the button copies them all, one resource after the other.
        var ri = F.r[first], parts = T[F.x[first]], ph = '‹' + S[RES[ri][R_KIND]] + '›';
        var code = el('code'), intro;
        if (same && parts.length > 1) {
          intro = 'The same commands for each resource, where ' + ph + ' is its name:';
          parts.forEach(function (part, k) {
            if (k > 0) {
              add(code, el('span', 'placeholder', ph));
            }
            add(code, part);
          });
        } else {
          intro = same ? 'The same commands for each resource:' : 'The commands for ' + RES[ri][R_NAME] + '; they differ between resources (each one\'s are under it):';
          code.textContent = text(F.x[first], ri);
        }
        add(rem, el('p', 'muted', intro));
        var box = add(el('div', 'commands'), add(el('pre'), code));
        if (shortened) {
          add(box, el('p', 'note', D.notes.shortened));
        } else {
          add(box, copyButton('Copy the commands for all ' + g.items.length + ' resources of ' + c[C_ID], 'group', gi, 'Copy all'));
        }
        add(rem, box);
      }
      add(body, rem);
    }
    var list = el('ol', 'resources');
    var shownCount = 0;
    var more = el('button', 'more', '');
    more.type = 'button';
    function drawMore() {
      var end = Math.min(g.items.length, shownCount + PAGE_RESOURCES);
      for (; shownCount < end; shownCount++) {
        list.appendChild(resourceItem(g.items[shownCount]));
      }
      more.hidden = shownCount >= g.items.length;
      more.textContent = 'Show ' + Math.min(PAGE_RESOURCES, g.items.length - shownCount) + ' more of ' + num(g.items.length - shownCount);
    }
    more.addEventListener('click', drawMore);
    drawMore();
    add(body, el('h5', null, plural(g.items.length, 'resource', 'resources')), list, more);
    det.appendChild(body);
    det.drawMore = function (upTo) {
      while (shownCount <= upTo && shownCount < g.items.length) {
        drawMore();
      }
    };
  }
  function resourceItem(i) {
    var ri = F.r[i];
    var li = el('li');
    var det = el('details', 'finding');
    det.dataset.finding = String(i);
    add(det, add(el('summary'), badge(statusLabel(i), statusClass(i)), ' ', el('span', 'name', RES[ri][R_NAME]), ' ', el('span', 'muted', resourceFacts(ri))));
    det.addEventListener('toggle', function () {
      if (det.open && !det.dataset.drawn) {
        det.dataset.drawn = '1';
        det.appendChild(renderFinding(i, false));
      }
    });
    return add(li, det);
  }
  function drawGroups() {
    var box = el('div');
    box.id = 'groups';
    var end = Math.min(groupsShown.length, groupPages * PAGE_GROUPS);
    var ol = el('ol', 'groups');
    for (var gi = 0; gi < end; gi++) {
      ol.appendChild(add(el('li'), renderGroup(groupsShown[gi], gi)));
    }
    box.appendChild(ol);
    if (end < groupsShown.length) {
      var more = el('button', 'more', 'Show ' + Math.min(PAGE_GROUPS, groupsShown.length - end) + ' more of ' + num(groupsShown.length - end) + ' groups');
      more.type = 'button';
      more.addEventListener('click', function () {
        groupPages++;
        drawGroups();
      });
      box.appendChild(more);
    }
    if (groupsShown.length === 0) {
      box.appendChild(el('p', null, 'No finding matches the filters.'));
    }
    groupsBox.replaceWith(box);
    groupsBox = box;
  }
  function applyFilters() {
    var res = group(currentFilter());
    groupsShown = res.groups;
    groupPages = 1;
    shown.dataset.shown = String(res.findings);
    shown.dataset.groups = String(res.groups.length);
    shown.textContent = 'Showing ' + plural(res.findings, 'finding', 'findings') + ' of ' + num(N) + ', in ' + plural(res.groups.length, 'group', 'groups') + '.';
    drawGroups();
  }

  // reveal shows finding i in the findings list: filters widened just enough, its group drawn
  // and opened, its resource opened, scrolled to.
  function reveal(i) {
    var c = CH[F.c[i]];
    form.querySelectorAll('input[name=severity]').forEach(function (box) {
      box.checked = box.checked || box.value === c[C_SEV];
    });
    form.querySelectorAll('input[name=status]').forEach(function (box) {
      box.checked = box.checked || box.value === STATUS[F.st[i]];
    });
    if (form.elements.service.value && form.elements.service.value !== c[C_SVC]) {
      form.elements.service.value = '';
    }
    form.elements.text.value = '';
    if (!inScope(F.r[i])) {
      setScope(-1);
    }
    applyFilters();
    var gi = -1, pos = -1;
    for (var k = 0; k < groupsShown.length && gi < 0; k++) {
      pos = groupsShown[k].items.indexOf(i);
      if (pos >= 0) {
        gi = k;
      }
    }
    if (gi < 0) {
      return;
    }
    groupPages = Math.floor(gi / PAGE_GROUPS) + 1;
    drawGroups();
    var det = groupsBox.querySelector('details.group[data-group="' + gi + '"]');
    det.open = true;
    if (!det.dataset.drawn) {
      det.dataset.drawn = '1';
      drawGroupBody(det, groupsShown[gi], gi);
    }
    var target = det;
    if (det.drawMore) {
      det.drawMore(pos);
      target = det.querySelector('details.finding[data-finding="' + i + '"]');
      target.open = true;
    }
    target.id = anchor(i);
    target.classList.add('targeted');
    target.scrollIntoView();
  }
  function findAnchor(id) {
    if (id.indexOf('f-') !== 0) {
      return -1;
    }
    for (var i = 0; i < N; i++) {
      if (anchor(i) === id) {
        return i;
      }
    }
    return -1;
  }
  function hashID() {
    try {
      return decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      return '';
    }
  }

  // ---- Scope (organisations) ----
  var scopeForm = document.getElementById('scope');
  var scopeSelect = document.getElementById('scope-account');
  var matrices = [];
  var accountOf = {}; // account id → string index
  function setScope(si) {
    scope.account = si;
    if (scopeSelect) {
      scopeSelect.value = si < 0 ? '' : S[si];
    }
    var note = document.getElementById('scope-note');
    var info = D.accounts.filter(function (a) {
      return a[0] === si;
    })[0];
    if (note) {
      note.textContent = !info ? '' : S[info[0]] + (S[info[1]] ? ' (' + S[info[1]] + ')' : '') + ': ' + S[info[2]] + (S[info[3]] ? ' — ' + S[info[3]] : '');
    }
    updateSummary();
    matrices.forEach(function (m) {
      m.page = 0;
      m.render();
    });
    applyFilters();
  }
  // updateSummary counts the findings of the account shown into the summary cards.
  function updateSummary() {
    var byStatus = [0, 0, 0, 0], bySev = {CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0}, total = 0;
    for (var i = 0; i < N; i++) {
      if (!inScope(F.r[i])) {
        continue;
      }
      total++;
      byStatus[F.st[i]]++;
      if (F.st[i] === 0) {
        bySev[CH[F.c[i]][C_SEV]] = (bySev[CH[F.c[i]][C_SEV]] || 0) + 1;
      }
    }
    document.getElementById('count-total').textContent = String(total);
    STATUS.forEach(function (st, k) {
      var e = document.getElementById('count-status-' + st);
      if (e) {
        e.textContent = String(byStatus[k]);
      }
    });
    Object.keys(bySev).forEach(function (sev) {
      var e = document.getElementById('count-severity-' + sev);
      if (e) {
        e.textContent = String(bySev[sev]);
      }
    });
    var where = document.getElementById('summary-scope');
    if (where) {
      where.textContent = scope.account < 0 ? '' : ' in account ' + S[scope.account];
    }
  }

  // ---- Wiring ----
  document.querySelectorAll('section.matrix-section').forEach(function (section) {
    matrices.push(new Matrix(section, Number(section.dataset.matrix)));
  });
  document.addEventListener('click', function (ev) {
    var t = ev.target;
    var b = t.closest ? t.closest('button') : null;
    if (!b) {
      return;
    }
    if (b.dataset.copy) {
      onCopy(b);
    } else if (b.dataset.cell) {
      var parts = b.dataset.cell.split(':'), m = matrices[Number(b.closest('section').dataset.matrix)];
      m.openCell(Number(parts[0]), Number(parts[1]));
    } else if (b.dataset.finding && b.closest('section.matrix-section')) {
      var mi = matrices[Number(b.closest('section').dataset.matrix)], i = Number(b.dataset.finding);
      mi.showDetail(RES[F.r[i]][R_NAME] + ' — ' + CH[F.c[i]][C_ID], [i]);
    } else if (b.classList.contains('show-account')) {
      var si = accountOf[b.dataset.account];
      setScope(si === undefined ? -1 : si);
      document.getElementById('summary').scrollIntoView();
    }
  });
  form.addEventListener('input', applyFilters);
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
  });
  window.addEventListener('hashchange', function () {
    var i = findAnchor(hashID());
    if (i >= 0) {
      reveal(i);
    }
  });
  D.accounts.forEach(function (a) {
    accountOf[S[a[0]]] = a[0];
  });
  if (scopeForm && scopeSelect) {
    D.accounts.forEach(function (a) {
      var o = el('option', null, S[a[0]] + (S[a[1]] ? ' — ' + S[a[1]] : '') + (S[a[2]] !== 'scanned' ? ' (' + S[a[2]] + ')' : ''));
      o.value = S[a[0]];
      scopeSelect.appendChild(o);
    });
    scopeSelect.addEventListener('change', function () {
      var si = accountOf[scopeSelect.value];
      setScope(si === undefined ? -1 : si);
    });
    scopeForm.addEventListener('submit', function (ev) {
      ev.preventDefault();
    });
    scopeForm.hidden = false;
    document.querySelectorAll('button.show-account').forEach(function (b) {
      b.hidden = false;
    });
  }
  matrices.forEach(function (m) {
    m.render();
  });
  mark('matrices');
  form.hidden = false;
  applyFilters();
  mark('findings');
  var linked = findAnchor(hashID());
  if (linked >= 0) {
    reveal(linked);
  }
  document.documentElement.dataset.ready = '1';
  mark('ready');
  if (perf && perf.measure) {
    perf.measure('coffer:init', 'coffer:start', 'coffer:ready');
  }
})();

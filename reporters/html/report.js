// coffer HTML report: findings filters, reveal of a linked finding that a filter hides, and copy
// buttons. No framework and no network. Without this script every finding stays visible.
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var shown = document.getElementById('shown');
  var copyStatus = document.getElementById('copy-status');
  var items = Array.prototype.slice.call(document.querySelectorAll('li.finding'));
  if (!form || !shown) {
    return;
  }

  function checkedValues(name) {
    var set = {};
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
      if (box.checked) {
        set[box.value] = true;
      }
    });
    return set;
  }

  function apply() {
    var sev = checkedValues('severity');
    var status = checkedValues('status');
    var service = form.elements.service.value;
    var n = 0;
    items.forEach(function (li) {
      var show = !!sev[li.dataset.severity] && !!status[li.dataset.status] &&
        (service === '' || li.dataset.service === service);
      li.hidden = !show;
      if (show) {
        n++;
      }
    });
    shown.dataset.shown = String(n);
    shown.textContent = 'Showing ' + n + ' of ' + items.length + ' findings.';
  }

  function check(name, value) {
    form.querySelectorAll('input[name="' + name + '"]').forEach(function (box) {
      if (box.value === value) {
        box.checked = true;
      }
    });
  }

  // A matrix link may point at a finding the filters hide (a PASS, by default): widen the
  // filters just enough to show it, so following a link never lands on nothing.
  function reveal(id) {
    var li = id ? document.getElementById(id) : null;
    if (!li || !li.classList.contains('finding') || !li.hidden) {
      return;
    }
    check('severity', li.dataset.severity);
    check('status', li.dataset.status);
    if (form.elements.service.value !== '' && form.elements.service.value !== li.dataset.service) {
      form.elements.service.value = '';
    }
    apply();
  }

  function hashID() {
    try {
      return decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      return '';
    }
  }

  document.addEventListener('click', function (ev) {
    var a = ev.target.closest ? ev.target.closest('a[href^="#f-"]') : null;
    if (a) {
      reveal(a.getAttribute('href').slice(1));
    }
  });
  window.addEventListener('hashchange', function () {
    var id = hashID();
    reveal(id);
    var el = id ? document.getElementById(id) : null;
    if (el) {
      el.scrollIntoView();
    }
  });

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
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
      if (ok) {
        resolve();
      } else {
        reject(new Error('copy refused'));
      }
    });
  }

  document.querySelectorAll('button.copy').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) {
        return;
      }
      copyText(source.textContent).then(function () {
        button.textContent = 'Copied';
        copyStatus.textContent = 'Copied to the clipboard.';
      }, function () {
        // The clipboard can be refused (permissions, a file:// page in some browsers): select
        // the text so one keystroke copies it.
        var range = document.createRange();
        range.selectNodeContents(source);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        button.textContent = 'Selected';
        copyStatus.textContent = 'The clipboard is not available; the commands are selected, press Ctrl+C to copy.';
      });
      window.setTimeout(function () {
        button.textContent = 'Copy';
      }, 2000);
    });
  });

  form.addEventListener('change', apply);
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
  });
  form.hidden = false;
  apply();
  reveal(hashID());
})();

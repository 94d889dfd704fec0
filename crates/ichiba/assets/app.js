// ichiba — progressive enhancement only: every form works without this file.
// Live updates (SSE), template insertion, the delivery confirmation, upload progress,
// the purchase total, the payout fee preview and the bank/branch name lookup.
(function () {
  'use strict';

  function $(sel, root) { return (root || document).querySelector(sel); }

  // --- live regions: [data-live-src] is re-fetched when an event it listens to arrives.
  function refresh(region) {
    var src = region.getAttribute('data-live-src');
    // Keep what the user is typing inside the region.
    var typed = {};
    region.querySelectorAll('textarea, input[type=text], input[type=date]').forEach(function (el) {
      if (el.id && el.value) typed[el.id] = el.value;
    });
    var focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : null;
    return fetch(src, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        region.innerHTML = html;
        Object.keys(typed).forEach(function (id) {
          var el = document.getElementById(id);
          if (el) el.value = typed[id];
        });
        if (focused) { var f = document.getElementById(focused); if (f) f.focus(); }
      })
      .catch(function () {});
  }

  function startLive() {
    if (!document.body.hasAttribute('data-live') || !window.EventSource) return;
    var regions = Array.prototype.slice.call(document.querySelectorAll('[data-live-src]'));
    var source = new EventSource('/events');
    function on(kind) {
      source.addEventListener(kind, function () {
        regions.forEach(function (r) {
          var kinds = (r.getAttribute('data-live-on') || '').split(' ');
          if (kinds.indexOf(kind) >= 0) refresh(r);
        });
        if (kind === 'notification') {
          var bell = document.getElementById('bell-count');
          if (bell) {
            bell.textContent = String((parseInt(bell.textContent, 10) || 0) + 1);
            bell.classList.remove('hidden');
          }
        }
      });
    }
    on('message'); on('order'); on('notification');
    // The server could not replay what this page missed (it was away too long, or fell
    // behind): refetch every live region.
    source.addEventListener('resync', function () { regions.forEach(refresh); });
    source.addEventListener('ready', function () { document.body.setAttribute('data-live-ready', '1'); });
  }

  // --- talk room composer
  function composer() {
    var tplForm = $('#template-form');
    var body = $('#body');
    if (tplForm && body) {
      tplForm.addEventListener('submit', function (e) {
        var sel = $('#template', tplForm);
        var opt = sel && sel.options[sel.selectedIndex];
        if (!opt) return;
        e.preventDefault();
        var text = opt.getAttribute('data-body') || '';
        var start = body.selectionStart || 0, end = body.selectionEnd || 0;
        body.value = body.value.slice(0, start) + text + body.value.slice(end);
        body.focus();
      });
    }
    var form = $('#composer-form');
    if (!form) return;
    form.addEventListener('submit', function (e) {
      var deliver = $('#deliver', form);
      if (deliver && deliver.checked &&
          !window.confirm('正式な納品として送信します。購入者が承諾すると取引が完了します。よろしいですか？')) {
        e.preventDefault();
        return;
      }
      var file = $('#file', form);
      var bar = $('#upload-progress', form);
      if (!file || !file.files.length || !bar || !window.XMLHttpRequest) return;
      // With a file: send it ourselves to show the progress, then show the page the server answers.
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      bar.hidden = false;
      xhr.upload.addEventListener('progress', function (ev) {
        if (ev.lengthComputable) bar.value = Math.round(ev.loaded * 100 / ev.total);
      });
      xhr.addEventListener('load', function () {
        if (xhr.status < 400 && xhr.responseURL) {
          window.location.href = xhr.responseURL;
        } else {
          document.open(); document.write(xhr.responseText); document.close();
        }
      });
      xhr.addEventListener('error', function () { bar.hidden = true; form.submit(); });
      xhr.send(new FormData(form));
    });
  }

  function debounce(fn, ms) {
    var t; return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  // --- purchase total (the server computes it with the same policy as the purchase)
  function purchase() {
    var form = $('#purchase-form');
    if (!form) return;
    var update = debounce(function () {
      var params = new URLSearchParams();
      form.querySelectorAll('input[name=option]:checked').forEach(function (o) { params.append('option', o.value); });
      params.append('points', ($('#points', form) || {}).value || '0');
      fetch(form.getAttribute('data-quote') + '?' + params.toString(), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (q) {
          if (!q) return;
          $('#subtotal').textContent = q.subtotal; $('#fee').textContent = q.fee;
          $('#total').textContent = q.total; $('#points-used').textContent = q.points; $('#pay').textContent = q.pay;
        }).catch(function () {});
    }, 200);
    form.addEventListener('change', update);
    form.addEventListener('input', update);
  }

  // --- payout fee preview
  function payout() {
    var form = $('#payout-form');
    if (!form) return;
    var input = $('#amount_yen', form), out = $('#fee-preview');
    input.addEventListener('input', debounce(function () {
      fetch(form.getAttribute('data-quote') + '?amount=' + encodeURIComponent(input.value.replace(/[,円\s]/g, '')), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j) out.textContent = j.preview; })
        .catch(function () {});
    }, 200));
  }

  // --- bank and branch names as the codes are typed
  function bank() {
    var form = $('#bank-form');
    if (!form) return;
    var bankCode = $('#bank_code', form), branchCode = $('#branch_code', form);
    var update = debounce(function () {
      var q = '?bank_code=' + encodeURIComponent(bankCode.value) + '&branch_code=' + encodeURIComponent(branchCode.value);
      fetch(form.getAttribute('data-lookup') + q, { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j) return;
          $('#bank-name').textContent = j.bank_name || (bankCode.value.length === 4 ? '該当する金融機関が見つかりません' : '');
          $('#branch-name').textContent = j.branch_name || (branchCode.value.length === 3 && j.bank_name ? '該当する支店が見つかりません' : '');
        }).catch(function () {});
    }, 150);
    bankCode.addEventListener('input', update);
    branchCode.addEventListener('input', update);
  }

  document.addEventListener('DOMContentLoaded', function () {
    startLive(); composer(); purchase(); payout(); bank();
  });
})();

/* live.js: the generic live socket of every page (htmx + its ws extension). No domain here:
 * each domain's page script (rooms.js, boards.js, …) adds what its page needs.
 *
 * - Resume: an element with ws-connect also carries data-channel, data-seq and data-epoch.
 *   Every persisted event's fragment carries data-event-seq on its first element; the page
 *   keeps the last one, and every (re)connect asks for `since` that seq in that epoch, so
 *   nothing is missed or shown twice. A reset (too far behind, another epoch) reloads the page.
 * - Reconnect: with backoff, also after closes the extension would treat as final (1001
 *   server restart, 4008 slow reader).
 * - Sends: every ws-send form sends with a key (the same key on a retry, so the server does
 *   it once). The form is cleared at once and its text kept until the server answers; a
 *   refusal puts it back. While disconnected the form itself says so, and sends on return.
 * - Per-viewer controls: elements with data-author-id get `can-manage` when they are the
 *   viewer's own or the viewer moderates (fragments are the same for every viewer).
 * Pages hook in through DOM events: `collab:fragment` (before a fragment is applied; call
 * preventDefault to drop it) and the usual htmx events.
 */
(function () {
  'use strict';

  // The ws extension retries only 1006/1011/1012/1013 itself. 1000 (normal) and 1008
  // (refused) are final; anything else (1001 restart, 4008 slow reader) is retried here.
  var EXTENSION_RETRIES = [1006, 1011, 1012, 1013];
  var FINAL_CODES = [1000, 1008];
  var MAX_DELAY_MS = 15000;   // the extension's default backoff grows to 64 s; a page should not
  var RESEND_AFTER_MS = 4000; // a send not answered this long after a reconnect is sent again

  document.documentElement.classList.add('js');
  var body = document.body;
  var userId = body.getAttribute('data-user-id') || '';
  var moderator = body.getAttribute('data-moderator') === 'true';

  function markManageable(root) {
    if (!userId || !root.querySelectorAll) return;
    var list = Array.prototype.slice.call(root.querySelectorAll('[data-author-id]'));
    if (root.matches && root.matches('[data-author-id]')) list.push(root);
    list.forEach(function (el) {
      var own = el.getAttribute('data-author-id') === userId;
      el.classList.toggle('can-manage', own || moderator);
      el.classList.toggle('is-own', own);
    });
  }

  // -- which socket is whose -----------------------------------------------------------------
  function socketElementFor(url) {
    var channel;
    try { channel = new URL(url, location.href).searchParams.get('channel'); } catch (e) { return null; }
    if (!channel) return null;
    var found = null;
    document.querySelectorAll('[ws-connect][data-channel]').forEach(function (el) {
      if (el.getAttribute('data-channel') === channel) found = el;
    });
    return found;
  }

  function lastSeq(el) {
    var n = parseInt(el.getAttribute('data-seq') || '', 10);
    return isNaN(n) ? null : n;
  }

  // The extension builds each (re)connection through htmx.createWebSocket(url) with the URL it
  // read once from ws-connect; rewriting `since` and `epoch` here is what makes a reconnect resume.
  function installSocketFactory() {
    htmx.createWebSocket = function (url) {
      var el = socketElementFor(url);
      if (el) {
        var u = new URL(url, location.href);
        var seq = lastSeq(el);
        if (seq !== null) u.searchParams.set('since', String(seq));
        var epoch = el.getAttribute('data-epoch');
        if (epoch) u.searchParams.set('epoch', epoch);
        url = u.toString();
      }
      var sock = new WebSocket(url, []);
      sock.binaryType = htmx.config.wsBinaryType;
      return sock;
    };
    htmx.config.wsReconnectDelay = function (retries) {
      return Math.random() * Math.min(MAX_DELAY_MS, 500 * Math.pow(2, retries));
    };
  }

  // -- incoming fragments --------------------------------------------------------------------
  function parse(html) {
    var t = document.createElement('template');
    t.innerHTML = html;
    return t.content;
  }

  function onBeforeMessage(evt) {
    var el = evt.target;
    var top = parse(evt.detail.message).firstElementChild;
    if (!top) return;
    var seqAttr = top.getAttribute('data-event-seq');
    if (seqAttr) {
      var seq = parseInt(seqAttr, 10);
      var seen = lastSeq(el);
      if (seen !== null && seq <= seen) {
        evt.preventDefault();  // already applied: a replay overlapping what the page showed
        return;
      }
      el.setAttribute('data-seq', String(seq));
    }
    // An edit or removal of something this page does not show (an older page of posts):
    // nothing to do, and htmx would log a missing target as an error.
    var swap = top.getAttribute('hx-swap-oob');
    if ((swap === 'true' || swap === 'outerHTML') && top.id && !document.getElementById(top.id)) {
      evt.preventDefault();
      return;
    }
    var custom = new CustomEvent('collab:fragment', {
      bubbles: true, cancelable: true, detail: { top: top, socket: el }
    });
    if (!el.dispatchEvent(custom)) evt.preventDefault();
  }

  function onOobAfterSwap(evt) {
    var el = evt.target;
    if (!el || !el.id) return;
    if (el.id === 'collab-reset') {
      // Too far behind for a replay, or another history: the page's HTML is the state to
      // start from again.
      location.reload();
      return;
    }
    if (el.id === 'ws-ack') settle(el.getAttribute('data-ref'), null);
    if (el.id === 'ws-error' && el.textContent.trim()) {
      settle(el.getAttribute('data-ref'), el.textContent.trim());
    }
    markManageable(el);
  }

  // -- sending with keys ---------------------------------------------------------------------
  var pending = {};  // key -> {form, values, sentAt}

  function newKey() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function formStatus(form, text) {
    var box = form.querySelector('.live-form-status');
    if (!box) {
      box = document.createElement('p');
      box.className = 'live-form-status';
      box.setAttribute('role', 'status');
      form.appendChild(box);
    }
    if (box.textContent !== text) box.textContent = text;
  }

  function socketOpen(form) {
    var holder = form.closest('[ws-connect]');
    var data = holder && holder['htmx-internal-data'];
    var ws = data && data.webSocket && data.webSocket.socket;
    return !!(ws && ws.readyState === 1);
  }

  function onConfigSend(evt) {
    var form = evt.target;
    if (!form.matches || !form.matches('form')) return;
    if (form.getAttribute('data-pending-key')) {
      // A second click while the first is on its way: the first one will do.
      evt.preventDefault();
      return;
    }
    var key = newKey();
    var values = {};
    form.querySelectorAll('textarea[name], input[name]:not([type=hidden])').forEach(function (f) {
      values[f.name] = f.value;
    });
    evt.detail.parameters.key = key;
    form.setAttribute('data-pending-key', key);
    pending[key] = { form: form, values: values, message: null, sentAt: Date.now() };
    if (!socketOpen(form)) {
      formStatus(form, 'Not connected: this will be sent when the connection is back.');
    }
  }

  function onBeforeSend(evt) {
    // Remember the exact message, so a retry after a reconnect sends the same bytes (same key).
    try {
      var msg = JSON.parse(evt.detail.message);
      if (msg && msg.key && pending[msg.key]) pending[msg.key].message = evt.detail.message;
    } catch (e) { /* not ours */ }
  }

  function onAfterSend(evt) {
    var form = evt.target;
    if (!form.matches || !form.matches('form[ws-send]')) return;
    if (!form.hasAttribute('data-keep')) form.reset();
    formStatus(form, 'Sending…');
  }

  function settle(key, error) {
    var entry = key && pending[key];
    if (!entry) return;
    delete pending[key];
    var form = entry.form;
    form.removeAttribute('data-pending-key');
    formStatus(form, '');
    if (error) {
      // Refused (a locked thread, too long…): the text comes back for another try.
      Object.keys(entry.values).forEach(function (name) {
        var field = form.querySelector('[name="' + CSS.escape(name) + '"]');
        if (field && !field.value) field.value = entry.values[name];
      });
    }
    form.dispatchEvent(new CustomEvent('collab:settled', { bubbles: true, detail: { error: error } }));
  }

  function resendPending(el, wrapper) {
    Object.keys(pending).forEach(function (key) {
      var entry = pending[key];
      if (!entry.message || !el.contains(entry.form)) return;
      setTimeout(function () {
        // Still unanswered after the reconnect: the server may never have had it. Sending
        // the same message again is safe: the key makes the server do it once.
        if (pending[key] && wrapper) wrapper.send(entry.message, entry.form);
      }, RESEND_AFTER_MS);
    });
  }

  // -- connection state ----------------------------------------------------------------------
  function setConnection(el, text) {
    el.querySelectorAll('[data-live-status]').forEach(function (status) {
      if (status.textContent !== text) status.textContent = text;
    });
    el.classList.toggle('is-offline', !!text);
    el.querySelectorAll('form[ws-send]').forEach(function (form) {
      if (text) formStatus(form, 'Not connected: what you send now goes when the connection is back.');
      else if (!form.getAttribute('data-pending-key')) formStatus(form, '');
    });
  }

  function onOpen(evt) {
    var el = evt.target;
    var wasOffline = el.classList.contains('is-offline');
    setConnection(el, '');
    if (wasOffline) resendPending(el, evt.detail.socketWrapper);
  }

  function onClose(evt) {
    var el = evt.target;
    var code = evt.detail.event && evt.detail.event.code;
    var ours = EXTENSION_RETRIES.indexOf(code) < 0 && FINAL_CODES.indexOf(code) < 0;
    if (ours && document.body.contains(el)) {
      var wrapper = evt.detail.socketWrapper;
      setTimeout(function () { wrapper.reconnect(); }, htmx.config.wsReconnectDelay(1));
    }
    if (code !== 1000) setConnection(el, 'Reconnecting…');
  }

  // -- wiring --------------------------------------------------------------------------------
  window.collabLive = { markManageable: markManageable, userId: userId, moderator: moderator };
  installSocketFactory();
  markManageable(document);
  body.addEventListener('htmx:wsBeforeMessage', onBeforeMessage);
  body.addEventListener('htmx:oobAfterSwap', onOobAfterSwap);
  body.addEventListener('htmx:wsOpen', onOpen);
  body.addEventListener('htmx:wsClose', onClose);
  body.addEventListener('htmx:wsConfigSend', onConfigSend);
  body.addEventListener('htmx:wsBeforeSend', onBeforeSend);
  body.addEventListener('htmx:wsAfterSend', onAfterSend);
  body.addEventListener('htmx:load', function (evt) { markManageable(evt.target); });
}());

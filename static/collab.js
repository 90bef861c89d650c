/* collab.js: the little the pages need beyond htmx and its ws extension. No framework.
 *
 * - Per-viewer controls: fragments from the socket are the same for everyone, so edit/delete
 *   are shown by comparing a post's data-author-id with <body data-user-id>/data-moderator.
 * - Resume: every persisted event's fragment carries data-event-seq; the page remembers the last
 *   one per socket, and every (re)connect asks for `since` that seq, so nothing is missed or
 *   shown twice. A post that is already on the page is never appended again.
 * - Typing: at most one `typing` send every 3 s; each "… is typing" line goes after 4 s.
 */
(function () {
  'use strict';

  var TYPING_EVERY_MS = 3000;   // the brief: at most one typing event every 3 s per typist
  var TYPING_SHOWN_MS = 4000;   // a little over the send interval, so a steady typist's line stays
  // The ws extension retries only 1006/1011/1012/1013 itself. Other closes that are not final
  // must be retried here, or the page goes quiet for good: 1001 is a server going away (restart,
  // deploy), 4008 the hub closing a slow reader, which must rejoin with `since`. 1000 (normal)
  // and 1008 (refused: not allowed to join, bad frames) are final.
  var EXTENSION_RETRIES = [1006, 1011, 1012, 1013];
  var FINAL_CODES = [1000, 1008];
  var MAX_DELAY_MS = 15000;     // the extension's default backoff grows to 64 s; a page should not

  document.documentElement.classList.add('js');
  var body = document.body;
  var userId = body.getAttribute('data-user-id') || '';
  var moderator = body.getAttribute('data-moderator') === 'true';

  // -- per-viewer controls -------------------------------------------------------------------
  function markManageable(root) {
    if (!userId) return;
    var posts = root.querySelectorAll ? root.querySelectorAll('article.post[data-author-id]') : [];
    var list = Array.prototype.slice.call(posts);
    if (root.matches && root.matches('article.post[data-author-id]')) list.push(root);
    list.forEach(function (post) {
      var own = post.getAttribute('data-author-id') === userId;
      post.classList.toggle('can-manage', own || moderator);
      post.classList.toggle('is-own', own);
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
  // read once from ws-connect; rewriting `since` here is what makes a reconnect resume.
  function installSocketFactory() {
    htmx.createWebSocket = function (url) {
      var el = socketElementFor(url);
      var seq = el ? lastSeq(el) : null;
      if (seq !== null) {
        var u = new URL(url, location.href);
        u.searchParams.set('since', String(seq));
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
    var fragment = parse(evt.detail.message);
    var top = fragment.firstElementChild;
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
    // An edit or delete of a post this page does not show (older than its 50): nothing to do,
    // and htmx would log a missing target as an error.
    var swap = top.getAttribute('hx-swap-oob');
    if ((swap === 'true' || swap === 'outerHTML') && top.id && !document.getElementById(top.id)) {
      evt.preventDefault();
      return;
    }
    // A new post: skip it if the page already has it (it was rendered between the page's read
    // of the channel head and its read of the posts); and its author has stopped typing.
    if (top.id === 'posts') {
      var article = top.querySelector('article[id]');
      if (article) {
        var author = article.getAttribute('data-author-id');
        clearTyping(author);
        if (author === userId) draft = null;  // our reply made it: nothing to give back
        if (document.getElementById(article.id)) evt.preventDefault();
      }
    }
    if (top.id === 'threads') {
      var item = top.querySelector('li[id]');
      if (item && document.getElementById(item.id)) evt.preventDefault();
    }
  }

  var typingTimers = {};

  function clearTyping(authorId) {
    if (!authorId) return;
    var line = document.getElementById('typing-' + authorId);
    if (line) line.remove();
    clearTimeout(typingTimers[authorId]);
  }

  function onOobBeforeSwap(evt) {
    var target = evt.detail.target;
    if (target && target.id === 'typing') {
      var line = evt.detail.fragment.querySelector && evt.detail.fragment.querySelector('[data-user-id]');
      if (!line) return;
      var who = line.getAttribute('data-user-id');
      if (who === userId) { evt.detail.shouldSwap = false; return; }  // not one's own typing
      // The typing event names the username; the presence list has the display name.
      var present = document.querySelector('#presence li[data-user-id="' + CSS.escape(who) + '"]');
      if (present) line.textContent = present.textContent + ' is typing…';
      clearTyping(who);  // one line per member, however often they type
      typingTimers[who] = setTimeout(function () { clearTyping(who); }, TYPING_SHOWN_MS);
    }
  }

  function onOobAfterSwap(evt) {
    var el = evt.target;
    if (!el || !el.id) return;
    if (el.id === 'collab-reset') {
      // Too far behind for a replay: the page's HTML is the state to start from again.
      location.reload();
      return;
    }
    if (el.id === 'thread-locked' || el.id === 'thread-pinned') {
      var thread = document.getElementById('thread');
      if (thread) {
        thread.setAttribute('data-' + el.getAttribute('data-field'), el.getAttribute('data-value'));
      }
    }
    if (el.id === 'ws-error' && el.textContent.trim()) {
      restoreDraft();
    }
    markManageable(el);
  }

  // -- sending -------------------------------------------------------------------------------
  var threadSocket = null;
  var lastTypingSent = 0;
  var draft = null;

  function onOpen(evt) {
    var el = evt.target;
    if (el.id === 'thread') threadSocket = evt.detail.socketWrapper;
    setConnection(el, '');
  }

  function onClose(evt) {
    var el = evt.target;
    var code = evt.detail.event && evt.detail.event.code;
    if (el.id === 'thread') threadSocket = null;
    var ours = EXTENSION_RETRIES.indexOf(code) < 0 && FINAL_CODES.indexOf(code) < 0;
    if (ours && document.body.contains(el)) {
      var wrapper = evt.detail.socketWrapper;
      setTimeout(function () { wrapper.reconnect(); }, htmx.config.wsReconnectDelay(1));
    }
    if (code !== 1000) setConnection(el, 'Reconnecting…');
  }

  function setConnection(el, text) {
    if (el.id !== 'thread') return;
    var status = document.getElementById('connection');
    if (status && status.textContent !== text) status.textContent = text;
  }

  function onAfterSend(evt) {
    var form = evt.target;
    if (!form.matches || !form.matches('.reply-form')) return;
    var area = form.querySelector('textarea[name="body"]');
    var errorBox = document.getElementById('ws-error');
    if (errorBox) errorBox.textContent = '';
    if (area) {
      // Kept until the server answers: a refused reply (locked thread, too long) comes back.
      draft = area.value;
      form.reset();
    }
  }

  function restoreDraft() {
    var area = document.querySelector('.reply-form textarea[name="body"]');
    if (area && draft && !area.value) area.value = draft;
    draft = null;
  }

  function onTyping(evt) {
    var area = evt.target;
    if (!area.matches || !area.matches('.reply-form textarea[name="body"]')) return;
    var now = Date.now();
    if (!threadSocket || now - lastTypingSent < TYPING_EVERY_MS || !area.value) return;
    lastTypingSent = now;
    threadSocket.send(JSON.stringify({ type: 'typing' }));
  }

  // -- wiring --------------------------------------------------------------------------------
  installSocketFactory();
  markManageable(document);
  document.addEventListener('input', onTyping);
  body.addEventListener('htmx:wsBeforeMessage', onBeforeMessage);
  body.addEventListener('htmx:oobBeforeSwap', onOobBeforeSwap);
  body.addEventListener('htmx:oobAfterSwap', onOobAfterSwap);
  body.addEventListener('htmx:wsOpen', onOpen);
  body.addEventListener('htmx:wsClose', onClose);
  body.addEventListener('htmx:wsAfterSend', onAfterSend);
  body.addEventListener('htmx:load', function (evt) { markManageable(evt.target); });
}());

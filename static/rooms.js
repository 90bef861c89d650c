/* rooms.js: the forum's page behaviour on top of live.js (thread and room pages).
 *
 * - A new post or thread that is already on the page (it was rendered between the page's read
 *   of the channel head and its read of the posts) is not appended twice.
 * - Typing: at most one `typing` send every 3 s; each "… is typing" line goes after 4 s, and
 *   goes at once when that member's post arrives.
 * - Lock and pin: #thread's data-locked/-pinned follow the live fragments (CSS shows the
 *   matching controls).
 */
(function () {
  'use strict';

  var TYPING_EVERY_MS = 3000;   // at most one typing event every 3 s per typist
  var TYPING_SHOWN_MS = 4000;   // a little over the send interval, so a steady typist's line stays
  var userId = document.body.getAttribute('data-user-id') || '';
  var typingTimers = {};
  var lastTypingSent = 0;

  function clearTyping(authorId) {
    if (!authorId) return;
    var line = document.getElementById('typing-' + authorId);
    if (line) line.remove();
    clearTimeout(typingTimers[authorId]);
  }

  document.body.addEventListener('collab:fragment', function (evt) {
    var top = evt.detail.top;
    if (top.id === 'posts') {
      var article = top.querySelector('article[id]');
      if (article) {
        clearTyping(article.getAttribute('data-author-id'));
        if (document.getElementById(article.id)) evt.preventDefault();
      }
    }
    if (top.id === 'threads') {
      var item = top.querySelector('li[id]');
      if (item && document.getElementById(item.id)) evt.preventDefault();
    }
  });

  document.body.addEventListener('htmx:oobBeforeSwap', function (evt) {
    var target = evt.detail.target;
    if (!target || target.id !== 'typing') return;
    var line = evt.detail.fragment.querySelector && evt.detail.fragment.querySelector('[data-user-id]');
    if (!line) return;
    var who = line.getAttribute('data-user-id');
    if (who === userId) { evt.detail.shouldSwap = false; return; }  // not one's own typing
    // The typing event names the username; the presence list has the display name.
    var present = document.querySelector('#presence li[data-user-id="' + CSS.escape(who) + '"]');
    if (present) line.textContent = present.textContent + ' is typing…';
    clearTyping(who);  // one line per member, however often they type
    typingTimers[who] = setTimeout(function () { clearTyping(who); }, TYPING_SHOWN_MS);
  });

  // A thread with a new post moves to the top of the room's list (below the pinned ones).
  document.body.addEventListener('htmx:oobAfterSwap', function (evt) {
    var match = evt.target && /^thread-(\d+)-activity$/.exec(evt.target.id || '');
    if (!match) return;
    var item = document.getElementById('thread-' + match[1]);
    var list = document.getElementById('threads');
    if (item && list && item.parentNode === list && list.firstElementChild !== item) {
      list.insertBefore(item, list.firstElementChild);
    }
  });

  document.body.addEventListener('htmx:oobAfterSwap', function (evt) {
    var el = evt.target;
    if (el && (el.id === 'thread-locked' || el.id === 'thread-pinned')) {
      var thread = document.getElementById('thread');
      if (thread) thread.setAttribute('data-' + el.getAttribute('data-field'), el.getAttribute('data-value'));
    }
  });

  // A reply to one post is sent once: the next reply from this form answers the thread.
  document.body.addEventListener('collab:settled', function (evt) {
    var form = evt.target;
    if (evt.detail.error || !form.matches || !form.matches('.reply-form')) return;
    var target = form.querySelector('input[name="reply_to"]');
    if (target) target.remove();
    var note = form.querySelector('.replying-to');
    if (note) note.remove();
  });

  document.addEventListener('input', function (evt) {
    var area = evt.target;
    if (!area.matches || !area.matches('.reply-form textarea[name="body"]')) return;
    var holder = document.getElementById('thread');
    var data = holder && holder['htmx-internal-data'];
    var socket = data && data.webSocket;
    var now = Date.now();
    if (!socket || now - lastTypingSent < TYPING_EVERY_MS || !area.value) return;
    lastTypingSent = now;
    socket.send(JSON.stringify({ type: 'typing' }));
  });
}());

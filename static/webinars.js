/* webinars.js: the live room and host console on top of live.js.
 *
 * - Questions stay sorted live: open ones by votes (most first, then oldest first), then
 *   answered ones; a vote or an answer moves the item (focus is kept).
 * - An item already on the page (written between the page's read of the channel head and of
 *   its rows, then replayed) is not appended twice.
 * - #room's data attributes follow the live notes (slow mode, premoderation) and the viewer's
 *   own mute, so CSS shows the right controls.
 * - With premoderation on, the asker's question shows as pending until the host approves it
 *   (the room hears of it only then); a page reload lists it from the server.
 * - Tabs on a phone: chat, questions, polls (on a laptop chat and questions sit side by side).
 */
(function () {
  'use strict';

  var room = document.getElementById('room');
  if (!room) return;
  var userId = document.body.getAttribute('data-user-id') || '';
  var questions = document.getElementById('questions');
  var sortPending = false;

  // -- sorting ---------------------------------------------------------------------------------
  function rank(li) {
    var state = li.getAttribute('data-state');
    return [state === 'open' ? 0 : 1, -parseInt(li.getAttribute('data-votes') || '0', 10),
      parseInt(li.getAttribute('data-question-id') || '0', 10)];
  }

  function before(a, b) {
    var ra = rank(a);
    var rb = rank(b);
    for (var i = 0; i < ra.length; i++) {
      if (ra[i] !== rb[i]) return ra[i] < rb[i];
    }
    return false;
  }

  function sortQuestions() {
    sortPending = false;
    if (!questions) return;
    var items = Array.prototype.slice.call(questions.children);
    var sorted = items.slice().sort(function (a, b) { return before(a, b) ? -1 : before(b, a) ? 1 : 0; });
    var same = sorted.every(function (li, i) { return li === items[i]; });
    if (same) return;
    var focused = document.activeElement;
    var keep = focused && questions.contains(focused) ? focused : null;
    sorted.forEach(function (li) { questions.appendChild(li); });
    if (keep && document.activeElement !== keep) keep.focus({ preventScroll: true });
  }

  function scheduleSort() {
    if (sortPending) return;
    sortPending = true;
    // Many votes can arrive in one burst: sort once per frame.
    (window.requestAnimationFrame || setTimeout)(sortQuestions);
  }

  // -- fragments ---------------------------------------------------------------------------------
  document.body.addEventListener('collab:fragment', function (evt) {
    var top = evt.detail.top;
    if (['chat-messages', 'questions', 'polls', 'pending'].indexOf(top.id) >= 0) {
      var item = top.querySelector('li[id]');
      if (item && document.getElementById(item.id)) { evt.preventDefault(); return; }
      var muted = top.querySelector('[data-muted-user-id]');
      if (muted && userId && muted.getAttribute('data-muted-user-id') === userId) {
        room.setAttribute('data-muted', 'true');
      }
      if (top.id === 'questions' && item && item.getAttribute('data-author-id') === userId) {
        dropPending(item.querySelector('.question-body'));
      }
    }
  });

  document.body.addEventListener('htmx:oobAfterSwap', function (evt) {
    var el = evt.target;
    if (!el || !el.id) return;
    var match = /^question-(\d+)-(votes|state)$/.exec(el.id);
    if (match) {
      var li = document.getElementById('question-' + match[1]);
      if (li) {
        if (match[2] === 'votes') {
          var votes = el.getAttribute('data-votes');
          li.setAttribute('data-votes', votes);
          var label = li.querySelector('.vote-label');
          if (label) label.textContent = votes === '1' ? 'vote' : 'votes';
        } else {
          li.setAttribute('data-state', el.getAttribute('data-state'));
        }
      }
      scheduleSort();
      return;
    }
    if (el.id === 'questions') { scheduleSort(); return; }
    if (el.id === 'slow-mode') room.setAttribute('data-slow-mode', el.getAttribute('data-seconds') || '0');
    if (el.id === 'premoderation-note') room.setAttribute('data-premoderation', el.getAttribute('data-enabled'));
    var poll = /^poll-(\d+)-state$/.exec(el.id);
    if (poll) {
      var item = document.getElementById('poll-' + poll[1]);
      if (item) item.setAttribute('data-closed', el.getAttribute('data-closed'));
    }
  });

  // -- the viewer's own sends --------------------------------------------------------------------
  var asked = {};  // send key -> question text, while premoderation may hold it

  document.body.addEventListener('htmx:wsConfigSend', function (evt) {
    var form = evt.target;
    if (!form.matches) return;
    if (form.matches('.ask-form')) {
      asked[evt.detail.parameters.key] = evt.detail.parameters.body || '';
      form.setAttribute('data-last-key', evt.detail.parameters.key);
    }
  });

  document.body.addEventListener('collab:settled', function (evt) {
    var form = evt.target;
    var error = evt.detail.error;
    if (form.matches('.upvote-form')) {
      var li = form.closest('.question');
      // Done, or refused because this member had voted already: either way it is theirs.
      if (li && (!error || /already/.test(error))) li.setAttribute('data-voted', 'true');
    }
    if (form.matches('.ask-form')) {
      var key = form.getAttribute('data-last-key');
      var text = asked[key];
      delete asked[key];
      if (!error && text && room.getAttribute('data-premoderation') === 'true'
          && ['host', 'moderator'].indexOf(room.getAttribute('data-role')) < 0) {
        addPending(text);
      }
    }
  });

  function addPending(text) {
    var list = document.getElementById('my-pending');
    if (!list) return;
    var li = document.createElement('li');
    li.className = 'pending-item';
    li.setAttribute('data-body', text);
    li.textContent = text + ' ';
    var badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = 'Pending';
    li.appendChild(badge);
    list.appendChild(li);
  }

  function dropPending(body) {
    if (!body) return;
    var text = body.textContent.trim();
    var list = document.getElementById('my-pending');
    if (!list) return;
    var items = list.querySelectorAll('.pending-item');
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute('data-body').trim() === text) { items[i].remove(); return; }
    }
  }

  // -- tabs on a phone ---------------------------------------------------------------------------
  var tabs = Array.prototype.slice.call(room.querySelectorAll('[role="tab"]'));
  var names = { 'tab-chat': 'chat', 'tab-questions': 'questions', 'tab-polls': 'polls' };

  function select(tab, focus) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
    });
    room.setAttribute('data-tab', names[tab.id]);
    if (focus) tab.focus();
  }

  tabs.forEach(function (tab, i) {
    tab.tabIndex = tab.getAttribute('aria-selected') === 'true' ? 0 : -1;
    tab.addEventListener('click', function () { select(tab, false); });
    tab.addEventListener('keydown', function (evt) {
      var next = evt.key === 'ArrowRight' ? 1 : evt.key === 'ArrowLeft' ? -1 : 0;
      if (!next) return;
      evt.preventDefault();
      select(tabs[(i + next + tabs.length) % tabs.length], true);
    });
  });
  if (location.hash === '#questions' && tabs[1]) select(tabs[1], false);

  // -- the presenter's screen --------------------------------------------------------------------
  var full = room.querySelector('[data-fullscreen]');
  if (full && room.requestFullscreen) {
    full.addEventListener('click', function () { room.requestFullscreen(); });
  } else if (full) {
    full.hidden = true;
  }

  sortQuestions();
}());

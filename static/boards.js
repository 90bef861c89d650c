/* boards.js: the board and card pages on top of live.js.
 *
 * - Every board:ID event arrives as one fragment (#board-inbox, see _event_oob.html); this
 *   script applies it and drops htmx's own swap. Cards and columns are placed by their rank
 *   (the order the server keeps), so every open board shows the same order whatever order
 *   things were drawn in; counts and the progress figure are recomputed after each change.
 * - Drag and drop (SortableJS): dropping a card fills in its "move to…" form and submits it,
 *   so a drag goes through the same send (with a key, retried after a reconnect) as the form.
 *   A refused move (someone moved the card first: conflict) puts the card back where the
 *   server says it is.
 * - "Move to…" forms carry a 1-based position for people; it is sent as the 0-based index.
 * - The card page: a change to this card by anyone refreshes the page's view of it; if it
 *   lands while the editor has unsaved edits, a notice says so instead (saving would be refused
 *   as a conflict), with the choice of loading their version or keeping one's own.
 */
(function () {
  'use strict';

  var board = document.getElementById('board');
  var cardPage = document.getElementById('card-page');
  var root = board || cardPage;
  if (!root) return;
  var me = document.body.getAttribute('data-user-id') || '';
  var canWrite = root.getAttribute('data-can-write') === 'true';
  var cardId = cardPage ? cardPage.getAttribute('data-card-id') : null;
  var columnsVersion = 0;  // bumped when columns change: move forms rebuild their choices lazily

  // -- placing by rank -------------------------------------------------------------------------
  function rankOf(el) { return el.getAttribute('data-rank') || ''; }

  // Ranks are ASCII (0-9A-Za-z): JavaScript's string order is the server's byte order.
  function placeByRank(list, el, selector) {
    var rank = rankOf(el);
    var before = null;
    var kids = list.children;
    for (var i = 0; i < kids.length; i++) {
      var kid = kids[i];
      if (kid === el || !kid.matches(selector)) continue;
      if (rankOf(kid) > rank) { before = kid; break; }
    }
    if (el.parentNode !== list || el.nextElementSibling !== before) {
      // Moving a node blurs whatever had focus inside it: a keyboard user who moved a card
      // with its form was left at the top of the page. Focus goes back where it was.
      var focused = el.contains(document.activeElement) ? document.activeElement : null;
      list.insertBefore(el, before);
      if (focused && document.activeElement !== focused) focused.focus({ preventScroll: false });
    }
  }

  function cardList(columnId) { return document.getElementById('cards-' + columnId); }
  function columnsBox() { return document.getElementById('board-columns'); }

  function columnChoices() {
    var out = [];
    document.querySelectorAll('#board-columns > .kb-column').forEach(function (section) {
      var title = section.querySelector('.kb-column-title');
      out.push({ id: section.getAttribute('data-column-id'), title: title ? title.textContent : '' });
    });
    return out;
  }

  // A move form's column choices: built from the board the first time it is used, or again
  // after columns changed (fragments carry none; 1,000 cards need not be rebuilt per change).
  function fillChoices(form) {
    var select = form.querySelector('select[name="column_id"]');
    if (!select || !board) return;
    var seen = select.getAttribute('data-columns-version');
    if (select.options.length && (seen === null ? columnsVersion === 0 : +seen === columnsVersion)) return;
    var card = form.closest('.kb-card');
    var current = card ? card.getAttribute('data-column-id') : select.value;
    select.textContent = '';
    columnChoices().forEach(function (c) {
      var option = document.createElement('option');
      option.value = c.id;
      option.textContent = c.title;
      if (c.id === current) option.selected = true;
      select.appendChild(option);
    });
    select.setAttribute('data-columns-version', String(columnsVersion));
  }

  // -- counts and progress ---------------------------------------------------------------------
  function recount() {
    if (!board) return;
    var sections = document.querySelectorAll('#board-columns > .kb-column');
    var total = 0, done = 0;
    sections.forEach(function (section, i) {
      var n = section.querySelectorAll('.kb-cards > .kb-card').length;
      total += n;
      if (i === sections.length - 1) done = n;
      var count = section.querySelector('.kb-count');
      if (count && count.textContent !== String(n)) {
        count.textContent = String(n);
        count.setAttribute('aria-label', n + ' cards');
      }
    });
    var percent = total ? Math.round(100 * done / total) : 0;
    setText('progress-done', String(done));
    setText('progress-total', String(total));
    setText('progress-percent', String(percent));
    var meter = document.getElementById('progress-meter');
    if (meter) { meter.value = percent; meter.textContent = percent + '%'; }
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function announce(text) {
    var box = document.getElementById('board-announce');
    if (box) box.textContent = text;
  }

  function titleOf(card) {
    var a = card && card.querySelector('.kb-card-title');
    return a ? a.textContent : 'a card';
  }

  function columnTitle(columnId) {
    var h = document.getElementById('column-' + columnId + '-title');
    return h ? h.textContent : '';
  }

  // -- new elements ----------------------------------------------------------------------------
  function prepare(el) {
    if (window.htmx) htmx.process(el);
    el.querySelectorAll('.kb-cards').forEach(makeSortable);
  }

  function arrived(el, actorId) {
    if (actorId === me) return;
    el.classList.remove('is-arrived');
    void el.offsetWidth;  // restart the highlight
    el.classList.add('is-arrived');
  }

  function setVersion(card, version) {
    card.setAttribute('data-version', version);
    card.querySelectorAll('input[name="version"]').forEach(function (input) { input.value = version; });
  }

  // -- applying events -------------------------------------------------------------------------
  function apply(top) {
    var type = top.getAttribute('data-event');
    var id = top.getAttribute('data-id');
    var actorId = top.getAttribute('data-actor-id') || '';
    var actor = top.getAttribute('data-actor') || 'Someone';
    var card, list, section;
    switch (type) {
      case 'card.created':
      case 'card.updated': {
        var fresh = top.querySelector('.kb-card');
        if (!fresh || !board) break;
        card = document.getElementById(fresh.id);
        list = cardList(fresh.getAttribute('data-column-id'));
        if (card) {
          var open = card.querySelector('details[open]');
          card.replaceWith(fresh);
          if (open) { var d = fresh.querySelector('details'); if (d) d.open = true; }
        }
        if (list) placeByRank(list, fresh, '.kb-card');
        prepare(fresh);
        arrived(fresh, actorId);
        if (actorId !== me) announce(actor + (type === 'card.created' ? ' added “' : ' changed “') + titleOf(fresh) + '”');
        break;
      }
      case 'card.moved': {
        card = document.getElementById('card-' + id);
        if (!card) break;
        var to = top.getAttribute('data-column-id');
        card.setAttribute('data-column-id', to);
        card.setAttribute('data-rank', top.getAttribute('data-rank'));
        setVersion(card, top.getAttribute('data-version'));
        var select = card.querySelector('select[name="column_id"]');
        if (select && select.options.length) select.value = to;
        list = cardList(to);
        if (list) placeByRank(list, card, '.kb-card');
        card.classList.remove('is-pending');
        arrived(card, actorId);
        if (actorId !== me) announce(actor + ' moved “' + titleOf(card) + '” to ' + columnTitle(to));
        break;
      }
      case 'card.deleted':
        card = document.getElementById('card-' + id);
        if (card && board) {
          if (actorId !== me) announce(actor + ' deleted “' + titleOf(card) + '”');
          card.remove();
        }
        break;
      case 'card.commented': {
        card = document.getElementById('card-' + top.getAttribute('data-card-id'));
        var n = top.getAttribute('data-comments');
        var badge = card && card.querySelector('.kb-comments');
        if (badge) {
          badge.setAttribute('data-count', n);
          badge.textContent = n + (n === '1' ? ' comment' : ' comments');
        }
        break;
      }
      case 'column.created':
        section = top.querySelector('.kb-column');
        if (!section || !board || document.getElementById(section.id)) break;
        placeByRank(columnsBox(), section, '.kb-column');
        prepare(section);
        columnsVersion++;
        break;
      case 'column.renamed': {
        var title = top.getAttribute('data-title');
        var h = document.getElementById('column-' + id + '-title');
        if (h) h.textContent = title;
        section = document.getElementById('column-' + id);
        if (section) {
          section.querySelectorAll('.kb-column-name').forEach(function (s) { s.textContent = title; });
          var input = section.querySelector('input[name="title"][id^="rename-"]');
          if (input && document.activeElement !== input) input.value = title;
        }
        columnsVersion++;
        break;
      }
      case 'column.moved':
        section = document.getElementById('column-' + id);
        if (section) {
          section.setAttribute('data-rank', top.getAttribute('data-rank'));
          placeByRank(columnsBox(), section, '.kb-column');
        }
        columnsVersion++;
        break;
      case 'column.deleted':
        section = document.getElementById('column-' + id);
        if (section) section.remove();
        columnsVersion++;
        break;
      case 'column.ranked':
        try {
          JSON.parse(top.getAttribute('data-ranks') || '[]').forEach(function (pair) {
            var el = document.getElementById('card-' + pair[0]);
            if (el) el.setAttribute('data-rank', pair[1]);
          });
        } catch (e) { /* a malformed list changes nothing: the order is unchanged anyway */ }
        break;
      case 'project.updated':
        document.querySelectorAll('.kb-project-name').forEach(function (el) {
          el.textContent = top.getAttribute('data-name');
        });
        break;
      case 'board.deleted':
        notice('This project was deleted by ' + actor + '.', false);
        root.setAttribute('data-can-write', 'false');
        break;
    }
    if (cardPage) onCardPageEvent(type, top, actorId, actor);
    recount();
  }

  document.body.addEventListener('collab:fragment', function (evt) {
    var top = evt.detail.top;
    if (!top || top.id !== 'board-inbox') return;
    evt.preventDefault();  // applied here, by rank; htmx would only append it to the inbox
    apply(top);
  });

  // -- sending: positions, drag and drop, refusals ----------------------------------------------
  function indexAmongCards(list, el) {
    var i = 0;
    for (var kid = list.firstElementChild; kid; kid = kid.nextElementSibling) {
      if (kid === el) return i;
      if (kid.matches('.kb-card')) i++;
    }
    return i;
  }

  document.body.addEventListener('htmx:wsConfigSend', function (evt) {
    var form = evt.target;
    var params = evt.detail.parameters;
    if (!form.matches) return;
    if (form.matches('.kb-move-form')) {
      var raw = String(params.position || '').trim();
      delete params.position;
      delete params.back;
      if (raw) {
        params.index = Math.max(0, parseInt(raw, 10) - 1);
        var list = cardList(params.column_id);
        if (list) {  // "position 99" in a column of 5 means the bottom, as the no-JS form does
          var card = document.getElementById('card-' + params.card_id);
          var others = list.querySelectorAll('.kb-card').length - (card && card.parentNode === list ? 1 : 0);
          params.index = Math.min(params.index, others);
        }
      } else {
        var dest = cardList(params.column_id);
        var moving = document.getElementById('card-' + params.card_id);
        params.index = dest ? dest.querySelectorAll('.kb-card').length -
          (moving && moving.parentNode === dest ? 1 : 0) : 0;
      }
    } else if (form.matches('.kb-column-move')) {
      var sections = Array.prototype.slice.call(document.querySelectorAll('#board-columns > .kb-column'));
      var here = sections.indexOf(form.closest('.kb-column'));
      var step = parseInt(form.getAttribute('data-step') || '0', 10);
      params.index = Math.min(Math.max(0, here + step), sections.length - 1);
    }
  });

  document.body.addEventListener('collab:settled', function (evt) {
    var form = evt.target;
    if (!form.matches || !form.matches('.kb-move-form')) return;
    var card = form.closest('.kb-card');
    if (!card) return;
    card.classList.remove('is-pending');
    if (evt.detail.error) {
      // Refused (someone moved or changed it first, or the place is gone): back to where the
      // server last said it is.
      var list = cardList(card.getAttribute('data-column-id'));
      if (list) placeByRank(list, card, '.kb-card');
      recount();
    }
  });

  document.addEventListener('toggle', function (evt) {
    var details = evt.target;
    if (details.matches && details.matches('.kb-move') && details.open) {
      var form = details.querySelector('.kb-move-form');
      if (form) fillChoices(form);
    }
  }, true);

  function makeSortable(list) {
    if (!window.Sortable || !canWrite || list.kbSortable) return;
    list.kbSortable = Sortable.create(list, {
      group: 'cards',
      draggable: '.kb-card',
      animation: 120,
      // Form controls inside a card keep working (typing, choosing, clicking).
      filter: 'input, select, textarea, button, summary, label',
      preventOnFilter: false,
      ghostClass: 'kb-ghost',
      chosenClass: 'kb-chosen',
      onEnd: function (evt) {
        var el = evt.item;
        if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
        var form = el.querySelector('.kb-move-form');
        if (!form) return;
        fillChoices(form);
        form.querySelector('select[name="column_id"]').value = evt.to.getAttribute('data-column-id');
        form.querySelector('input[name="position"]').value = String(indexAmongCards(evt.to, el) + 1);
        el.classList.add('is-pending');
        recount();
        if (form.requestSubmit) form.requestSubmit();
        else form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
        form.querySelector('input[name="position"]').value = '';
      }
    });
  }

  // -- the card page ---------------------------------------------------------------------------
  // A refused save comes back as a page whose form holds the edits not yet saved: they are
  // unsaved from the start, and a change by someone else must not load over them.
  var dirty = !!(cardPage && cardPage.getAttribute('data-unsaved') === 'true');
  var latestVersion = cardPage ? cardPage.getAttribute('data-version') : null;

  function notice(text, keep) {
    var box = document.getElementById('card-notice');
    if (!box) { announce(text); return; }
    document.getElementById('card-notice-text').textContent = text;
    document.getElementById('card-notice-keep').hidden = !keep;
    box.hidden = false;
  }

  function refreshCard() {
    if (!window.htmx) return;
    htmx.ajax('GET', '/cards/' + cardId, { target: '#card-main', select: '#card-main', swap: 'outerHTML' });
  }

  function onCardPageEvent(type, top, actorId, actor) {
    var id = top.getAttribute('data-id');
    if (type === 'card.commented' && top.getAttribute('data-card-id') === cardId) {
      var comment = top.querySelector('.kb-comment');
      var list = document.getElementById('comments');
      if (comment && list && !document.getElementById(comment.id)) list.appendChild(comment);
      return;
    }
    if (id !== cardId || type.indexOf('card.') !== 0) {
      if (type.indexOf('column.') === 0 && !dirty) refreshCard();  // column names and choices
      return;
    }
    if (type === 'card.deleted') {
      cardPage.classList.add('is-deleted');
      notice('This card was deleted by ' + (actorId === me ? 'you' : actor) + '.', false);
      return;
    }
    var version = top.getAttribute('data-version') ||
      (top.querySelector('.kb-card') || top).getAttribute('data-version');
    if (version) latestVersion = version;
    if (dirty) {
      notice((actorId === me ? 'You' : actor) + ' changed this card while you were editing it ' +
             '(it is now version ' + latestVersion + '). Saving now would be refused: load their ' +
             'version, or keep editing yours and save it in place of theirs.', true);
    } else {
      refreshCard();
      if (actorId !== me) announce(actor + ' changed this card');
    }
  }

  if (cardPage) {
    cardPage.addEventListener('input', function (evt) {
      if (evt.target.closest && evt.target.closest('#card-editor')) dirty = true;
    });
    cardPage.addEventListener('submit', function (evt) {
      if (evt.target.id === 'card-editor') dirty = false;
    });
    var keep = document.getElementById('card-notice-keep');
    if (keep) {
      keep.addEventListener('click', function () {
        // Deliberately in place of their version: the save now names the current version.
        cardPage.querySelectorAll('input[name="version"]').forEach(function (input) {
          input.value = latestVersion;
        });
        document.getElementById('card-notice').hidden = true;
      });
    }
    document.body.addEventListener('htmx:afterSwap', function () {
      var v = document.getElementById('card-version');
      if (v) cardPage.setAttribute('data-version', v.textContent);
    });
  }

  // -- start -----------------------------------------------------------------------------------
  if (board) {
    board.querySelectorAll('.kb-cards').forEach(makeSortable);
    // SortableJS is loaded with `defer` before this script; if it failed, forms still work.
  }
}());

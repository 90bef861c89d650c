/* library.js: the library's pages on top of live.js and htmx. Everything works without it.
 *
 * - Live feed: an entry published again (a new revision) moves to the top of "New in the
 *   library" instead of showing twice.
 * - Search as you type: after a facet, filter or page link replaces the results, focus goes to
 *   the result count (announced by screen readers) instead of being lost with the old link.
 * - On a phone the facets fold away (their <details> is served open), so the first result is
 *   in view; a tap on "Narrow the results" unfolds them.
 */
(function () {
  'use strict';

  document.body.addEventListener('collab:fragment', function (evt) {
    var top = evt.detail.top;
    if (!top || top.id !== 'new-entries') return;
    var item = top.querySelector('li[id]');
    var old = item && document.getElementById(item.id);
    if (old) old.remove();
  });

  var narrow = window.matchMedia('(max-width: 47.99rem)');
  function fold(root) {
    if (!narrow.matches) return;
    root.querySelectorAll('details.facets-fold[open]').forEach(function (d) { d.open = false; });
  }
  fold(document);

  document.body.addEventListener('htmx:afterSwap', function (evt) {
    fold(document);
    var config = evt.detail.requestConfig;
    var elt = config && config.elt;
    if (!elt || elt.tagName !== 'A') return;
    var count = document.getElementById('result-count');
    if (count) {
      count.setAttribute('tabindex', '-1');
      count.focus();
    }
  });
}());

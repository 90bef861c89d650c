/* library.js: the library's pages on top of live.js and htmx. Everything works without it.
 *
 * - Live feed: an entry published again (a new revision) moves to the top of "New in the
 *   library" instead of showing twice.
 * - Search as you type: after a facet, filter or page link replaces the results, focus goes to
 *   the result count (announced by screen readers) instead of being lost with the old link.
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

  document.body.addEventListener('htmx:afterSwap', function (evt) {
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

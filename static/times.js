/* times.js: every <time data-local> in the reader's own zone, named ("Thu, 11 Dec 2026, 14:00 CET").
   The server writes these in the member's saved zone (or UTC); here they follow the saved zone,
   else the browser's, including those that arrive live. Without JavaScript the server's words stay. */
(function () {
  "use strict";
  var saved = document.body.dataset.timeZone || undefined;
  var STYLES = {
    datetime: {weekday: "short", day: "numeric", month: "short", year: "numeric",
               hour: "2-digit", minute: "2-digit"},
    relative: {weekday: "short", day: "numeric", month: "short", year: "numeric",
               hour: "2-digit", minute: "2-digit"},
    date: {weekday: "short", day: "numeric", month: "short", year: "numeric"},
    time: {hour: "2-digit", minute: "2-digit"}
  };
  var formats = {};
  function formatter(locale, options) {
    var key = locale + JSON.stringify(options);
    if (!formats[key]) {
      options = Object.assign({hourCycle: "h23"}, options);
      if (saved) { options.timeZone = saved; }
      formats[key] = new Intl.DateTimeFormat(locale, options);
    }
    return formats[key];
  }
  // Each locale knows its own region's abbreviations (en-GB: CET, BST; en-US: EST, PST):
  // the first that is not a bare offset names the zone, else the offset (GMT+9).
  function zoneName(moment) {
    var names = ["en-US", "en-GB"].map(function (locale) {
      var part = formatter(locale, {timeZoneName: "short"}).formatToParts(moment)
        .filter(function (p) { return p.type === "timeZoneName"; })[0];
      return part ? part.value : "";
    });
    return names.filter(function (n) { return n && !/^(GMT|UTC)[+-]/.test(n); })[0] || names[1];
  }
  function format(style) {
    return {format: function (moment) {
      var text = formatter("en-GB", STYLES[style]).format(moment);
      return style === "date" ? text : text + " " + zoneName(moment);
    }};
  }
  // "3 minutes ago", "yesterday", up to a week; older ones read as a date and time.
  var SPANS = [["second", 60], ["minute", 60], ["hour", 24], ["day", 7]];
  var relative = new Intl.RelativeTimeFormat("en", {numeric: "auto"});
  function ago(moment) {
    var amount = (moment.getTime() - Date.now()) / 1000;
    if (Math.abs(amount) < 45) { return "just now"; }
    for (var i = 0; i < SPANS.length; i++) {
      var unit = SPANS[i][0];
      var size = SPANS[i][1];
      if (Math.abs(amount) < size) { return relative.format(Math.round(amount), unit); }
      amount /= size;
    }
    return null;
  }
  function show(el) {
    var style = el.getAttribute("data-local");
    var moment = new Date(el.getAttribute("datetime"));
    if (!STYLES[style] || isNaN(moment.getTime())) { return; }
    try {
      var exact = format(style === "relative" ? "datetime" : style).format(moment);
      var near = style === "relative" ? ago(moment) : null;
      el.textContent = near || exact;
      if (near) { el.setAttribute("title", exact); } else { el.removeAttribute("title"); }
      el.setAttribute("data-local-shown", "");
    } catch (e) { /* an unknown saved zone: the server's words stay */ }
  }
  function scan(root) {
    if (root.matches && root.matches("time[data-local]")) { show(root); }
    root.querySelectorAll("time[data-local]:not([data-local-shown])").forEach(show);
  }
  scan(document);
  // Relative times move on: once a minute is enough for "minutes ago".
  setInterval(function () {
    document.querySelectorAll('time[data-local="relative"]').forEach(show);
  }, 60000);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) { if (node.nodeType === 1) { scan(node); } });
    });
  }).observe(document.body, {childList: true, subtree: true});
})();

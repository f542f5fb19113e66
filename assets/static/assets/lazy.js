/*
 * assets/lazy.js: the loader behind {% lazy_css %} and {% lazy_js %}.
 *
 * A real static file (hashed, cached for a year, allowed by a strict CSP
 * through its nonce or 'self'), so pages need no inline script or handler.
 *
 * 1. <link rel="stylesheet" media="print" data-assets-lazy>: switched to
 *    media="all" once loaded, so the sheet never blocks the first render.
 * 2. data-assets-scripts on this <script>: a JSON list of scripts injected in
 *    order, once, on the first pointerdown, keydown, touchstart or scroll, or
 *    after data-assets-timeout milliseconds, whichever comes first. Injected
 *    scripts get this script's nonce, so they run under 'strict-dynamic' or a
 *    nonce-only policy too.
 */
(function () {
  "use strict";

  var me = document.currentScript;
  var nonce = me ? me.nonce || me.getAttribute("nonce") || "" : "";

  function apply(link) {
    link.removeAttribute("data-assets-lazy");
    link.media = "all";
  }

  function sheets() {
    var links = document.querySelectorAll("link[data-assets-lazy]");
    for (var i = 0; i < links.length; i++) {
      var link = links[i];
      if (link.sheet) {
        apply(link);
      } else {
        link.addEventListener("load", apply.bind(null, link), { once: true });
      }
    }
  }

  var EVENTS = ["pointerdown", "keydown", "touchstart", "scroll"];

  function scripts() {
    var raw = me && me.getAttribute("data-assets-scripts");
    if (!raw) return;
    var list = JSON.parse(raw);
    var timeout = parseInt(me.getAttribute("data-assets-timeout"), 10);
    var done = false;
    var timer = 0;

    function load() {
      if (done) return;
      done = true;
      window.clearTimeout(timer);
      EVENTS.forEach(function (name) {
        window.removeEventListener(name, load, { capture: true, passive: true });
      });
      list.forEach(function (entry) {
        var script = document.createElement("script");
        // Dynamic scripts are async by default; this keeps them in order.
        script.async = false;
        if (entry.integrity) script.integrity = entry.integrity;
        if (entry.crossorigin) script.crossOrigin = entry.crossorigin;
        if (nonce) script.nonce = nonce;
        script.src = entry.src;
        document.head.appendChild(script);
      });
    }

    EVENTS.forEach(function (name) {
      window.addEventListener(name, load, { capture: true, passive: true });
    });
    timer = window.setTimeout(load, isNaN(timeout) ? 3000 : timeout);
  }

  sheets();
  scripts();
})();

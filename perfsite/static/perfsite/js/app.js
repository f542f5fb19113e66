/*
 * perfsite — app.js
 *
 * Core progressive enhancements, no dependencies:
 *   1. marks <html> with .js-enabled so CSS can tell scripts have run;
 *   2. a light/dark theme toggle, remembered in localStorage;
 *   3. an estimated reading time on article pages ([data-reading-time]);
 *   4. relative dates ("3 days ago") for <time datetime> elements.
 *
 * Loaded with `defer`, so the document is parsed when this runs. Every
 * feature looks its elements up first and quietly does nothing when they are
 * missing. No inline scripts or styles: the site runs under a strict CSP.
 */
(function () {
  "use strict";

  const root = document.documentElement;
  root.classList.add("js-enabled");

  /* 1. Theme toggle ------------------------------------------------------- */

  const THEME_KEY = "perfsite:theme";
  const THEMES = ["light", "dark"];
  const SVG_NS = "http://www.w3.org/2000/svg";
  const darkQuery = window.matchMedia
    ? window.matchMedia("(prefers-color-scheme: dark)")
    : null;

  // localStorage throws in some private modes and when cookies are blocked.
  function storedTheme() {
    try {
      const value = window.localStorage.getItem(THEME_KEY);
      return THEMES.includes(value) ? value : null;
    } catch (error) {
      return null;
    }
  }

  function storeTheme(theme) {
    try {
      window.localStorage.setItem(THEME_KEY, theme);
    } catch (error) {
      /* Not remembered; the choice still holds for this page. */
    }
  }

  function systemTheme() {
    return darkQuery && darkQuery.matches ? "dark" : "light";
  }

  function currentTheme() {
    const explicit = root.getAttribute("data-theme");
    return THEMES.includes(explicit) ? explicit : systemTheme();
  }

  // Builds one icon as real DOM nodes (no innerHTML, friendly to Trusted Types).
  function icon(name, shapes) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "theme-toggle__icon theme-toggle__icon--" + name);
    shapes.forEach(function (shape) {
      const node = document.createElementNS(SVG_NS, shape[0]);
      Object.keys(shape[1]).forEach(function (attr) {
        node.setAttribute(attr, shape[1][attr]);
      });
      svg.appendChild(node);
    });
    return svg;
  }

  let toggle = null;

  function syncToggle() {
    if (!toggle) return;
    const theme = currentTheme();
    const next = theme === "dark" ? "light" : "dark";
    toggle.setAttribute("data-current", theme);
    toggle.setAttribute("aria-label", "Switch to " + next + " theme");
    toggle.title = "Switch to " + next + " theme";
  }

  function applyTheme(theme, remember) {
    root.setAttribute("data-theme", theme);
    if (remember) storeTheme(theme);
    syncToggle();
  }

  function setUpThemeToggle() {
    // A choice made earlier wins over the system preference.
    const saved = storedTheme();
    if (saved) root.setAttribute("data-theme", saved);

    const slot =
      document.querySelector("[data-theme-toggle-slot]") ||
      document.querySelector(".site-header__inner");
    if (!slot) return;

    toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "theme-toggle";
    toggle.appendChild(
      icon("moon", [["path", { d: "M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5z" }]])
    );
    toggle.appendChild(
      icon("sun", [
        ["circle", { cx: "12", cy: "12", r: "4" }],
        ["path", { d: "M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" }],
      ])
    );
    toggle.addEventListener("click", function () {
      applyTheme(currentTheme() === "dark" ? "light" : "dark", true);
    });
    slot.appendChild(toggle);
    syncToggle();

    // Follow the OS while the reader has not chosen; keep tabs in step.
    if (darkQuery && darkQuery.addEventListener) {
      darkQuery.addEventListener("change", function () {
        if (!storedTheme()) syncToggle();
      });
    }
    window.addEventListener("storage", function (event) {
      if (event.key === THEME_KEY && THEMES.includes(event.newValue)) {
        applyTheme(event.newValue, false);
      }
    });
  }

  /* 2. Reading time --------------------------------------------------------- */

  const WORDS_PER_MINUTE = 220;

  function setUpReadingTime() {
    document.querySelectorAll("[data-reading-time]").forEach(function (target) {
      // The attribute names the id of the text to measure; default: the article.
      const sourceId = target.getAttribute("data-reading-time");
      const source =
        (sourceId && document.getElementById(sourceId)) || target.closest("article");
      if (!source) return;
      const words = source.textContent.trim().split(/\s+/).filter(Boolean).length;
      if (!words) return;
      const minutes = Math.max(1, Math.round(words / WORDS_PER_MINUTE));
      target.textContent = minutes + " min read";
      target.title = words + " words";
      target.hidden = false;
    });
  }

  /* 3. Relative dates ------------------------------------------------------- */

  const UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
  ];

  const rtf =
    window.Intl && Intl.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat("en", { numeric: "auto" })
      : null;

  function relative(date, now) {
    const seconds = Math.round((date.getTime() - now) / 1000);
    const abs = Math.abs(seconds);
    if (abs < 45) return "just now";
    const unit = UNITS.find(function (u) {
      return abs >= u[1];
    }) || UNITS[UNITS.length - 1];
    const value = Math.round(seconds / unit[1]);
    if (rtf) return rtf.format(value, unit[0]);
    const n = Math.abs(value);
    const label = n + " " + unit[0] + (n === 1 ? "" : "s");
    return value < 0 ? label + " ago" : "in " + label;
  }

  function setUpRelativeDates() {
    const now = Date.now();
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      const date = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) return;
      if (!el.title) {
        el.title = date.toLocaleString("en", { dateStyle: "long", timeStyle: "short" });
      }
      el.textContent = relative(date, now);
      el.classList.add("is-relative");
    });
  }

  /* Start ------------------------------------------------------------------- */

  function start() {
    setUpThemeToggle();
    setUpReadingTime();
    setUpRelativeDates();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/*
 * perfsite — enhance.js
 *
 * Extras for the popular-posts list, no dependencies:
 *   1. a "Copy link" button on every post card (Clipboard API, with a toast);
 *   2. a filter box that narrows the list as you type.
 * Sets window.perfsiteEnhanced = true once it has run. Safe on pages without
 * post cards or list: it simply finds nothing to enhance.
 */
(function () {
  "use strict";

  /* 1. Toast ----------------------------------------------------------------- */

  const TOAST_MS = 2400;
  let toast = null;
  let toastTimer = 0;

  function showToast(message, isError) {
    if (!toast) {
      toast = document.createElement("div");
      toast.className = "toast";
      toast.setAttribute("role", "status");
      toast.setAttribute("aria-live", "polite");
      document.body.appendChild(toast);
    }
    toast.textContent = message;
    toast.classList.toggle("toast--error", Boolean(isError));
    toast.classList.add("is-visible");
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () {
      toast.classList.remove("is-visible");
    }, TOAST_MS);
  }

  /* 2. Copy link ------------------------------------------------------------- */

  // The Clipboard API needs a secure context; fall back to a hidden textarea.
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand && document.execCommand("copy");
    area.remove();
    if (!copied) throw new Error("copy command refused");
  }

  function addCopyButtons() {
    document.querySelectorAll(".post-card").forEach(function (card) {
      const link = card.querySelector(".post-card__link[href]");
      if (!link || card.querySelector(".copy-link")) return;

      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button--small copy-link";
      button.textContent = "Copy link";
      button.setAttribute("aria-label", "Copy link to \u201c" + link.textContent.trim() + "\u201d");

      button.addEventListener("click", async function () {
        try {
          await copyText(link.href); // .href is already absolute
          showToast("Link copied to clipboard");
          button.textContent = "Copied";
          button.classList.add("is-copied");
          window.setTimeout(function () {
            button.textContent = "Copy link";
            button.classList.remove("is-copied");
          }, TOAST_MS);
        } catch (error) {
          showToast("Could not copy the link", true);
        }
      });

      (card.querySelector(".post-card__footer") || card).appendChild(button);
    });
  }

  /* 3. Filter box ------------------------------------------------------------ */

  // Case- and accent-insensitive: "cafe" finds "Café".
  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  function addFilter() {
    const list = document.querySelector("[data-filter-list]");
    if (!list) return;
    const items = Array.from(list.children).map(function (item) {
      return { el: item, text: normalise(item.getAttribute("data-filter-text") || item.textContent) };
    });
    if (!items.length) return;

    const box = document.createElement("div");
    box.className = "filter";
    const label = document.createElement("label");
    label.htmlFor = "post-filter";
    label.textContent = "Filter posts";
    const input = document.createElement("input");
    input.type = "search";
    input.id = "post-filter";
    input.className = "filter__input";
    input.placeholder = "Title or author\u2026";
    input.autocomplete = "off";
    input.spellcheck = false;
    const status = document.createElement("p");
    status.className = "filter__status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    box.append(label, input, status);
    list.parentNode.insertBefore(box, list);

    function apply() {
      const query = normalise(input.value);
      let shown = 0;
      items.forEach(function (item) {
        const match = !query || item.text.includes(query);
        item.el.hidden = !match;
        if (match) shown += 1;
      });
      if (!query) status.textContent = "";
      else if (!shown) status.textContent = "No posts match \u201c" + input.value.trim() + "\u201d.";
      else status.textContent = shown + " of " + items.length + " posts shown.";
    }

    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && input.value) {
        input.value = "";
        apply();
      }
    });
  }

  /* Start -------------------------------------------------------------------- */

  function start() {
    addCopyButtons();
    addFilter();
    window.perfsiteEnhanced = true;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// The moderators' queue: keyboard shortcuts and live updates (no inline scripts: CSP).
(function () {
  "use strict";

  function entries() {
    return Array.from(document.querySelectorAll("li.entry[data-item]"));
  }

  let current = -1;

  // A reason the moderator chose instead of the detector's default is kept for the next
  // items of the same kind (this tab only), also when the queue updates live.
  const REASONS_KEY = "hub.moderation.reasons";
  function chosenReasons() {
    try { return JSON.parse(sessionStorage.getItem(REASONS_KEY) || "{}"); } catch (e) { return {}; }
  }
  function applyReasons() {
    const chosen = chosenReasons();
    document.querySelectorAll("form.act-reject select[data-default]").forEach(function (select) {
      const reason = chosen[select.dataset.default];
      if (reason && !select.dataset.touched) { select.value = reason; }
    });
  }
  document.addEventListener("change", function (event) {
    const select = event.target;
    if (select.matches && select.matches("form.act-reject select[data-default]")) {
      const chosen = chosenReasons();
      chosen[select.dataset.default] = select.value;
      select.dataset.touched = "1";
      try { sessionStorage.setItem(REASONS_KEY, JSON.stringify(chosen)); } catch (e) { /* private mode */ }
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    applyReasons();
    new MutationObserver(applyReasons).observe(document.body, { childList: true, subtree: true });
  });

  function select(index) {
    const list = entries();
    if (!list.length) { current = -1; return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (el, i) { el.classList.toggle("selected", i === current); });
    list[current].focus({ preventScroll: false });
    list[current].scrollIntoView({ block: "nearest" });
  }

  // The item the shortcut acts on: the selected row, or the item page itself.
  function scope() {
    const list = entries();
    if (current >= 0 && list[current]) { return list[current]; }
    return document.querySelector(".item-page");
  }

  function submit(selector) {
    const root = scope();
    const form = root && root.querySelector(selector);
    if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
  }

  document.addEventListener("keydown", function (event) {
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) {
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a": submit("form.act-approve"); break;
      case "c": submit("form.act-claim"); break;
      case "r": {
        const root = scope();
        const field = root && root.querySelector("form.act-reject select, form.act-reject textarea");
        if (field) { event.preventDefault(); field.focus(); }
        break;
      }
      case "Enter": {
        const root = scope();
        const link = root && root.querySelector("a.open");
        if (link) { window.location.href = link.href; }
        break;
      }
      default: return;
    }
  });

  // Live updates: a note on the school's queue channel means "something changed"; the page
  // fetches itself again and swaps the list (notes carry ids, never content).
  const queue = document.getElementById("queue");
  if (queue && window.EventSource) {
    let pending = null;
    const refresh = function () {
      pending = null;
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          const doc = new DOMParser().parseFromString(html, "text/html");
          const selectedId = current >= 0 && entries()[current] ? entries()[current].dataset.item : null;
          ["queue-body", "pending-count"].forEach(function (id) {
            const fresh = doc.getElementById(id);
            const old = document.getElementById(id);
            if (fresh && old) { old.replaceWith(fresh); }
          });
          const link = "header nav a[href='/moderation/queue']";
          const freshLink = doc.querySelector(link);
          const oldLink = document.querySelector(link);
          if (freshLink && oldLink) { oldLink.replaceWith(freshLink); }
          current = -1;
          if (selectedId) {
            const again = entries().findIndex(function (el) { return el.dataset.item === selectedId; });
            if (again >= 0) { select(again); }
          }
          queue.dataset.updated = String(Date.now());
        })
        .catch(function () { /* the next note or a reload will catch up */ });
    };
    const source = new EventSource("/live?c=" + encodeURIComponent(queue.dataset.live));
    source.onmessage = function () {
      if (!pending) { pending = setTimeout(refresh, 300); }
    };
  }
})();

// Shared page behaviour: send the CSRF token with every fetch that changes something, and
// fold the header's navigation behind a menu button on a narrow screen.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  window.hubFetch = function (url, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ "X-CSRF-Token": meta ? meta.content : "" }, opts.headers || {});
    return fetch(url, opts);
  };

  // A form with data-confirm asks before it is sent (deleting something).
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    const toggle = document.querySelector("header.top .menu-toggle");
    if (!toggle) return;
    const header = toggle.closest("header");
    toggle.addEventListener("click", function () {
      const open = header.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("open")) {
        header.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  });
})();

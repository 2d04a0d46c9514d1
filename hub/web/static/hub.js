// Shared page behaviour: send the CSRF token with every fetch that changes something.
(function () {
  "use strict";
  const meta = document.querySelector('meta[name="csrf-token"]');
  window.hubFetch = function (url, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = Object.assign({ "X-CSRF-Token": meta ? meta.content : "" }, opts.headers || {});
    return fetch(url, opts);
  };
})();

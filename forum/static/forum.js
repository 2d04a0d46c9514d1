// Live pages: listen for notes (ids only) and fetch what changed through the normal views.
(function () {
  "use strict";

  function listen(channel, onNote) {
    if (!window.EventSource) { return; }
    const source = new EventSource("/live?c=" + encodeURIComponent(channel));
    source.onmessage = function (event) {
      let note;
      try { note = JSON.parse(event.data); } catch (e) { return; }
      onNote(note);
    };
  }

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  const posts = document.getElementById("posts");
  if (posts) {
    const topic = posts.dataset.topic;
    listen(posts.dataset.live, function (note) {
      const id = note.post || note.edited;
      if (!id) { return; }
      fetch("/forum/topics/" + topic + "/posts?post=" + encodeURIComponent(id),
            { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) {
          const existing = document.getElementById("post-" + id);
          const content = fragment(html);
          const fresh = content.querySelector("article[data-post-id]");
          if (existing) {
            if (fresh) { existing.replaceWith(fresh); } else { existing.remove(); }
          } else if (fresh && posts.dataset.append) {
            posts.appendChild(fresh);
          }
        });
    });
  }

  const board = document.getElementById("board-list");
  if (board) {
    listen(board.dataset.live, function () {
      fetch(board.dataset.fragment, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { board.innerHTML = html; } });
    });
  }
})();

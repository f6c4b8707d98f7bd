// Live sync progress on /drive/: polls the same-origin JSON endpoint named in the section's
// data-progress-url and writes each value into the element with the matching data-field.
// Without JavaScript the page shows the same numbers as of its last load.
(function () {
  "use strict";
  var section = document.getElementById("sync-progress");
  if (!section || !window.fetch) {
    return;
  }
  var url = section.getAttribute("data-progress-url");
  var ACTIVE_MS = 2000;
  var IDLE_MS = 15000;

  function render(data) {
    var fields = section.querySelectorAll("[data-field]");
    for (var i = 0; i < fields.length; i++) {
      var name = fields[i].getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(data, name)) {
        fields[i].textContent = data[name] === null ? "" : String(data[name]);
      }
    }
    var bar = section.querySelector("progress[data-bar]");
    if (bar) {
      bar.max = Math.max(data.found, 1);
      bar.value = data.done;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.connected) {
          render(data);
        }
        window.setTimeout(poll, data && data.active ? ACTIVE_MS : IDLE_MS);
      })
      .catch(function () { window.setTimeout(poll, IDLE_MS); });
  }

  window.setTimeout(poll, ACTIVE_MS);
})();

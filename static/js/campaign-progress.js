// The letters' progress bar: polls the campaign's progress endpoint (counts only) and reloads the
// page when the letters are ready. A static file, so the strict Content-Security-Policy holds.
(function () {
  "use strict";
  var box = document.getElementById("progress-box");
  if (!box) { return; }
  var bar = document.getElementById("letter-progress");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        bar.max = data.total;
        bar.value = data.done;
        bar.textContent = data.percent + "%";
        text.textContent = box.dataset.text
          .replace("__done__", data.done).replace("__total__", data.total);
        if (data.state !== "generating") { window.location.assign(box.dataset.doneUrl); return; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();

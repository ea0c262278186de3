/* The live progress bar of a purge (retention/progress.html, U-3). Polls the
   run's JSON status once a second and updates the bar and its text; stops when
   the run has finished or stalled, or when the session no longer answers with
   JSON (locked or logged out). Without this script the page still works: a
   plain link reloads it. Texts come translated from the server. */
(function () {
  "use strict";
  var bar = document.getElementById("run-progress");
  if (!bar || !window.fetch) {
    return;
  }
  var url = bar.getAttribute("data-status-url");
  var text = document.getElementById("run-progress-text");
  var status = document.getElementById("run-status");
  var finished = document.getElementById("run-finished");
  var stalled = document.getElementById("run-stalled");
  var reload = document.getElementById("run-reload");
  var failures = 0;

  function show(data) {
    bar.max = data.total > 0 ? data.total : 1;
    bar.value = data.total > 0 ? data.done : (data.finished ? 1 : 0);
    bar.textContent = data.percent + "%";
    text.textContent = data.text;
    status.textContent = data.label;
    finished.hidden = !data.finished;
    reload.hidden = data.finished;
    stalled.hidden = !data.stalled;
    bar.setAttribute("data-polled", data.finished ? "finished" : "running");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.redirected || !response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        show(data);
        if (!data.finished && !data.stalled) {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        failures += 1;
        if (failures < 5) {
          window.setTimeout(poll, 3000);
        }
      });
  }

  poll();
})();

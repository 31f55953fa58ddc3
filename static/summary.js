// The trainer's landing: fetch the assignment's summary (its numbers come from the platform's
// roster) once the page is shown; without it, the buttons below still lead to the roster.
(function () {
  "use strict";
  var slot = document.querySelector("[data-summary-url]");
  if (!slot) return;
  fetch(slot.dataset.summaryUrl, {credentials: "omit", headers: {"Accept": "text/html"}})
    .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
    .then(function (html) { slot.innerHTML = html; })
    .catch(function () {
      var loading = slot.querySelector("[data-summary-loading]");
      if (loading) loading.hidden = true;
    });
})();

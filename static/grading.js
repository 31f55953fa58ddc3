// Grading: save a grade (then optionally go to the next learner), send a failed grade again.
(function () {
  "use strict";
  var T = (document.getElementById("grading-i18n") || {dataset: {}}).dataset;
  var P = (document.getElementById("policy-i18n") || {dataset: {}}).dataset;

  function send(method, url, body) {
    return fetch(url, {method: method, headers: {"Content-Type": "application/json", "Accept": "application/json"},
                       body: JSON.stringify(body || {}), credentials: "omit"})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); });
  }

  var form = document.getElementById("grade-form");
  if (form) form.addEventListener("submit", function (event) {
    event.preventDefault();
    var then = event.submitter && event.submitter.dataset.then;
    var status = form.querySelector("[data-status]");
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    var score = form.score.value === "" ? null : Number(form.score.value);
    send("POST", form.dataset.url, {score: score, comment: form.comment.value,
                                    from_ai_draft: form.from_ai_draft.value === "true"}).then(function (res) {
      if (!res.ok) {
        status.textContent = res.data.error.message; status.classList.add("error");
        var fields = res.data.error.fields || {};
        Object.keys(fields).forEach(function (name) {
          var slot = form.querySelector('[data-error-for="' + name + '"]');
          if (slot) slot.textContent = fields[name];
        });
        return;
      }
      status.classList.remove("error"); status.textContent = T.saved;
      // The gradebook line of the new grade replaces the old one ("waits for grading"): HTML the
      // server rendered from its own template (escaped there), not text from anyone.
      var sendState = form.querySelector("[data-send-state]");
      if (sendState && typeof res.data.send_state === "string") sendState.innerHTML = res.data.send_state;
      if (then === "next" && res.data.next_url) window.location.assign(res.data.next_url);
    }).catch(function () { status.textContent = P.failed; status.classList.add("error"); });
  });

  var draft = document.querySelector('[data-testid="ai-draft"]');
  if (draft && form) draft.addEventListener("click", function () {
    var status = form.querySelector("[data-status]");
    draft.disabled = true; status.textContent = T.drafting; status.classList.remove("error");
    send("POST", draft.dataset.url).then(function (res) {
      draft.disabled = false;
      if (!res.ok) { status.textContent = res.data.error.message; status.classList.add("error"); return; }
      status.textContent = "";
      form.comment.value = res.data.text;
      form.from_ai_draft.value = "true";
      form.querySelector('[data-testid="ai-draft-label"]').hidden = false;
      form.comment.focus();
    }).catch(function () { draft.disabled = false; status.textContent = P.failed; status.classList.add("error"); });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-retry-url]");
    if (!button) return;
    button.disabled = true;
    send("POST", button.dataset.retryUrl).then(function (res) {
      if (res.ok) window.location.reload(); else { button.disabled = false; button.textContent = res.data.error.message; }
    });
  });
})();

// Activity page: autosave of drafts, "done", sections read, quizzes and the mentoring wheel.
// Everything talks to the tool's JSON endpoints; the launch token is in their URLs (no cookies).
(function () {
  "use strict";
  // Messages come translated from the page (Flask-Babel catalogues), not from this file.
  var T = (document.getElementById("activity-i18n") || {dataset: {}}).dataset;

  // Resolves with {ok, status, retryAfter, data}; an answer that is not JSON (a proxy's error page)
  // carries the generic message. Rejects on a network error.
  function send(method, url, body) {
    return fetch(url, {method: method, headers: {"Content-Type": "application/json", "Accept": "application/json"},
                       body: JSON.stringify(body || {}), credentials: "omit"})
      .then(function (r) {
        var answer = function (data) {
          return {ok: r.ok, status: r.status, retryAfter: Number(r.headers.get("Retry-After")) || 0, data: data};
        };
        return r.json().then(answer, function () { return answer({error: {message: T.failed}}); });
      });
  }

  function setPath(target, path, value) {
    var keys = path.split("."), node = target;
    keys.forEach(function (key, i) {
      var last = i === keys.length - 1, nextIsIndex = !last && /^\d+$/.test(keys[i + 1]);
      var k = /^\d+$/.test(key) ? Number(key) : key;
      if (last) { node[k] = value; return; }
      if (node[k] === undefined) node[k] = nextIsIndex ? [] : {};
      node = node[k];
    });
  }

  function collect(form) {
    var answers = {};
    form.querySelectorAll("[data-field]").forEach(function (el) {
      if (el.type === "radio") {
        if (!el.checked) { if (!hasPath(answers, el.dataset.field)) setPath(answers, el.dataset.field, null); return; }
      }
      var value = el.hasAttribute("data-int") ? Number(el.value) : el.value;
      setPath(answers, el.dataset.field, value);
    });
    ["answers", "entries", "choices"].forEach(function (k) {  // dense arrays for the schemas
      if (Array.isArray(answers[k])) for (var i = 0; i < answers[k].length; i++) if (answers[k][i] === undefined) answers[k][i] = k === "choices" ? {} : "";
    });
    return answers;
  }

  function hasPath(obj, path) {
    return path.split(".").reduce(function (n, k) { return n && n[/^\d+$/.test(k) ? Number(k) : k]; }, obj) !== undefined;
  }

  function status(form, text, isError) {
    var el = form.querySelector("[data-status]");
    if (el) { el.textContent = text; el.classList.toggle("error", !!isError); }
  }

  // The tool or the network is down for a moment (a database restart answers 503 with Retry-After):
  // the draft is sent again, later and later, until it is saved. The text stays in the page.
  var TRY_AGAIN = [0, 429, 502, 503, 504];
  var unsaved = 0;  // forms whose latest text is not saved yet

  function retryDelay(retryAfter, attempt) {
    var backoff = Math.min(60, 2 * Math.pow(2, attempt - 1));  // 2, 4, 8 … 60 s
    return 1000 * Math.min(60, Math.max(retryAfter || 0, backoff)) * (1 + Math.random() / 4);
  }

  // One saving chain per form: a save asked for while one is on its way (the learner typed again)
  // sends the latest text once that one is answered. Resolves with the last answer.
  function save(form) {
    if (form.savingChain) { form.saveAgain = true; return form.savingChain; }
    var attempt = 0;
    unsaved += 1;
    status(form, T.saving);
    form.savingChain = new Promise(function (resolve) {
      function attemptSave() {
        form.saveAgain = false;
        send("PUT", form.dataset.draftUrl, {answers: collect(form)}).then(function (res) {
          if (TRY_AGAIN.indexOf(res.status) !== -1) { later(res.retryAfter); return; }
          if (form.saveAgain) { attemptSave(); return; }  // typed again meanwhile: send the latest text
          finish(res);
        }, function () { later(0); });
      }
      function later(retryAfter) {
        attempt += 1;
        status(form, T.retrying);  // calm: not an error, nothing for the learner to do
        setTimeout(attemptSave, retryDelay(retryAfter, attempt));
      }
      function finish(res) {
        form.savingChain = null;
        unsaved -= 1;
        status(form, res.ok ? (res.data.done ? T.done : T.saved) : res.data.error.message, !res.ok);
        resolve(res);
      }
      attemptSave();
    });
    return form.savingChain;
  }

  window.addEventListener("beforeunload", function (event) {
    if (unsaved > 0) { event.preventDefault(); event.returnValue = ""; }
  });

  document.querySelectorAll("form.exercise-form").forEach(function (form) {
    var timer = null;
    form.addEventListener("input", function (event) {
      var out = event.target.previousElementSibling && event.target.previousElementSibling.querySelector("output");
      if (out) out.textContent = event.target.value;
      if (event.target.type === "range") drawWheel(form);
      if (!form.dataset.draftUrl || event.target.readOnly || event.target.disabled) return;
      clearTimeout(timer);
      timer = setTimeout(function () { save(form); }, 800);
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var done = form.querySelector('[data-action="done"]');
    if (done) done.addEventListener("click", function () {
      clearTimeout(timer);
      save(form).then(function (saved) {
        if (!saved.ok) return null;
        return send("POST", form.dataset.doneUrl);
      }).then(function (res) {
        if (!res) return;
        form.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
        if (res.ok) { status(form, T.done); showExplanations(form, res.data.explanations); return; }
        status(form, res.data.error.message, true);
        var field = res.data.error.hint && form.querySelector('[data-field="' + res.data.error.hint.replace(/\[(\d+)\]/g, ".$1") + '"]');
        if (field) { field.classList.add("invalid"); field.focus(); }
      });
    });
    var wheel = form.querySelector('[data-action="wheel"]');
    if (wheel) wheel.addEventListener("click", function () {
      send("POST", wheel.dataset.url, {ratings: collect(form).ratings}).then(function (res) {
        if (res.ok) { form.querySelector("[data-wheel] svg").outerHTML = res.data.svg; save(form); }
        else status(form, res.data.error.message, true);
      });
    });
  });

  // The wheel's live polygon follows the sliders: the same points as lti_tool/activities/wheel.py.
  function drawWheel(form) {
    var chart = form.querySelector("[data-wheel] svg"), live = chart && chart.querySelector("[data-live]");
    if (!live) return;
    var count = Number(chart.dataset.count), centre = Number(chart.dataset.centre), radius = Number(chart.dataset.radius);
    var points = [];
    form.querySelectorAll('input[type="range"][data-field^="ratings."]').forEach(function (range, i) {
      var angle = -Math.PI / 2 + 2 * Math.PI * i / count, r = radius * Number(range.value) / 10;
      points.push((centre + r * Math.cos(angle)).toFixed(1) + "," + (centre + r * Math.sin(angle)).toFixed(1));
    });
    live.setAttribute("points", points.join(" "));
  }

  // Scenarios: once the choices are marked done, the explanation under each (sent by the tool).
  function showExplanations(form, explanations) {
    if (!explanations) return;
    form.querySelectorAll("fieldset.scenario").forEach(function (fieldset, i) {
      var p = fieldset.querySelector("[data-explanation]");
      if (p && explanations[i]) { p.textContent = explanations[i]; p.hidden = false; }
    });
  }

  document.querySelectorAll('[data-action="read"]').forEach(function (button) {
    button.addEventListener("click", function () {
      send("POST", button.dataset.url).then(function (res) { if (res.ok) button.textContent = T.read; });
    });
  });

  document.querySelectorAll("form.quiz-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answers = [];
      form.querySelectorAll("fieldset[data-question]").forEach(function (fs) {
        var checked = fs.querySelector("input:checked");
        answers.push(checked ? Number(checked.value) : -1);
      });
      var out = form.querySelector(".status");
      if (answers.indexOf(-1) !== -1) { out.textContent = T.answerAll; return; }
      send("POST", form.dataset.quizUrl, {answers: answers}).then(function (res) {
        if (!res.ok) { out.textContent = res.data.error.message; return; }
        out.textContent = T.score + " : " + res.data.score + " / " + res.data.total;
        form.querySelectorAll("fieldset[data-question]").forEach(function (fs, i) {
          var c = res.data.corrections[i], p = fs.querySelector(".explanation");
          p.hidden = false; p.textContent = (c.correct ? "✓ " : "✗ ") + c.explanation;
          fs.classList.toggle("right", c.correct); fs.classList.toggle("wrong", !c.correct);
        });
      });
    });
  });
})();

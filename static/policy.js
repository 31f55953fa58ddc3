// AI policy, checklist and declaration: every form talks JSON to the tool's endpoints; the
// launch token is in their URLs (no cookies). Messages come translated from the page.
(function () {
  "use strict";
  var T = (document.getElementById("policy-i18n") || {dataset: {}}).dataset;

  function send(method, url, body) {
    return fetch(url, {method: method, headers: {"Content-Type": "application/json", "Accept": "application/json"},
                       body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit"})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); });
  }

  // What to say of a refusal: its message, and for a moment's outage (503) that what was typed stays
  // in the form, to send again (these forms are sent by a click, not saved by themselves).
  function refusal(error) {
    return error.code === "database_unavailable" ? error.message + " " + T.keptInForm : error.message;
  }

  function status(root, text, isError) {
    var el = root.querySelector("[data-status]");
    if (el) { el.textContent = text || ""; el.classList.toggle("error", !!isError); }
  }

  function failed(root) { return function () { status(root, T.failed, true); }; }

  // Learner: ticks are saved at once, each with its time.
  var checklist = document.querySelector("[data-ticks-url]");
  if (checklist) checklist.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.dataset.item) return;
    if (box.checked) box.removeAttribute("aria-invalid");
    var ticks = {}; ticks[box.dataset.item] = box.checked;
    send("PUT", checklist.dataset.ticksUrl, {ticks: ticks}).then(function (res) {
      if (!res.ok) { status(checklist, refusal(res.data.error), true); box.checked = !box.checked; return; }
      var time = box.parentNode.querySelector(".tick-time"), at = res.data.ticks_shown[box.dataset.item];
      if (time) time.textContent = at || "";
      status(checklist, T.saved);
    }).catch(failed(checklist));
  });

  // Learner: the declaration, then the receipt.
  var declaration = document.getElementById("declaration-form");
  if (declaration) {
    var toggleAiFields = function () {
      var level = declaration.querySelector('input[name="level_used"]:checked');
      declaration.querySelector(".ai-used").hidden = !!level && level.dataset.rank === "1";
    };
    declaration.addEventListener("change", toggleAiFields);
    declaration.addEventListener("submit", function (event) {
      event.preventDefault();
      var f = declaration, values = function (name) {
        return Array.prototype.map.call(f.querySelectorAll('input[name="' + name + '"]:checked'), function (el) { return el.value; });
      };
      var level = f.querySelector('input[name="level_used"]:checked');
      var noAi = level && level.dataset.rank === "1";
      var body = {declaration: {
        level_used: level ? level.value : "", tools: noAi ? [] : values("tools"),
        tools_other: noAi ? "" : f.tools_other.value, purposes: noAi ? [] : values("purposes"),
        purposes_other: noAi ? "" : f.purposes_other.value, external_prompts: noAi ? "" : f.external_prompts.value,
        verification: noAi ? "" : f.verification.value, own_changes: noAi ? "" : f.own_changes.value,
        justification: f.justification.value, honour: f.honour.checked}};
      clearErrors(f);
      status(f, T.sending);
      send("POST", f.dataset.url, body).then(function (res) {
        if (res.ok) { window.location.assign(res.data.receipt_url); return; }
        status(f, refusal(res.data.error), true);
        showErrors(f, res.data.error.fields || {}, res.data.error.message);
      }).catch(failed(f));
    });
  }

  // The controls a refused field names: the server says `level_used` (or, from the schema,
  // `declaration.level_used`); the checklist's are its required items left unticked.
  function controlsOf(form, name) {
    if (name === "checklist") return Array.prototype.slice.call(document.querySelectorAll("[data-ticks-url] input[data-required]:not(:checked)"));
    if (name === "answers") return Array.prototype.slice.call(document.querySelectorAll(".exercise-form textarea, .exercise-form input")).slice(0, 1);
    return Array.prototype.slice.call(form.querySelectorAll('[name="' + name + '"]'));
  }

  function clearErrors(form) {
    document.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    document.querySelectorAll('[aria-invalid="true"]').forEach(function (el) {
      el.removeAttribute("aria-invalid");
      var ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(function (id) { return id && id.indexOf("error-") !== 0; });
      if (ids.length) el.setAttribute("aria-describedby", ids.join(" ")); else el.removeAttribute("aria-describedby");
    });
    var summary = form.querySelector("[data-error-summary]");
    if (summary) { summary.hidden = true; summary.querySelector("[data-error-list]").textContent = ""; }
  }

  // Each error next to its field (the field marked invalid and described by it), a summary at the
  // top of the form linking to each, and the first field in the page's order focused.
  function showErrors(form, fields, message) {
    var found = [];
    Object.keys(fields).forEach(function (key) {
      var name = key.split(".").pop(), slot = document.getElementById("error-" + name);
      var controls = controlsOf(form, name);
      if (slot) slot.textContent = fields[key];
      controls.forEach(function (el) {
        el.setAttribute("aria-invalid", "true");
        if (slot) el.setAttribute("aria-describedby", ((el.getAttribute("aria-describedby") || "") + " " + slot.id).trim());
      });
      var target = controls[0] || slot;
      if (target) found.push({target: target, text: fields[key]});
    });
    found.sort(function (a, b) { return a.target.compareDocumentPosition(b.target) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1; });
    var summary = form.querySelector("[data-error-summary]");
    if (summary && found.length) {
      var list = summary.querySelector("[data-error-list]");
      found.forEach(function (error) {
        var li = document.createElement("li"), a = document.createElement("a");
        if (!error.target.id) error.target.id = "field-" + Math.random().toString(36).slice(2);
        a.href = "#" + error.target.id; a.textContent = error.text;
        a.addEventListener("click", function (event) { event.preventDefault(); focusField(error.target); });
        li.appendChild(a); list.appendChild(li);
      });
      summary.hidden = false;
    }
    if (found.length) focusField(found[0].target);
    else if (summary) { summary.hidden = false; summary.querySelector("[data-error-list]").textContent = message; summary.focus(); }
  }

  function focusField(el) {
    if (!el.hasAttribute("tabindex") && !/^(INPUT|TEXTAREA|SELECT|BUTTON|A)$/.test(el.tagName)) el.setAttribute("tabindex", "-1");
    el.focus({preventScroll: true});
    el.scrollIntoView({block: "center"});
  }

  // Trainer: the policy of the assignment.
  var policy = document.getElementById("policy-form");
  if (policy) policy.addEventListener("submit", function (event) {
    event.preventDefault();
    var level = policy.querySelector('input[name="level"]:checked');
    send("PUT", policy.dataset.url, {level: level ? level.value : "", note: policy.note.value}).then(function (res) {
      status(policy, res.ok ? T.saved : res.data.error.message, !res.ok);
    }).catch(failed(policy));
  });

  // Trainer (one assignment) and administrator (the centre's default): checklist editors.
  function checklistItems(form) {
    var items = [];
    form.querySelectorAll(".checklist-editor tbody tr").forEach(function (row) {
      var text = row.querySelector('[name="text"]').value.trim(), remove = row.querySelector('[name="remove"]');
      if (!text || (remove && remove.checked)) return;
      items.push({id: row.dataset.id || "", moment: row.querySelector('[name="moment"]').value, text: text,
                  required: row.querySelector('[name="required"]').checked});
    });
    return items;
  }

  var editor = document.getElementById("checklist-form");
  if (editor) {
    editor.addEventListener("submit", function (event) {
      event.preventDefault();
      send("PUT", editor.dataset.url, {items: checklistItems(editor)}).then(function (res) {
        if (res.ok) { window.location.reload(); return; }
        status(editor, res.data.error.message, true);
      }).catch(failed(editor));
    });
    var reset = editor.querySelector('[data-action="reset"]');
    if (reset) reset.addEventListener("click", function () {
      send("DELETE", editor.dataset.resetUrl).then(function (res) {
        if (res.ok) window.location.reload(); else status(editor, res.data.error.message, true);
      }).catch(failed(editor));
    });
  }

  // Administrator: the centre's settings. Choosing the other scale shows what it changes first
  // (the preview the page holds); saving then confirms that change (confirm_scale).
  var centre = document.getElementById("centre-form");
  function shownPreview() {
    var scale = centre.querySelector('input[name="scale"]:checked'), shown = null;
    centre.querySelectorAll("[data-preview-for]").forEach(function (preview) {
      preview.hidden = !scale || preview.dataset.previewFor !== scale.value;
      if (!preview.hidden) shown = preview;
    });
    return shown;
  }
  if (centre) centre.addEventListener("change", function (event) {
    if (event.target.name !== "scale") return;
    var preview = shownPreview();
    if (preview) preview.scrollIntoView({block: "nearest"});
  });
  if (centre) centre.addEventListener("submit", function (event) {
    event.preventDefault();
    var scale = centre.querySelector('input[name="scale"]:checked');
    var maximum = centre.querySelector('[name="score_maximum"]');
    var body = {scale: scale ? scale.value : "", timezone: centre.timezone.value, items: checklistItems(centre),
                score_maximum: maximum && maximum.value !== "" ? Number(maximum.value) : null};
    if (shownPreview()) body.confirm_scale = body.scale;
    send("PUT", centre.dataset.url, body).then(function (res) {
      if (res.ok) { window.location.reload(); return; }
      status(centre, res.data.error.message, true);
    }).catch(failed(centre));
  });
})();

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
    var ticks = {}; ticks[box.dataset.item] = box.checked;
    send("PUT", checklist.dataset.ticksUrl, {ticks: ticks}).then(function (res) {
      if (!res.ok) { status(checklist, res.data.error.message, true); box.checked = !box.checked; return; }
      var time = box.parentNode.querySelector(".tick-time"), at = res.data.ticks[box.dataset.item];
      if (time) time.textContent = at ? at.slice(0, 16).replace("T", " ") : "";
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
      f.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
      status(f, T.sending);
      send("POST", f.dataset.url, body).then(function (res) {
        if (res.ok) { window.location.assign(res.data.receipt_url); return; }
        status(f, res.data.error.message, true);
        var fields = res.data.error.fields || {}, first = null;
        Object.keys(fields).forEach(function (name) {
          var slot = f.querySelector('[data-error-for="' + name.split(".")[0] + '"]');
          if (slot) { slot.textContent = fields[name]; first = first || slot; }
        });
        if (first) first.scrollIntoView({block: "center"});
      }).catch(failed(f));
    });
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
    var body = {scale: scale ? scale.value : "", items: checklistItems(centre),
                score_maximum: maximum && maximum.value !== "" ? Number(maximum.value) : null};
    if (shownPreview()) body.confirm_scale = body.scale;
    send("PUT", centre.dataset.url, body).then(function (res) {
      if (res.ok) { window.location.reload(); return; }
      status(centre, res.data.error.message, true);
    }).catch(failed(centre));
  });
})();

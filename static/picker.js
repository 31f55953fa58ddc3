// The Deep Linking picker: each level's one-line meaning under its list; a warning where an item
// with AI-assistant exercises gets a level at which the assistant is off; a warning (the server
// refuses it too) when a module and one of its own themes or exercises are both ticked.
(function () {
  "use strict";
  var form = document.querySelector(".picker");
  if (!form) return;

  function showLevel(select) {
    var pick = select.closest("[data-pick]"), option = select.options[select.selectedIndex];
    var meaning = pick.querySelector("[data-meaning-of]");
    if (meaning && option) meaning.textContent = option.dataset.meaning;
    var needed = pick.querySelector("[data-ai-needed]");
    if (needed) {
      var ok = Number(option.dataset.rank) >= Number(pick.dataset.needsRank);
      needed.toggleAttribute("data-ok", ok);
      needed.setAttribute("role", ok ? "note" : "alert");
    }
  }

  function overlaps(a, b) {
    return a === b || a.indexOf(b + ".") === 0 || b.indexOf(a + ".") === 0;
  }

  function checkOverlaps() {
    var ticked = Array.prototype.filter.call(form.querySelectorAll('input[name="item"]'), function (box) { return box.checked; });
    var warning = form.querySelector("[data-overlap-warning]"), clash = null;
    ticked.forEach(function (a) {
      ticked.forEach(function (b) { if (!clash && a !== b && overlaps(a.value, b.value)) clash = [a, b]; });
    });
    warning.hidden = !clash;
    warning.textContent = clash ? form.dataset.overlapMessage.replace("{title}",
      clash.map(function (box) { return box.closest("[data-pick]").dataset.title; }).join(form.dataset.listSeparator)) : "";
    return !clash;
  }

  form.addEventListener("change", function (event) {
    if (event.target.tagName === "SELECT") showLevel(event.target);
    if (event.target.name === "item") checkOverlaps();
  });
  form.addEventListener("submit", function (event) {
    if (!checkOverlaps()) { event.preventDefault(); form.querySelector("[data-overlap-warning]").scrollIntoView({block: "center"}); }
  });
  form.querySelectorAll(".pick select").forEach(showLevel);
})();

// The AI assistant's settings: only the chosen provider's fields are shown (and sent). Without
// this script every field shows, and the server ignores those the provider does not use.
(function () {
  "use strict";
  var form = document.querySelector('[data-testid="llm-form"]');
  if (!form) { return; }
  function show() {
    var chosen = form.querySelector('input[name="provider"]:checked');
    var provider = chosen ? chosen.value : "";
    Array.prototype.forEach.call(form.querySelectorAll(".provider-fields"), function (group) {
      var used = !provider || group.dataset.providers.split(" ").indexOf(provider) >= 0;
      group.hidden = !used;
      Array.prototype.forEach.call(group.querySelectorAll("input, select, textarea"), function (control) {
        control.disabled = !used;
      });
    });
  }
  Array.prototype.forEach.call(form.querySelectorAll('input[name="provider"]'), function (radio) {
    radio.addEventListener("change", show);
  });
  show();
}());

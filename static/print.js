// Buttons marked data-action="print" print the page (the print layout drops the buttons).
(function () {
  document.querySelectorAll('[data-action="print"]').forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();

// Text areas that grow with their text (`class="autosize"`), for browsers without CSS
// `field-sizing: content`; `data-single-line` ones keep one paragraph (Enter does not break it).
(function () {
  "use strict";
  var native = window.CSS && CSS.supports && CSS.supports("field-sizing", "content");
  function fit(area) {
    if (native) { return; }
    area.style.height = "auto";
    area.style.height = area.scrollHeight + 2 + "px";
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea.autosize")) { fit(event.target); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("textarea[data-single-line]")) {
      event.preventDefault();
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("textarea.autosize"), fit);
}());

// "Finish" closes the platform's registration dialog (LTI Dynamic Registration: the close message).
(function () {
  document.getElementById("close").addEventListener("click", function () {
    (window.opener || window.parent).postMessage({subject: "org.imsglobal.lti.close"}, "*");
  });
})();

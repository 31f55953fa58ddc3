// Can this frame keep a cookie? If so, go on with the login; if not, offer a new window.
(function () {
  var page = document.getElementById("checking");
  var attrs = page.dataset.cookieAttributes;
  document.cookie = "lti1p3_test_cookie=1; path=/" + attrs;
  if (document.cookie.indexOf("lti1p3_test_cookie=1") !== -1) {
    document.cookie = "lti1p3_test_cookie=; path=/; expires=Thu, 01 Jan 1970 00:00:01 GMT" + attrs;
    window.location.replace(page.dataset.target);
  } else {
    page.hidden = true;
    document.getElementById("blocked").hidden = false;
    document.getElementById("new-window").focus();
  }
})();

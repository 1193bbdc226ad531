// A screen whose session ended (expired, signed out elsewhere, wall token revoked) must not sit
// there silently showing old figures: when the server answers one of Dash's own requests with
// 401, go to the sign-in page, which says why and brings the screen back where it was.
(function () {
  "use strict";
  var fetchOriginal = window.fetch;
  var leaving = false;
  window.fetch = function (input) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    return fetchOriginal.apply(this, arguments).then(function (response) {
      if (response.status === 401 && !leaving && url.indexOf("/_dash-") !== -1) {
        leaving = true;
        var here = window.location.pathname + window.location.search;
        window.location.assign("/login?expired=1&next=" + encodeURIComponent(here));
      }
      return response;
    });
  };
})();

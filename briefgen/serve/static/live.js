// briefgen serve: reload this page when the project changes. Preview only.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="briefgen-generation"]');
  var mine = meta ? meta.getAttribute("content") : "";
  var key = "briefgen-scroll:" + location.pathname;
  var banner = null;
  try {
    var y = sessionStorage.getItem(key);
    if (y !== null) {
      sessionStorage.removeItem(key);
      window.addEventListener("load", function () { window.scrollTo(0, Number(y) || 0); });
    }
  } catch (e) { /* storage may be off */ }
  function offline(on) {
    if (on && !banner && document.body) {
      banner = document.createElement("div");
      banner.id = "briefgen-offline";
      banner.textContent = "briefgen serve is not running: this page will not update.";
      document.body.appendChild(banner);
    } else if (!on && banner) {
      banner.remove();
      banner = null;
    }
  }
  // A long poll: the server answers as soon as the project changes (or after 25 s).
  function poll() {
    fetch("/_briefgen/status.json?seen=" + encodeURIComponent(mine), {cache: "no-store"})
      .then(function (response) { return response.json(); })
      .then(function (status) {
        offline(false);
        if (status.instance + ":" + status.generation !== mine) {
          try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) { /* off */ }
          location.reload();
          return;
        }
        setTimeout(poll, 0);
      }, function () {
        offline(true);
        setTimeout(poll, 1500);
      });
  }
  poll();
})();

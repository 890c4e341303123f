// Live countdowns: every <time class="countdown" datetime="..."> shows the time left until
// its deadline (or how long it is overdue), updated every second. No inline script: the
// page's Content-Security-Policy allows scripts from this origin only.
(function () {
  "use strict";
  function part(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var rest = minutes % 60;
    var text = (days ? days + "d " : "") + (days || hours ? hours + "h " : "") + rest + "m";
    return text;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) { return; }
      if (!el.title) { el.title = el.textContent; }
      var left = at - now;
      el.classList.toggle("overdue", left < 0);
      el.textContent = left < 0
        ? el.dataset.overdue + " " + part(left)
        : part(left) + " " + el.dataset.left;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSettle", tick);
})();

// Small progressive enhancements; every page works without them.
(function () {
  // Parts that refresh themselves (the inbox): fetch the server-rendered fragment again.
  document.querySelectorAll("[data-poll]").forEach(function (el) {
    var every = parseInt(el.dataset.every || "5000", 10);
    setInterval(function () {
      fetch(el.dataset.poll, {credentials: "same-origin"}).then(function (r) {
        if (r.redirected || !r.ok) return null;
        return r.text();
      }).then(function (html) { if (html !== null && html !== undefined) el.innerHTML = html; }).catch(function () {});
    }, every);
  });
  // The SMS segment count under the reply box, as the server counts it.
  document.querySelectorAll("textarea[data-segments]").forEach(function (box) {
    var out = document.querySelector("[data-segment-count]");
    if (!out) return;
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(box.dataset.segments + "?text=" + encodeURIComponent(box.value), {credentials: "same-origin"})
          .then(function (r) { return r.json(); })
          .then(function (d) { out.textContent = "SMS: " + d.segments + " segment" + (d.segments === 1 ? "" : "s") + " (" + d.encoding + ", " + d.characters + " characters)"; });
      }, 150);
    });
  });
  // A button that cannot be undone asks first (without JavaScript it simply posts).
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
})();

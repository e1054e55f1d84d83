// Copy buttons: <button data-copy="#target" data-copied="…" data-copy-failed="…" hidden>.
// The buttons stay hidden without JavaScript (the text is still there to select). No inline
// script, so it runs under the site's Content Security Policy.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      var target = document.querySelector(button.getAttribute("data-copy"));
      if (!target) return;
      var text = "value" in target ? target.value : target.textContent.trim();
      var say = function (ok) {
        button.textContent = button.getAttribute(ok ? "data-copied" : "data-copy-failed");
        window.setTimeout(function () { button.textContent = label; }, 2500);
      };
      var fallback = function () {
        var range = document.createRange();
        if ("select" in target) {
          target.focus();
          target.select();
        } else {
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        say(ok);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { say(true); }, fallback);
      } else {
        fallback();
      }
    });
  });
})();

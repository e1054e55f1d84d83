// Copy buttons: <button data-copy="#target" data-copied="…" data-copy-failed="…" hidden>.
// The buttons stay hidden without JavaScript (the text is still there to select). No inline
// script, so it runs under the site's Content Security Policy.
for (const button of document.querySelectorAll("[data-copy]")) {
  button.hidden = false;
  const label = button.textContent;
  const say = (ok) => {
    button.textContent = button.getAttribute(ok ? "data-copied" : "data-copy-failed");
    window.setTimeout(() => {
      button.textContent = label;
    }, 2500);
  };
  const selectAndCopy = (target) => {
    if ("select" in target) {
      target.focus();
      target.select();
    } else {
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    try {
      say(document.execCommand("copy"));
    } catch {
      say(false);
    }
  };
  button.addEventListener("click", () => {
    const target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    const text = "value" in target ? target.value : target.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        () => say(true),
        () => selectAndCopy(target),
      );
    } else {
      selectAndCopy(target);
    }
  });
}

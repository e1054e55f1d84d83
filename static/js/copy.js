// Copy buttons, two kinds, with no inline script (so they run under the site's Content
// Security Policy):
// - <button data-copy="#target" data-copied="…" data-copy-failed="…" hidden>: shown once this
//   runs; copies the target's value or text.
// - a container <div data-copy-code="Copy" data-copied="…" data-copy-failed="…">: every code
//   block (<pre>) inside it gets a button that copies its code.
// Without JavaScript there are no buttons, and the text is still there to select.

const wire = (button, findTarget, textOf) => {
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
    const target = findTarget();
    if (!target) return;
    const text = textOf(target);
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        () => say(true),
        () => selectAndCopy(target),
      );
    } else {
      selectAndCopy(target);
    }
  });
};

for (const button of document.querySelectorAll("[data-copy]")) {
  button.hidden = false;
  wire(
    button,
    () => document.querySelector(button.getAttribute("data-copy")),
    (target) => ("value" in target ? target.value : target.textContent.trim()),
  );
}

for (const container of document.querySelectorAll("[data-copy-code]")) {
  for (const pre of container.querySelectorAll("pre")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "code-copy";
    button.textContent = container.getAttribute("data-copy-code");
    button.setAttribute("aria-live", "polite");
    button.setAttribute("data-copied", container.getAttribute("data-copied"));
    button.setAttribute("data-copy-failed", container.getAttribute("data-copy-failed"));
    let block = pre.parentElement;
    if (!block.classList.contains("highlight")) {
      block = document.createElement("div");
      pre.before(block);
      block.append(pre);
    }
    block.classList.add("has-copy");
    block.prepend(button);
    wire(
      button,
      () => pre.querySelector("code") || pre,
      (code) => code.textContent.replace(/\n$/, ""),
    );
  }
}

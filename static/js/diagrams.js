// Draws ```mermaid blocks (<pre class="mermaid">) with the pinned, self-hosted mermaid.
// Strict security level: no click handlers, no HTML in labels.
(function () {
  "use strict";
  if (!window.mermaid) return;
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: dark ? "dark" : "neutral",
    flowchart: { htmlLabels: false },
    htmlLabels: false,
  });
  window.mermaid.run({ querySelector: "pre.mermaid" });
})();

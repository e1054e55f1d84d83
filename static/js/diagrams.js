// Draws ```mermaid blocks (<pre class="mermaid">) with the pinned, self-hosted mermaid.
//
// Strict security level: no click handlers, no HTML in labels. The page's Content Security
// Policy allows no inline style without a nonce, and mermaid writes <style> elements and style
// attributes. While it draws, its <style> elements get this script's nonce and its style
// attributes become CSSOM writes (which CSP allows); the finished SVG is inserted the same way.
(function () {
  "use strict";
  var script = document.currentScript;
  var nonce = (script && script.nonce) || "";
  var blocks = Array.prototype.slice.call(document.querySelectorAll("pre.mermaid"));
  if (!window.mermaid || !blocks.length) return;

  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: dark ? "dark" : "neutral",
    htmlLabels: false,
    flowchart: { htmlLabels: false },
    // Diagram text may not change these through %%{init}%% directives.
    secure: [
      "secure", "securityLevel", "startOnLoad", "maxTextSize", "suppressErrorRendering",
      "maxEdges", "htmlLabels", "flowchart", "theme", "themeCSS", "themeVariables",
      "fontFamily", "altFontFamily", "darkMode", "dompurifyConfig",
    ],
  });

  var originals = {
    createElement: Document.prototype.createElement,
    createElementNS: Document.prototype.createElementNS,
    setAttribute: Element.prototype.setAttribute,
    parseFromString: DOMParser.prototype.parseFromString,
  };
  var STYLE_ATTR = /(\s)style=(["'])/g;
  var STYLE_TAG = /<style(?=[\s>])/gi;

  // Markup parsed by mermaid (and its sanitiser) and by this script: <style> elements get the
  // nonce and style attributes are applied through CSSOM after parsing.
  function parseWithoutInlineStyle(markup, type) {
    var text = String(markup)
      .replace(STYLE_TAG, '<style nonce="' + nonce + '"')
      .replace(STYLE_ATTR, "$1data-mermaid-style=$2");
    var doc = originals.parseFromString.call(this, text, type);
    Array.prototype.forEach.call(doc.querySelectorAll("[data-mermaid-style]"), function (el) {
      if (el.style) el.style.cssText = el.getAttribute("data-mermaid-style");
      el.removeAttribute("data-mermaid-style");
    });
    return doc;
  }

  function withNonce(element, name) {
    if (String(name).toLowerCase().split(":").pop() === "style") {
      originals.setAttribute.call(element, "nonce", nonce);
    }
    return element;
  }

  function patch() {
    Document.prototype.createElement = function (name) {
      return withNonce(originals.createElement.apply(this, arguments), name);
    };
    Document.prototype.createElementNS = function (ns, name) {
      return withNonce(originals.createElementNS.apply(this, arguments), name);
    };
    DOMParser.prototype.parseFromString = parseWithoutInlineStyle;
    Element.prototype.setAttribute = function (name, value) {
      if (String(name).toLowerCase() === "style" && this.style) {
        this.style.cssText = value;
        return;
      }
      return originals.setAttribute.apply(this, arguments);
    };
  }

  function unpatch() {
    Document.prototype.createElement = originals.createElement;
    Document.prototype.createElementNS = originals.createElementNS;
    Element.prototype.setAttribute = originals.setAttribute;
    DOMParser.prototype.parseFromString = originals.parseFromString;
  }

  // Mermaid returns SVG text; parse it (without inline styles, see above) and move it in.
  function insertSvg(pre, svgText) {
    var svg = new DOMParser().parseFromString(svgText, "text/html").querySelector("svg");
    if (!svg) return;
    var node = document.importNode(svg, true);
    node.setAttribute("role", "img");
    pre.textContent = "";
    pre.appendChild(node);
    pre.setAttribute("data-processed", "true");
  }

  async function drawAll() {
    patch();
    try {
      for (var i = 0; i < blocks.length; i++) {
        var pre = blocks[i];
        try {
          var result = await window.mermaid.render("diagram-" + i, pre.textContent);
          insertSvg(pre, result.svg);
        } catch (error) {
          pre.classList.add("mermaid--error");
          pre.setAttribute("title", "This diagram could not be drawn.");
        }
      }
    } finally {
      unpatch();
    }
  }

  drawAll();
})();

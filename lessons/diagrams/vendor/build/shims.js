// What beautiful-mermaid and elkjs expect from a browser or Node, for a bare V8 isolate.
// `global` makes elkjs' UMD wrapper pick globalThis (and leaves `self` undefined, so elkjs
// uses its in-process FakeWorker); timers are never needed (layout runs synchronously);
// `atob` decodes the text-metrics tables of the `entities` package.
globalThis.global = globalThis;
globalThis.setTimeout = function () { return 0; };
globalThis.clearTimeout = function () {};
if (typeof globalThis.console === "undefined") {
  const quiet = function () {};
  globalThis.console = { log: quiet, info: quiet, warn: quiet, error: quiet, debug: quiet };
}
if (typeof globalThis.atob === "undefined") {
  globalThis.atob = function (input) {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const text = String(input).replace(/[=\s]+$/, "");
    let out = "";
    for (let count = 0, bits = 0, index = 0; index < text.length; index++) {
      const value = alphabet.indexOf(text.charAt(index));
      if (value === -1) continue;
      bits = count % 4 ? bits * 64 + value : value;
      if (count++ % 4) out += String.fromCharCode(255 & (bits >> ((-2 * count) & 6)));
    }
    return out;
  };
}

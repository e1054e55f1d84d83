// The one function the site calls: Mermaid text in, {"svg": ...} or {"error", "line"} out, as
// JSON. `line` is the text of the diagram line the (patched, strict) parser could not read.
import { renderMermaidSVG } from "beautiful-mermaid";

globalThis.__diagramLineError = function (line, message) {
  const error = new Error(message);
  error.diagramLine = line;
  return error;
};

globalThis.renderDiagram = function (source) {
  try {
    return JSON.stringify({ svg: renderMermaidSVG(source, { transparent: true, padding: 8 }) });
  } catch (error) {
    return JSON.stringify({
      error: String((error && error.message) || error),
      line: (error && error.diagramLine) || null,
    });
  }
};

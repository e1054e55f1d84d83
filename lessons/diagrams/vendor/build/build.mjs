// Bundles beautiful-mermaid (pinned in package.json / package-lock.json) into one classic
// script for an embedded V8, with shims.js in front, and with its parsers made strict: a line
// they cannot read throws (naming the line) instead of being silently left out of the drawing.
//
//   cd lessons/diagrams/vendor/build && npm ci && npm run build
import { readFileSync, writeFileSync } from "node:fs";
import * as esbuild from "esbuild";

const version = JSON.parse(
  readFileSync("node_modules/beautiful-mermaid/package.json", "utf8"),
).version;

// [what, exact text in dist/index.js, replacement]. The build fails if any is not found once.
const PATCHES = [
  [
    // Widths are estimated for Inter; pages draw labels in the reader's system font, which
    // can be a tenth wider (DejaVu Sans on Linux): leave that much room in every box.
    "text widths: room for the reader's system font",
    "  const minPadding = fontSize * 0.15;\n  return totalWidth * fontSize * baseRatio + minPadding;\n",
    "  const minPadding = fontSize * 0.15;\n  return (totalWidth * fontSize * baseRatio + minPadding) * 1.1;\n",
  ],
  [
    "flowchart: a line that starts with no node",
    "  const firstGroup = consumeNodeGroup(remaining, graph, subgraphStack);\n" +
      "  if (!firstGroup || firstGroup.ids.length === 0) return;\n",
    "  const firstGroup = consumeNodeGroup(remaining, graph, subgraphStack);\n" +
      "  if (!firstGroup || firstGroup.ids.length === 0) throw __diagramLineError(line, " +
      "\"this line is neither a node, an arrow nor a statement this renderer knows\");\n",
  ],
  [
    "flowchart: an arrow that points nowhere",
    "    if (!nextGroup || nextGroup.ids.length === 0) break;\n",
    "    if (!nextGroup || nextGroup.ids.length === 0) throw __diagramLineError(line, " +
      "\"an arrow here points to no node\");\n",
  ],
  [
    "flowchart: text left over after the nodes and arrows",
    "    prevGroupIds = nextGroup.ids;\n  }\n}\n",
    "    prevGroupIds = nextGroup.ids;\n  }\n" +
      "  if (remaining.replace(/^;+$/, \"\").length > 0) throw __diagramLineError(line, " +
      "`cannot read \"${remaining}\"`);\n}\n",
  ],
  [
    "state diagram: a line no rule matched",
    "      registerStateNode(graph, compositeStack, { id, label, shape: \"rounded\" });\n" +
      "      continue;\n    }\n  }\n  return graph;\n}\n",
    "      registerStateNode(graph, compositeStack, { id, label, shape: \"rounded\" });\n" +
      "      continue;\n    }\n" +
      "    throw __diagramLineError(line, \"this line is not a state diagram statement this renderer knows\");\n" +
      "  }\n  return graph;\n}\n",
  ],
  [
    "sequence diagram: a line no rule matched, and a block never closed",
    "      diagram.messages.push(msg);\n      continue;\n    }\n  }\n  return diagram;\n}\n" +
      "function ensureActor(",
    "      diagram.messages.push(msg);\n      continue;\n    }\n" +
      "    if (!/^(activate|deactivate)\\s/.test(line)) throw __diagramLineError(line, " +
      "\"this line is not a sequence diagram statement this renderer knows\");\n" +
      "  }\n" +
      "  if (blockStack.length > 0) { const open = blockStack[blockStack.length - 1]; " +
      "throw __diagramLineError(`${open.type} ${open.label}`.trim(), " +
      "`this \"${open.type}\" block is never closed by \"end\"`); }\n" +
      "  return diagram;\n}\nfunction ensureActor(",
  ],
];

// Node ids may hold hyphens ("us-east"), but upstream's `[\w-]+` also swallows the start of an
// arrow written without spaces: "A-->B" became a node "A--". Hyphens only between word
// characters, in the node patterns and the bare node reference.
function nodeIdsStopAtArrows(code) {
  const start = code.indexOf("var NODE_PATTERNS = [");
  const endMarker = "var BARE_NODE_REGEX = /^([\\w-]+)/;";
  const end = code.indexOf(endMarker, start) + endMarker.length;
  if (start < 0 || end < endMarker.length) throw new Error("patch node ids: patterns not found");
  const segment = code.slice(start, end);
  const count = segment.split("/^([\\w-]+)").length - 1;
  if (count < 10) throw new Error(`patch node ids: found ${count} patterns, expected at least 10`);
  return code.slice(0, start) + segment.replaceAll("/^([\\w-]+)", "/^(\\w+(?:-\\w+)*)") + code.slice(end);
}

const strictParsers = {
  name: "strict-parsers",
  setup(build) {
    build.onLoad({ filter: /beautiful-mermaid[\\/]dist[\\/]index\.js$/ }, (args) => {
      let code = readFileSync(args.path, "utf8");
      for (const [what, from, to] of PATCHES) {
        const count = code.split(from).length - 1;
        if (count !== 1) throw new Error(`patch "${what}": found ${count} times, expected 1`);
        code = code.replace(from, () => to);
      }
      code = nodeIdsStopAtArrows(code);
      return { contents: code, loader: "js" };
    });
  },
};

await esbuild.build({
  entryPoints: ["entry.js"],
  bundle: true,
  format: "iife",
  platform: "neutral",
  mainFields: ["module", "main"],
  target: "es2020",
  minify: true,
  legalComments: "none",
  banner: {
    js:
      `// beautiful-mermaid ${version} (MIT) with elkjs (EPL-2.0) and entities (BSD-2-Clause),\n` +
      "// bundled by lessons/diagrams/vendor/build/build.mjs; see ../README.md and the LICENSE files.\n" +
      readFileSync("shims.js", "utf8"),
  },
  plugins: [strictParsers],
  outfile: "../beautiful-mermaid.js",
});
console.log(`built ../beautiful-mermaid.js from beautiful-mermaid ${version}`);

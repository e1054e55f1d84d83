"""Rendering an author's Markdown into the HTML pages show, once, when it is saved.

One job a module:

- `pipeline`: Python-Markdown, the sanitiser, the diagrams drawn into their slots (`render()`).
- `sanitiser`: the allowlist every text passes before it is stored.
- `limits`: shapes of text refused before they cost time (nesting, brackets, tables...).
- `bounded`: the pipeline in a child process within a time limit and the request's budget.
- `budget`, `timelimit`: that budget (one render at a time per author), and the child process.
- `teaser`: the public part of a premium lesson; `toc`: its table of contents.
- `text`: rendered HTML as plain text (search, reading time); `source`: lines and fences.
- `problems`: what the author must fix (diagrams that cannot be drawn, images without alt).
- `preview`: the author's live preview.
- `others`: other apps' texts rendered by this pipeline, which render_lessons renders again.

The diagrams themselves are drawn by lessons.diagrams (a drawing engine with its vendored
JavaScript and its own limits), which the pipeline calls; it stays a package of its own.
Pages never render Markdown.
"""

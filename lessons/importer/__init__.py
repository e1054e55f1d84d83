"""Import a series from a folder: `series.yaml` and one Markdown file per lesson.

A lesson file starts with YAML front matter between `---` lines:

    ---
    title: What is an AI Engineer?
    slug: what-is-an-ai-engineer      # optional: made from the title
    number: 1
    part: "Part 1: Foundations"       # optional
    summary: One sentence.            # optional
    access: free                      # free | premium (default premium)
    status: published                 # draft | published (default draft)
    published_at: 2026-11-01T09:00:00+00:00   # optional
    ---
    The Markdown body...

Lessons are matched by slug within the series. The whole run is one transaction: a single
bad file means nothing is imported. Lessons missing from the folder are kept unless `prune`.

Every problem of the folder is found in one run and listed by file and line (front matter,
unknown keys, values, diagrams that cannot be drawn, images missing or without alt text, the
checks a save makes), so that an author fixes them all at once; nothing is saved while there
is one.

Images a lesson references by a relative path (`![A chart](images/chart.png)` or
`<img src="images/chart.png" alt="…">`), which must lie inside the folder, are checked like an
upload (lessons.images), stored once in the media storage, and the reference is replaced by
their address there; the same file gives the same address, so a second run changes nothing.
"""

"""axe-core, pinned and shipped with the tests (tests/e2e/assets/axe.min.js, its version and
sha256 in axe-core.json beside it), injected into every page of a browser context."""

import hashlib
import json
from functools import cache
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
PIN = json.loads((ASSETS / "axe-core.json").read_text())
# Every violation of the page in its present state (viewport and colour scheme as they are
# now, once the transitions a change of scheme starts have ended), serious or critical, with
# the elements it names.
RUN = """async (rules) => {
  const moving = document.getAnimations().filter((a) => a instanceof CSSTransition);
  await Promise.all(moving.map((a) => a.finished.catch(() => null)));
  const results = await axe.run(document, {
    resultTypes: ["violations"],
    runOnly: rules ? {type: "rule", values: rules}
      : {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                               "best-practice"]},
  });
  const found = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: "
                                                 + n.failureSummary.replace(/\\s+/g, " "))}));
  // axe lets an aria-describedby name an id that is not there; a reader hears nothing.
  // (Django's admin names a date field's time-zone warning, which its own script adds only
  // when the browser's time zone is not the server's: that one may be absent.)
  const refs = "[aria-describedby], [aria-labelledby], [aria-controls], label[for]";
  const dangling = [...document.querySelectorAll(refs)].flatMap((el) =>
    ["aria-describedby", "aria-labelledby", "aria-controls", "for"]
      .flatMap((name) => (el.getAttribute(name) || "").split(/\\s+/).filter(Boolean)
        .filter((id) => !document.getElementById(id) && !id.endsWith("_timezone_warning_helptext"))
        .map((id) => `${el.tagName.toLowerCase()} ${name}="${id}"`)));
  if (dangling.length) {
    found.push({id: "dangling-reference", impact: "serious",
                help: "ARIA and label references name an element that exists", nodes: dangling});
  }
  return found;
}"""


@cache
def source() -> str:
    """axe.min.js, once its hash is the one recorded."""
    data = (ASSETS / PIN["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == PIN["sha256"], "axe.min.js is not the pinned one"
    return data.decode()


def inject(context) -> None:
    """axe in every page (and frame) the context opens, before the page's own scripts; an
    init script is not subject to the page's Content-Security-Policy."""
    context.add_init_script(script=source())


# The rules a colour scheme can change: the site's and the admin's dark schemes change colours
# only (prefers-color-scheme), never layout, names or roles.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def serious_violations(page, *, colours_only: bool = False) -> list[dict]:
    """axe's serious and critical findings on the page as it is now: every WCAG 2.x A/AA and
    best-practice rule, or (`colours_only`) those a colour scheme can change."""
    return page.evaluate(RUN, COLOUR_RULES if colours_only else None)

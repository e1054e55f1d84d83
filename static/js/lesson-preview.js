// The live preview beside a lesson's Markdown in the admin. The server renders the text through
// the real pipeline (diagrams included) and answers with a page in the site's look, shown in a
// sandboxed frame that runs no script. Sends at most one request per pause in typing; a newer
// request aborts an older one (and the server stops drawing the older one: it answers 409).
// While another preview or save of the author's is being rendered the server answers 429 with
// a Retry-After; the panel shows why and asks again then. Without JavaScript the panel stays
// hidden.
const panel = document.querySelector("[data-live-preview]");
const source = document.querySelector("textarea.writing__textarea");

if (panel && source?.form) {
  const form = source.form;
  const frame = panel.querySelector(".writing__frame");
  const state = panel.querySelector(".writing__state");
  const field = (name) => form.elements.namedItem(name);
  const token = field("csrfmiddlewaretoken")?.value ?? "";
  const WAIT_MS = 600;
  let timer = 0;
  let inFlight = null;
  let lastSent = null;

  panel.hidden = false;

  const update = async () => {
    const data = new FormData();
    data.append("body", source.value);
    data.append("access", field("access")?.value ?? "");
    data.append("series", field("series")?.value ?? "");
    const key = [...data.values()].join("\u0000");
    if (key === lastSent) return;
    lastSent = key;
    inFlight?.abort();
    inFlight = new AbortController();
    state.textContent = panel.dataset.updating;
    try {
      const response = await fetch(panel.dataset.livePreview, {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
        signal: inFlight.signal,
      });
      if (response.status === 409) return; // replaced by a newer preview
      const page = await response.text();
      if (response.status === 429) {
        lastSent = null;
        window.clearTimeout(timer);
        const seconds = Number(response.headers.get("Retry-After")) || 3;
        timer = window.setTimeout(update, seconds * 1000);
      }
      const scrolled = frame.contentWindow?.scrollY ?? 0;
      frame.addEventListener(
        "load",
        () => {
          frame.contentWindow?.scrollTo(0, scrolled);
        },
        { once: true },
      );
      frame.srcdoc = page;
      state.textContent = "";
    } catch (error) {
      if (error.name !== "AbortError") {
        state.textContent = panel.dataset.failed;
        lastSent = null;
      }
    }
  };

  const soon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, WAIT_MS);
  };
  source.addEventListener("input", soon);
  for (const name of ["access", "series"]) {
    field(name)?.addEventListener("change", soon);
  }
  update();
}

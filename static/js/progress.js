// Reading progress of a logged-in reader, reported by a small request of its own (the lesson
// page itself writes nothing, so it can be cached): "done" when the end of the lesson comes
// into view, else "opened" when the reader leaves the page. At most one of each per view.
// Without JavaScript the "mark as done" form does the same.
const end = document.querySelector("[data-progress-url]");
if (end && navigator.sendBeacon) {
  const sent = new Set();
  const send = (state) => {
    if (sent.has(state) || sent.has("done")) return;
    sent.add(state);
    const body = new FormData();
    body.append("state", state);
    body.append("via", "beacon");
    body.append("csrfmiddlewaretoken", end.getAttribute("data-csrf"));
    navigator.sendBeacon(end.getAttribute("data-progress-url"), body);
  };
  const canFinish = end.hasAttribute("data-progress-can-finish");
  if (canFinish && !end.hasAttribute("data-progress-done") && "IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      observer.disconnect();
      send("done");
      end.setAttribute("data-progress-done", "");
      // A keyboard reader on "Mark as done" keeps their place: on the note that replaces it.
      const focused = end.contains(document.activeElement);
      for (const form of end.querySelectorAll("form")) form.hidden = true;
      for (const note of end.querySelectorAll(".lesson-end__done")) {
        note.hidden = false;
        if (focused) {
          note.tabIndex = -1;
          note.focus();
        }
      }
    });
    observer.observe(end);
  }
  const leave = () => {
    if (document.visibilityState === "hidden") send("opened");
  };
  document.addEventListener("visibilitychange", leave);
  window.addEventListener("pagehide", () => send("opened"));
}

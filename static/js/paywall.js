// A logged-in reader's paywall tells the site, once, that it came into view: the dashboard's
// "readers who reached the paywall of lesson N". Sent after the page has loaded, with
// sendBeacon (it never delays the page) and the page's own CSRF token. Anonymous pages carry
// no data-paywall-seen and send nothing.
const paywall = document.querySelector("[data-paywall-seen]");

if (paywall && navigator.sendBeacon) {
  const lesson = paywall.getAttribute("data-lesson");
  const key = `paywall-seen:${lesson}`;
  const send = () => {
    try {
      if (window.sessionStorage.getItem(key)) return;
      window.sessionStorage.setItem(key, "1");
    } catch {
      // Storage may be off; the server keeps one row per reader and lesson anyway.
    }
    const data = new FormData();
    data.append("lesson", lesson);
    const token = paywall.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) data.append("csrfmiddlewaretoken", token.value);
    navigator.sendBeacon(paywall.getAttribute("data-paywall-seen"), data);
  };
  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        send();
      }
    });
    observer.observe(paywall);
  } else {
    send();
  }
}

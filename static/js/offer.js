// How readers meet the series' offer, counted without knowing who they are (the sales
// dashboard's "which teaser sells"): the paywall coming into view, and taps on its Instagram
// and WhatsApp buttons. One small POST with sendBeacon after the page has loaded, carrying
// only the event, the series and the lesson, the same for every reader: the page itself
// stays the same for everyone and can be kept in a shared cache. Without JavaScript nothing
// is counted and the buttons work as plain links.
const root = document.documentElement;

if (navigator.sendBeacon && !root.hasAttribute("data-offer-counting")) {
  // A page with several offers (the home page) loads this script once per offer.
  root.setAttribute("data-offer-counting", "");

  const send = (box, event) => {
    const data = new FormData();
    data.append("event", event);
    data.append("series", box.getAttribute("data-series"));
    data.append("lesson", box.getAttribute("data-lesson") || "");
    navigator.sendBeacon(box.getAttribute("data-offer"), data);
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-offer-event]");
    const box = button?.closest("[data-offer]");
    if (box) send(box, button.getAttribute("data-offer-event"));
  });

  const paywall = document.querySelector("[data-offer][data-count-view]");
  if (paywall) {
    if ("IntersectionObserver" in window) {
      const observer = new IntersectionObserver((entries) => {
        if (entries.some((entry) => entry.isIntersecting)) {
          observer.disconnect();
          send(paywall, "paywall");
        }
      });
      observer.observe(paywall);
    } else {
      send(paywall, "paywall");
    }
  }
}

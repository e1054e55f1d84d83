// The order page while it waits for the payment: asks the site every few seconds (less often
// as time goes by) and shows the page again once the order has changed. Without this script
// the page's "Check now" link does the same by hand.
(() => {
  const box = document.querySelector("[data-order-status]");
  if (!box) return;
  const url = box.dataset.orderStatus;
  const status = box.dataset.status;
  let delay = 2000;
  const ask = async () => {
    try {
      const answer = await fetch(url, {
        headers: { Accept: "application/json" },
        cache: "no-store",
      });
      if (answer.ok && (await answer.json()).status !== status) {
        window.location.reload();
        return;
      }
    } catch {
      // offline for a moment: ask again later
    }
    delay = Math.min(delay * 1.25, 15000);
    window.setTimeout(ask, delay);
  };
  window.setTimeout(ask, delay);
})();

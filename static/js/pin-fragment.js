// The redeem page's PIN field, filled from the address the seller sent: …/access/redeem/#pin=…
// The PIN travels in the fragment, which a browser never sends to the server (no log, no
// Referer holds it), and is then taken out of the address, so that history and bookmarks do
// not keep it either. Without JavaScript the reader types or pastes the PIN as before.
(() => {
  const found = /(?:^#|&)pin=([^&]{1,64})/.exec(window.location.hash);
  if (!found) {
    return;
  }
  const field = document.querySelector("form.redeem-form input[name=pin]");
  let pin = "";
  try {
    pin = decodeURIComponent(found[1]).trim();
  } catch {
    return;
  }
  if (field && pin && !field.value) {
    field.value = pin;
    field.form.querySelector("[type=submit]")?.focus();
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
})();

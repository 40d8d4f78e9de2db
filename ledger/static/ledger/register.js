// Quick entry in an account's register: Enter walks date → payee → category → amount and saves from the
// amount; the payee box proposes the household's payees and fills a known payee's last category and amount.
// A static file (no inline script), so it runs under the Content-Security-Policy.
(function () {
  "use strict";
  const form = document.getElementById("ft-quick-entry");
  if (!form) return;
  const date = document.getElementById("ft-qe-date");
  const payee = document.getElementById("ft-qe-payee");
  const category = document.getElementById("ft-qe-category");
  const amount = document.getElementById("ft-qe-amount");
  const list = document.getElementById("ft-qe-payees");
  const url = form.dataset.payeesUrl;
  const account = form.dataset.account;
  let suggestions = new Map();
  let pending = null;
  let amountTouched = amount.value !== "";

  function fetchSuggestions(term) {
    const query = new URLSearchParams({ account: account, term: term });
    return fetch(url + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        suggestions = new Map();
        list.replaceChildren();
        data.results.forEach(function (row) {
          suggestions.set(row.payee.toLowerCase(), row);
          const option = document.createElement("option");
          option.value = row.payee;
          option.label = row.category_label ? row.category_label + " · " + row.amount : row.amount;
          list.appendChild(option);
        });
      })
      .catch(function () { /* suggestions are a convenience: typing still works */ });
  }

  // Fill a known payee's last category and amount, unless the person already typed an amount.
  function applySuggestion() {
    const row = suggestions.get(payee.value.trim().toLowerCase());
    if (!row) return false;
    if (row.category !== null && category.querySelector('option[value="' + row.category + '"]')) {
      category.value = String(row.category);
    }
    if (!amountTouched) amount.value = row.amount;
    return true;
  }

  payee.addEventListener("input", function () {
    if (pending) clearTimeout(pending);
    const term = payee.value.trim();
    if (applySuggestion()) return;
    pending = setTimeout(function () { fetchSuggestions(term).then(applySuggestion); }, 120);
  });
  payee.addEventListener("change", applySuggestion);
  amount.addEventListener("input", function () { amountTouched = amount.value !== ""; });

  const order = [date, payee, category, amount];
  form.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) return;
    const at = order.indexOf(event.target);
    if (at === -1 || event.target === amount) return; // Enter on the amount (or the button) saves
    event.preventDefault();
    const filled = event.target === payee && applySuggestion() && amount.value !== "";
    const next = filled ? amount : order[at + 1];
    next.focus();
    if (next.select) next.select();
  });

  // Back from an entry the payee box waits for the next one (autofocus alone loses to the theme's own scripts).
  if (payee.hasAttribute("autofocus")) payee.focus();
  if (payee.value === "" && document.activeElement === payee) fetchSuggestions("");
})();

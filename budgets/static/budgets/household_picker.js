// Picking another household reloads the page for it (a static file: the CSP allows no inline handlers).
"use strict";
document.querySelectorAll("select[data-submit-on-change]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});

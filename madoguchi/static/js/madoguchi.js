/* Progressive enhancement only: every page works without this file.
   After htmx swaps in a new <main> (the boosted guide wizard), move focus to its error
   summary or its heading, so keyboard and screen-reader users land where a full page
   load would put them. htmx:load fires on the new element, which is in the document. */
document.addEventListener("htmx:load", function (event) {
  var elt = event.detail && event.detail.elt;
  if (!elt || elt.id !== "main") { return; }
  var focus = document.getElementById("error-summary") || elt.querySelector("h1");
  if (focus) {
    if (!focus.hasAttribute("tabindex")) { focus.setAttribute("tabindex", "-1"); }
    focus.focus();
  }
});

/* The display board (呼出表示), progressive enhancement only: the board is readable
   without this file, htmx polling keeps it current and puts each new call into an
   aria-live region for screen readers. This file reads a new call aloud with the Web
   Speech API (speechSynthesis, ja-JP) once someone turns speech on with the button:
   browsers allow speech only after a user action on the page (or with a kiosk
   browser flag such as Chromium's --autoplay-policy=no-user-gesture-required). */
(function () {
  "use strict";
  if (!("speechSynthesis" in window) || typeof window.SpeechSynthesisUtterance !== "function") { return; }
  var STORE = "madoguchi.board.speech";
  var lastKey = null;
  var enabled = false;

  function board() { return document.getElementById("board"); }

  function speak(text) {
    if (!text) { return; }
    var utterance = new window.SpeechSynthesisUtterance(text);
    utterance.lang = "ja-JP";
    utterance.rate = 0.9;
    var voices = window.speechSynthesis.getVoices ? window.speechSynthesis.getVoices() : [];
    for (var i = 0; i < voices.length; i++) {
      if (voices[i].lang && voices[i].lang.replace("_", "-").indexOf("ja") === 0) { utterance.voice = voices[i]; break; }
    }
    window.speechSynthesis.speak(utterance);
  }

  function setEnabled(button, value) {
    enabled = value;
    button.setAttribute("aria-pressed", value ? "true" : "false");
    button.textContent = value ? button.getAttribute("data-on") : button.getAttribute("data-off");
    try { window.localStorage.setItem(STORE, value ? "1" : "0"); } catch (e) { /* private mode */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("speech-toggle");
    var current = board();
    lastKey = current ? current.getAttribute("data-latest-key") : "";
    if (!button) { return; }
    button.hidden = false;
    var stored = "0";
    try { stored = window.localStorage.getItem(STORE) || "0"; } catch (e) { stored = "0"; }
    setEnabled(button, stored === "1");
    button.addEventListener("click", function () {
      setEnabled(button, !enabled);
      if (enabled) { speak(button.getAttribute("data-test")); } else { window.speechSynthesis.cancel(); }
    });
  });

  document.addEventListener("htmx:afterSettle", function () {
    var current = board();
    if (!current) { return; }
    var key = current.getAttribute("data-latest-key");
    if (key && key !== lastKey && enabled) { speak(current.getAttribute("data-latest-speech")); }
    lastKey = key;
  });
})();

// The signature pad of the counter's second screen: strokes drawn on the canvas are
// kept as SVG path data (M x y L x y …) in the hidden "signature" field. Without
// JavaScript the pad stays hidden and the resident types their name instead.
(function () {
  "use strict";
  function setUp(pad) {
    var canvas = pad.querySelector("canvas");
    var field = pad.querySelector("input[name=signature]");
    var context = canvas.getContext("2d");
    var path = [];
    var drawing = false;
    pad.hidden = false;
    context.lineWidth = 3;
    context.lineCap = "round";
    function point(event) {
      var box = canvas.getBoundingClientRect();
      var x = Math.round(((event.clientX - box.left) * canvas.width) / box.width);
      var y = Math.round(((event.clientY - box.top) * canvas.height) / box.height);
      return [Math.max(0, x), Math.max(0, y)];
    }
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      var p = point(event);
      path.push("M " + p[0] + " " + p[1]);
      context.beginPath();
      context.moveTo(p[0], p[1]);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      var p = point(event);
      path.push("L " + p[0] + " " + p[1]);
      context.lineTo(p[0], p[1]);
      context.stroke();
    });
    function end() {
      drawing = false;
      field.value = path.join(" ");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    pad.querySelector("[data-signature-clear]").addEventListener("click", function () {
      path = [];
      field.value = "";
      context.clearRect(0, 0, canvas.width, canvas.height);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-signature-pad]").forEach(setUp);
  });
})();

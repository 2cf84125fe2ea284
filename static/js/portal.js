// Small, CSP-safe behaviour on top of htmx. Every page works without it.
(function () {
  "use strict";

  function showMessage(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    var alert = document.createElement("div");
    alert.className = "alert danger";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    box.replaceChildren(alert);
  }

  // No response at all (network down, server unreachable): say so instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    showMessage(document.body.dataset.networkError);
  });

  // The menu is rendered open (usable without JavaScript); close it on small screens.
  function syncMenu() {
    var menu = document.querySelector("details.menu");
    if (menu) menu.open = window.matchMedia("(min-width: 48rem)").matches;
  }
  document.addEventListener("DOMContentLoaded", syncMenu);

  // A long text's "123 / 4000" (rendered by the server) follows the typing.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!(field instanceof HTMLTextAreaElement) || field.maxLength < 0) return;
    var counter = document.getElementById(field.id + "-count");
    if (!counter) return;
    counter.textContent = field.value.length + " / " + field.maxLength;
    counter.classList.toggle("over", field.value.length > field.maxLength);
  });
  window.addEventListener("resize", syncMenu);
})();

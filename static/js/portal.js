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

  // The module menus of the navigation (<details>, usable without JavaScript): one open at a
  // time; a click elsewhere or Escape closes it.
  function groups() {
    return document.querySelectorAll(".nav-group > details");
  }
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches(".nav-group > details") || !opened.open) return;
    groups().forEach(function (other) {
      if (other !== opened) other.open = false;
    });
  }, true);
  document.addEventListener("click", function (event) {
    groups().forEach(function (group) {
      if (group.open && !group.contains(event.target)) group.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    groups().forEach(function (group) {
      if (!group.open) return;
      var focused = group.contains(document.activeElement);
      group.open = false;
      if (focused) group.querySelector("summary").focus();
    });
  });
})();

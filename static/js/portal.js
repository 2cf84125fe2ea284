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

  // The venue grid (bookings/grid.html): press on a free half hour and drag along the row over
  // free cells to book the whole run; one cell alone follows its own link (as without
  // JavaScript). Mouse and pen only: a finger scrolls the grid.
  var run = null;
  function freeLink(target) {
    var link = target && target.closest ? target.closest("[data-grid] td.c-free > a") : null;
    return link && new URL(link.href).searchParams.has("start") ? link : null;
  }
  function runCells(current) {
    var cells = Array.prototype.slice.call(current.row.cells);
    var a = cells.indexOf(current.first.parentNode), b = cells.indexOf(current.last.parentNode);
    var part = cells.slice(Math.min(a, b), Math.max(a, b) + 1);
    return part.every(function (cell) { return freeLink(cell.firstElementChild); }) ? part : [];
  }
  function markRun(cells) {
    document.querySelectorAll("[data-grid] td.selected").forEach(function (cell) {
      cell.classList.remove("selected");
    });
    cells.forEach(function (cell) { cell.classList.add("selected"); });
  }
  document.addEventListener("pointerdown", function (event) {
    var link = freeLink(event.target);
    if (!link || event.button !== 0 || event.pointerType === "touch") return;
    run = {row: link.closest("tr"), first: link, last: link};
    event.preventDefault(); // no native drag of the link
  });
  document.addEventListener("pointerover", function (event) {
    var link = run && freeLink(event.target);
    if (!link || link.closest("tr") !== run.row) return;
    run.last = link;
    markRun(runCells(run));
  });
  document.addEventListener("pointerup", function () {
    if (!run) return;
    var current = run, cells = runCells(run);
    run = null;
    markRun([]);
    if (current.first === current.last || cells.length < 2) return;
    var url = new URL(cells[0].firstElementChild.href);
    url.searchParams.set("end", new URL(cells[cells.length - 1].firstElementChild.href)
      .searchParams.get("end"));
    window.location.assign(url.toString());
  });
})();

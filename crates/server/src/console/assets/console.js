// rolecall console: progressive enhancement only. Every page works without this file; with it,
// destructive buttons ask first, the resource tree folds, searches and checks whole subtrees,
// and list pages select rows in bulk.
"use strict";

(function () {
  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
  }

  // A button that asks first (e.g. "Delete" beside "Deactivate" in one form).
  function buttonConfirmations() {
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (e) {
        if (!window.confirm(button.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
  }

  function focusErrors() {
    var el = document.querySelector("[data-focus]");
    if (el) el.focus();
  }

  // ---------------------------------------------------------------- resource tree
  function childList(li) {
    for (var i = 0; i < li.children.length; i++) if (li.children[i].tagName === "UL") return li.children[i];
    return null;
  }
  function nodeBox(li) { return li.querySelector(":scope > .node input[data-node]"); }
  function parentLi(li) { var ul = li.parentElement; return ul && ul.closest("li"); }

  function setExpanded(li, open) {
    var t = li.querySelector(":scope > .node .twisty");
    if (!t || t.classList.contains("leaf")) return;
    t.setAttribute("aria-expanded", open ? "true" : "false");
    li.classList.toggle("collapsed", !open);
  }

  function refreshAncestors(li) {
    for (var p = parentLi(li); p; p = parentLi(p)) {
      var box = nodeBox(p);
      var kids = childList(p).querySelectorAll("input[data-node]");
      var any = false, all = true;
      kids.forEach(function (k) { if (k.checked || k.indeterminate) any = true; if (!k.checked) all = false; });
      if (!all && box.checked) box.checked = false; // a grant on the parent would cover every child
      box.indeterminate = !box.checked && any;
    }
  }

  function tree(root) {
    root.querySelectorAll(".twisty").forEach(function (t) {
      t.hidden = false;
      t.addEventListener("click", function () {
        var li = t.closest("li");
        setExpanded(li, t.getAttribute("aria-expanded") !== "true");
      });
    });
    // Start folded below the second level, except where something is checked.
    root.querySelectorAll("li").forEach(function (li) {
      var depth = Number(li.getAttribute("data-depth") || "0");
      var ul = childList(li);
      if (!ul) return;
      var checkedInside = ul.querySelector("input:checked");
      setExpanded(li, depth < 1 || !!checkedInside);
    });
    root.querySelectorAll("li").forEach(function (li) { if (childList(li)) refreshAncestors(childList(li).querySelector("li") || li); });
    root.addEventListener("change", function (e) {
      var box = e.target;
      var li = box.closest("li");
      if (box.hasAttribute("data-node")) {
        var ul = childList(li);
        if (ul) ul.querySelectorAll("input[data-node], input[data-action]").forEach(function (k) { k.checked = box.checked; k.indeterminate = false; });
        li.querySelectorAll(":scope > .node input[data-action]").forEach(function (k) { k.checked = box.checked; });
        refreshAncestors(li);
      } else if (box.hasAttribute("data-action")) {
        var name = box.getAttribute("data-action");
        var sub = childList(li);
        if (sub) sub.querySelectorAll('input[data-action="' + name + '"]').forEach(function (k) { k.checked = box.checked; });
        if (!box.checked) { var own = nodeBox(li); if (own.checked) { own.checked = false; refreshAncestors(li); } }
      }
    });
    var search = document.querySelector("[data-tree-search]");
    if (search) {
      search.hidden = false;
      search.closest("[hidden]") && (search.closest("[hidden]").hidden = false);
      var input = search.querySelector("input");
      var count = search.querySelector("[data-tree-count]");
      input.addEventListener("input", function () {
        var q = input.value.trim().toLowerCase();
        var items = root.querySelectorAll("li");
        items.forEach(function (li) { li.classList.remove("match", "nomatch"); });
        if (!q) { count.textContent = ""; return; }
        var n = 0;
        items.forEach(function (li) {
          var text = (li.getAttribute("data-title") + " " + li.getAttribute("data-id")).toLowerCase();
          if (text.indexOf(q) >= 0) { li.classList.add("match"); n++; }
        });
        items.forEach(function (li) {
          var visible = li.classList.contains("match") || li.querySelector("li.match");
          if (!visible) { li.classList.add("nomatch"); return; }
          if (li.querySelector("li.match")) setExpanded(li, true);
        });
        count.textContent = n + (n === 1 ? " resource matches" : " resources match");
      });
    }
    document.querySelectorAll("[data-tree-expand]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        var open = b.getAttribute("data-tree-expand") === "all";
        root.querySelectorAll("li").forEach(function (li) { if (childList(li)) setExpanded(li, open); });
      });
    });
  }

  // ---------------------------------------------------------------- bulk selection
  function bulk() {
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      var form = document.getElementById(all.getAttribute("form")) || all.closest("form");
      var boxes = function () { return document.querySelectorAll('input[name="ids"][form="' + form.id + '"], form#' + form.id + ' input[name="ids"]'); };
      var counter = document.querySelector("[data-selected-count]");
      var update = function () {
        var n = 0; boxes().forEach(function (b) { if (b.checked) n++; });
        if (counter) counter.textContent = n + " selected";
        all.checked = n > 0 && n === boxes().length;
        all.indeterminate = n > 0 && n < boxes().length;
      };
      all.addEventListener("change", function () { boxes().forEach(function (b) { b.checked = all.checked; }); update(); });
      boxes().forEach(function (b) { b.addEventListener("change", update); });
      update();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    confirmations();
    buttonConfirmations();
    focusErrors();
    document.querySelectorAll(".tree").forEach(tree);
    bulk();
  });
})();

// A grouped checklist made searchable, with the chosen values as removable chips above it.
// Without this script the checklist works as it is.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function labelOf(box) {
    return box.closest("label").textContent.replace(/\s+/g, " ").trim();
  }

  function init(root) {
    if (root.dataset.kbReady) return;
    root.dataset.kbReady = "1";
    var find = root.querySelector("[data-kb-find]");
    var search = root.querySelector("[data-kb-search]");
    var chosen = root.querySelector("[data-kb-chosen]");
    var noMatch = root.querySelector("[data-kb-no-match]");
    var boxes = Array.prototype.slice.call(root.querySelectorAll("input[type=checkbox]"));
    var groups = Array.prototype.slice.call(root.querySelectorAll("[data-kb-group]"));
    find.hidden = false;

    function renderChips() {
      chosen.textContent = "";
      var title = document.createElement("span");
      title.className = "kb-checklist__chosen-label";
      title.textContent = "Chosen:";
      chosen.appendChild(title);
      var picked = boxes.filter(function (box) { return box.checked; });
      if (!picked.length) {
        var none = document.createElement("span");
        none.className = "kb-checklist__none";
        none.textContent = "none yet";
        chosen.appendChild(none);
      }
      picked.forEach(function (box) {
        var chip = document.createElement("button");
        chip.type = "button";
        chip.className = "kb-chip kb-chip--removable";
        chip.dataset.kbChip = box.value;
        chip.setAttribute("aria-label", "Remove " + labelOf(box));
        chip.textContent = labelOf(box) + " ×";
        chip.addEventListener("click", function () {
          box.checked = false;
          box.dispatchEvent(new Event("change", { bubbles: true }));
          search.focus();
        });
        chosen.appendChild(chip);
      });
    }

    function filter() {
      var words = fold(search.value).split(/\s+/).filter(Boolean);
      var matches = function (text) {
        var folded = fold(text);
        return words.every(function (w) { return folded.indexOf(w) !== -1; });
      };
      var shown = 0;
      groups.forEach(function (group) {
        var legend = group.querySelector("legend");
        var groupMatches = !words.length || matches(legend.textContent);
        var any = false;
        group.querySelectorAll(".kb-checklist__item:not(.kb-checklist__item--group)").forEach(function (item) {
          var show = groupMatches || matches(item.textContent);
          item.hidden = !show;
          if (show) any = true;
        });
        group.hidden = !(groupMatches || any);
        if (!group.hidden) shown += 1;
      });
      noMatch.hidden = shown > 0;
    }

    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (event) {
      // Enter here would submit the page form; tick the only match instead.
      if (event.key !== "Enter") return;
      event.preventDefault();
      var visible = boxes.filter(function (box) {
        return !box.closest("label").hidden && !box.closest("[data-kb-group]").hidden;
      });
      if (visible.length === 1 && !visible[0].checked) {
        visible[0].checked = true;
        visible[0].dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    root.addEventListener("change", function (event) {
      if (event.target.matches("input[type=checkbox]")) renderChips();
    });
    renderChips();
  }

  function initAll() {
    document.querySelectorAll("[data-kb-checklist]").forEach(init);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initAll);
  } else {
    initAll();
  }
})();

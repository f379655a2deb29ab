// Progressive enhancement of the search form: it works as a plain GET form without this file.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) return;

  // Ticking a facet or changing the sort submits at once; without JS the "Apply filters" button does.
  form.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-autosubmit")) form.submit();
  });

  var input = document.getElementById("q");
  var url = input && input.getAttribute("data-suggest-url");
  if (!url) return;
  var list = document.createElement("ul");
  list.id = "q-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  input.parentNode.appendChild(list);
  var timer = null;
  var active = -1;
  var controller = null;

  function close() {
    list.hidden = true;
    list.textContent = "";
    active = -1;
  }

  function choose(item) {
    if (item.url) {
      window.location.href = item.url;
    } else {
      input.value = item.text;
      close();
      form.submit();
    }
  }

  function show(items) {
    list.textContent = "";
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = "q-suggestion-" + i;
      // textContent: suggestions are data, never markup.
      li.textContent = item.text + (item.kind === "title" ? "" : " (" + item.kind + ")");
      li.addEventListener("mousedown", function (e) {
        e.preventDefault();
        choose(item);
      });
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
    list._items = items;
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var prefix = input.value.trim();
    if (prefix.length < 2) return close();
    timer = setTimeout(function () {
      if (controller) controller.abort();
      controller = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(prefix), { signal: controller.signal })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { show(data.suggestions || []); })
        .catch(function () {});
    }, 150);
  });

  input.addEventListener("keydown", function (e) {
    var items = list._items || [];
    if (list.hidden || !items.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", "q-suggestion-" + active);
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      choose(items[active]);
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();

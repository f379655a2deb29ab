// Progressive enhancement of the search form: it works as a plain GET form without this file.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) return;
  var REGION = "[data-search-region]";
  var pending = null;

  function region() { return form.querySelector(REGION); }

  // What a member has opened or typed in the filters survives each update of the results.
  function uiState() {
    var r = region();
    var state = { panelOpen: false, more: {}, filters: {}, focus: null };
    var panel = r.querySelector("#filters");
    state.panelOpen = !!(panel && panel.classList.contains("open"));
    r.querySelectorAll("[data-facet-more]").forEach(function (d) {
      state.more[d.getAttribute("data-facet-more")] = d.open;
    });
    r.querySelectorAll("[data-facet-filter]").forEach(function (input) {
      if (input.value) state.filters[input.id] = input.value;
    });
    var active = document.activeElement;
    if (active && r.contains(active)) {
      if (active.name && active.type === "checkbox") {
        state.focus = 'input[name="' + active.name + '"][value="' + CSS.escape(active.value) + '"]';
      } else if (active.id) {
        state.focus = "#" + CSS.escape(active.id);
      }
    }
    return state;
  }

  function enhance(state) {
    var r = region();
    var apply = r.querySelector("[data-apply]");
    if (apply) apply.parentNode.hidden = true;
    r.querySelectorAll("[data-facet-filter-row]").forEach(function (row) { row.hidden = false; });
    var toggle = r.querySelector("[data-filters-toggle]");
    var panel = r.querySelector("#filters");
    if (toggle && panel) {
      toggle.setAttribute("role", "button");
      toggle.setAttribute("aria-expanded", state && state.panelOpen ? "true" : "false");
      if (state && state.panelOpen) panel.classList.add("open");
    }
    if (!state) return;
    Object.keys(state.more).forEach(function (name) {
      var d = r.querySelector('[data-facet-more="' + name + '"]');
      if (d) d.open = state.more[name];
    });
    Object.keys(state.filters).forEach(function (id) {
      var input = document.getElementById(id);
      if (input) { input.value = state.filters[id]; filterFacet(input); }
    });
    if (state.focus) {
      var el = r.querySelector(state.focus);
      if (el) el.focus({ preventScroll: true });
    }
  }

  function filterFacet(input) {
    var fieldset = input.closest("fieldset");
    var words = input.value.trim().toLowerCase();
    var more = fieldset.querySelector("details");
    if (more && words) more.open = true;
    fieldset.querySelectorAll(".facet-value").forEach(function (li) {
      var own = (li.getAttribute("data-label") || "").indexOf(words) !== -1;
      var child = Array.prototype.some.call(li.querySelectorAll(".facet-value"), function (c) {
        return (c.getAttribute("data-label") || "").indexOf(words) !== -1;
      });
      li.classList.toggle("no-match", !!words && !own && !child);
    });
  }

  function paramsOf(url) {
    var u = new URL(url, window.location.href);
    return u.search;
  }

  // Fetch the page for these parameters and swap its results and filters in, keeping the scroll.
  function update(search, opts) {
    opts = opts || {};
    if (pending) pending.abort();
    pending = new AbortController();
    var r = region();
    r.classList.add("loading");
    var state = uiState();
    var url = form.getAttribute("action") + search;
    return fetch(url, { signal: pending.signal, headers: { "X-Requested-With": "fetch" } })
      .then(function (resp) {
        if (!resp.ok) throw new Error(resp.status);
        return resp.text();
      })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.querySelector(REGION);
        if (!fresh) throw new Error("no results in the page");
        var y = window.scrollY;
        region().replaceWith(document.importNode(fresh, true));
        enhance(state);
        document.title = doc.title;
        if (opts.push !== false) history.pushState({ search: search }, "", url);
        if (opts.toResults) {
          var title = document.getElementById("results-title");
          var top = title.getBoundingClientRect().top + window.scrollY - 8;
          window.scrollTo(0, top);
          title.focus({ preventScroll: true });
        } else {
          window.scrollTo(0, y);
        }
      })
      .catch(function (err) {
        if (err.name === "AbortError") return;
        // Whatever went wrong, the plain page still works.
        window.location.href = url;
      });
  }

  function formSearch() {
    var params = new URLSearchParams(new FormData(form));
    Array.from(params.keys()).forEach(function (k) { if (!params.get(k)) params.delete(k); });
    if (params.get("sort") === "relevance") params.delete("sort");
    var s = params.toString();
    return s ? "?" + s : "";
  }

  // Ticking a facet or changing the sort updates the results in place.
  form.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-autosubmit")) update(formSearch());
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var q = document.getElementById("q");
    var params = new URLSearchParams(formSearch());
    // Words submitted are corrected again; only "Search for ... instead" turns that off.
    params.delete("autocorrect");
    params.delete("page");
    var s = params.toString();
    update(s ? "?" + s : "", { toResults: true });
    if (q) q.blur();
  });
  form.addEventListener("input", function (event) {
    if (event.target.hasAttribute("data-facet-filter")) filterFacet(event.target);
  });
  form.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-filters-toggle]");
    var panel = document.getElementById("filters");
    if (toggle && panel) {
      event.preventDefault();
      var open = !panel.classList.contains("open");
      panel.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) panel.focus({ preventScroll: true });
      return;
    }
    if (event.target.closest("[data-filters-close]") && panel) {
      event.preventDefault();
      panel.classList.remove("open");
      var t = document.querySelector("[data-filters-toggle]");
      if (t) t.setAttribute("aria-expanded", "false");
      var title = document.getElementById("results-title");
      title.scrollIntoView();
      title.focus({ preventScroll: true });
      return;
    }
    var link = event.target.closest("a[data-inplace]");
    if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
      event.preventDefault();
      if (link.hasAttribute("data-chip") || link.classList.contains("clear-all")) {
        var heading = document.getElementById("results-title");
        update(paramsOf(link.href)).then(function () {
          var h = document.getElementById("results-title");
          if (h && heading) h.focus({ preventScroll: true });
        });
      } else {
        update(paramsOf(link.href), { toResults: link.hasAttribute("data-page-link") });
      }
      var q = document.getElementById("q");
      var words = new URL(link.href, window.location.href).searchParams.get("q");
      if (q && words !== null) q.value = words;
    }
  });
  window.addEventListener("popstate", function () {
    var words = new URLSearchParams(window.location.search).get("q") || "";
    var q = document.getElementById("q");
    if (q) q.value = words;
    update(window.location.search, { push: false });
  });
  history.replaceState({ search: window.location.search }, "", window.location.href);
  enhance(null);

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
      form.requestSubmit();
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
    // A late answer must not open the list once the member has moved on.
    list.hidden = items.length === 0 || document.activeElement !== input;
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
  form.addEventListener("submit", function () {
    clearTimeout(timer);
    if (controller) controller.abort();
    close();
  });
})();

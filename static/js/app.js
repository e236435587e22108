/*
 * The desk's own small script. No inline scripts anywhere, so a strict CSP can come later.
 *  - htmx requests carry Django's CSRF token (read from the csrftoken cookie).
 *  - After htmx swaps a fragment in, focus moves to its notice or error, so keyboard and
 *    screen-reader users hear what happened.
 *  - A failed htmx request shows a visible message instead of failing silently.
 *  - A filter form marked data-drop-empty leaves empty fields out of the URL it pushes.
 *  - The user menu (a <details>) closes on Escape or a click elsewhere.
 *  - The new-ticket form gets a search box that narrows a long list of stores.
 */
(function () {
  "use strict";

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = cookie("csrftoken");
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
    var source = event.detail.elt;
    if (source && source.hasAttribute && source.hasAttribute("data-drop-empty")) {
      var params = event.detail.parameters;
      Object.keys(params).forEach(function (name) {
        if (params[name] === "" || params[name] === null) delete params[name];
      });
    }
  });

  function closeMenus(except) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.usermenu") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.usermenu[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var toast = document.getElementById("htmx-error");
    if (toast) toast.hidden = true;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var focus = target && target.querySelector ? target.querySelector("[data-focus]") : null;
    if (!focus) {
      var fresh = document.getElementById(target && target.id);
      focus = fresh && fresh.querySelector ? fresh.querySelector("[data-focus]") : null;
    }
    if (focus) focus.focus({ preventScroll: false });
    initStoreSearch(document);
  });

  function showError() {
    var toast = document.getElementById("htmx-error");
    if (toast) {
      toast.hidden = false;
      window.setTimeout(function () { toast.hidden = true; }, 8000);
    }
  }
  document.addEventListener("htmx:responseError", showError);
  document.addEventListener("htmx:sendError", showError);

  /* Narrow a <select> (with optgroups) to the options whose text contains every typed word. */
  function initStoreSearch(root) {
    root.querySelectorAll("[data-store-search]").forEach(function (box) {
      if (box.dataset.ready) return;
      var input = box.querySelector("[data-filter-select]");
      var select = document.getElementById(input.getAttribute("data-filter-select"));
      var counter = box.querySelector("[data-filter-count]");
      if (!select) return;
      box.dataset.ready = "1";
      box.hidden = false;
      var original = select.cloneNode(true);

      input.addEventListener("input", function () {
        var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
        var chosen = select.value;
        var shown = 0;
        var last = null;
        var copy = original.cloneNode(true);
        copy.querySelectorAll("option").forEach(function (option) {
          if (!option.value) return;
          var text = (option.textContent + " " + (option.parentNode.label || "")).toLowerCase();
          var match = words.every(function (w) { return text.indexOf(w) !== -1; });
          if (match) { shown += 1; last = option.value; } else { option.remove(); }
        });
        copy.querySelectorAll("optgroup").forEach(function (group) {
          if (!group.querySelector("option")) group.remove();
        });
        select.innerHTML = copy.innerHTML;
        if (words.length && shown === 1) {
          select.value = last;
        } else {
          select.value = chosen;
          if (select.value !== chosen) select.value = "";
        }
        if (select.value !== chosen) {
          select.dispatchEvent(new Event("change", { bubbles: true }));
        }
        if (counter) {
          counter.textContent = words.length ? (counter.dataset.found || "") + " " + shown : "";
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { initStoreSearch(document); });
})();

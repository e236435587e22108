/*
 * The desk's own small script. No inline scripts anywhere, so a strict CSP can come later.
 *  - htmx requests carry Django's CSRF token (read from the csrftoken cookie).
 *  - After htmx swaps a fragment in, focus moves to its notice or error, so keyboard and
 *    screen-reader users hear what happened.
 *  - A failed htmx request shows a visible message instead of failing silently.
 *  - A filter form marked data-drop-empty leaves empty fields out of the URL it pushes.
 *  - The user menu (a <details>) closes on Escape or a click elsewhere.
 *  - The new-ticket form gets a search box that narrows a long list of stores.
 *  - SLA countdowns tick between the panel's refreshes. The server says how many working
 *    seconds are left (or over), whether the calendar is open now and when that changes;
 *    the script only moves the seconds while it is open and asks the server for a fresh
 *    panel at a change or at zero. It knows no calendar and decides nothing.
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

  function formatCountdown(total) {
    var seconds = Math.max(0, Math.floor(total));
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    return hours + ":" + (minutes < 10 ? "0" : "") + minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  var countdowns = [];
  var countdownTimer = null;

  /* Collect the countdowns of every SLA panel on the page (again after each swap). */
  function initCountdowns() {
    countdowns = [];
    document.querySelectorAll("[data-clock-panel]").forEach(function (panel) {
      var serverNow = Date.parse(panel.getAttribute("data-now"));
      var started = performance.now();
      panel.querySelectorAll("[data-countdown]").forEach(function (el) {
        var change = Date.parse(el.getAttribute("data-next-change") || "");
        countdowns.push({
          el: el,
          panel: panel,
          started: started,
          seconds: parseInt(el.getAttribute("data-seconds"), 10) || 0,
          down: el.getAttribute("data-direction") !== "up",
          counting: el.getAttribute("data-counting") === "true",
          // Seconds from the render until the calendar opens or closes (Infinity: not soon).
          changeAfter: isNaN(change) || isNaN(serverNow) ? Infinity : (change - serverNow) / 1000,
        });
      });
    });
    if (countdowns.length && countdownTimer === null) {
      countdownTimer = window.setInterval(tickCountdowns, 1000);
    } else if (!countdowns.length && countdownTimer !== null) {
      window.clearInterval(countdownTimer);
      countdownTimer = null;
    }
  }

  function tickCountdowns() {
    var refresh = [];
    countdowns.forEach(function (c) {
      var elapsed = (performance.now() - c.started) / 1000;
      var moved = c.counting ? Math.min(elapsed, c.changeAfter) : 0;
      var value = c.down ? c.seconds - moved : c.seconds + moved;
      var text = formatCountdown(value);
      if (c.el.textContent !== text) c.el.textContent = text;
      var reachedZero = c.counting && c.down && value <= 0;
      if ((elapsed >= c.changeAfter || reachedZero) && refresh.indexOf(c.panel) === -1) {
        refresh.push(c.panel);
      }
    });
    refresh.forEach(function (panel) {
      if (panel.dataset.refreshing) return;
      panel.dataset.refreshing = "1";  // once; the fresh panel replaces this element
      if (window.htmx) window.htmx.trigger(panel, "clocks-refresh");
    });
  }

  document.addEventListener("htmx:afterSettle", initCountdowns);
  document.addEventListener("DOMContentLoaded", function () {
    initStoreSearch(document);
    initCountdowns();
  });
})();

/*
 * Field check-in: the form marked data-geo-checkin takes the phone's position. When its
 * latitude/longitude fields are empty, the submit waits for navigator.geolocation, fills
 * them and sends; if the position is denied or unavailable, it says so and leaves the
 * fields for the engineer to type (the form works without this script too).
 */
(function () {
  "use strict";

  function say(form, key) {
    var status = form.querySelector("[data-geo-status]");
    if (status && form.getAttribute(key)) status.textContent = form.getAttribute(key);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-geo-checkin")) return;
    var lat = form.querySelector('[data-geo="latitude"]');
    var lon = form.querySelector('[data-geo="longitude"]');
    if (!lat || !lon || (lat.value && lon.value) || form.dataset.geoAsked) return;
    if (!navigator.geolocation) {
      event.preventDefault();
      form.dataset.geoAsked = "1";
      say(form, "data-geo-denied");
      lat.focus();
      return;
    }
    event.preventDefault();
    form.dataset.geoAsked = "1";
    say(form, "data-geo-wait");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        form.submit();
      },
      function () {
        say(form, "data-geo-denied");
        lat.focus();
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
})();

// The dashboard's charts and its refresh. The tables in the page carry every figure (screen readers
// and printing use them); the charts draw the same data. No inline script or style: CSP stays strict.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || typeof Chart === "undefined") return;
  var url = root.getAttribute("data-url");
  var every = parseInt(root.getAttribute("data-refresh-seconds"), 10) || 60;
  var charts = {};

  function bar(id, rows) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var data = {
      labels: rows.map(function (row) { return row.label; }),
      datasets: [
        { label: "Invited", data: rows.map(function (row) { return row.invited; }), backgroundColor: "#adb5bd" },
        { label: "Started", data: rows.map(function (row) { return row.started; }), backgroundColor: "#ffc107" },
        { label: "Completed", data: rows.map(function (row) { return row.completed; }), backgroundColor: "#198754" }
      ]
    };
    if (charts[id]) {
      charts[id].data = data;
      charts[id].update();
    } else {
      charts[id] = new Chart(canvas, { type: "bar", data: data, options: { responsive: true, animation: false } });
    }
  }

  function timeline(rows) {
    var canvas = document.getElementById("chart-timeline");
    if (!canvas) return;
    var data = {
      labels: rows.map(function (row) { return row.day; }),
      datasets: ["invited", "started", "completed"].map(function (key, index) {
        return {
          label: key.charAt(0).toUpperCase() + key.slice(1),
          data: rows.map(function (row) { return row[key]; }),
          borderColor: ["#6c757d", "#b58105", "#198754"][index],
          pointStyle: rows.map(function (row) { return row.reminder ? "triangle" : "circle"; }),
          pointRadius: rows.map(function (row) { return row.reminder ? 6 : 2; })
        };
      })
    };
    if (charts.timeline) {
      charts.timeline.data = data;
      charts.timeline.update();
    } else {
      charts.timeline = new Chart(canvas, { type: "line", data: data, options: { responsive: true, animation: false } });
    }
  }

  function figures(total) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-figure]"), function (element) {
      var value = total[element.getAttribute("data-figure")];
      if (value === undefined || value === null) return;
      element.textContent = element.hasAttribute("data-percent") ? Math.round(value * 100) + "%" : String(value);
    });
  }

  function draw(data) {
    figures(data.total);
    bar("chart-region", data.by_region);
    bar("chart-wave", data.by_wave);
    timeline(data.timeline);
    var stamp = document.getElementById("refreshed-at");
    if (stamp && data.computed_at) {
      stamp.setAttribute("datetime", data.computed_at);
      stamp.textContent = new Date(data.computed_at).toLocaleString();  // with the date: a snapshot may be old
    }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) draw(data); })
      .catch(function () { /* offline for a moment: the next refresh tries again */ });
  }

  window.consultationDashboard = { refresh: refresh, charts: charts };
  refresh();
  setInterval(refresh, every * 1000);
})();

// The SLA report's bar chart of on-time rates per step; the table beside it has the figures.
(function () {
  "use strict";
  var canvas = document.getElementById("sla-chart");
  if (!canvas || !window.Chart) { return; }
  var data = JSON.parse(canvas.getAttribute("data-chart"));
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: data.labels, datasets: [{ label: data.label, data: data.values, backgroundColor: "#1d6f42" }] },
    options: { indexAxis: "y", animation: false, scales: { x: { min: 0, max: 100 } }, maintainAspectRatio: false }
  });
}());

// The map of /meldungen: one marker per report, from the JSON the page carries.
(function () {
  "use strict";
  var holder = document.getElementById("map");
  var source = document.getElementById("reports-data");
  if (!holder || !source || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var map = L.map(holder, { scrollWheelZoom: false }).setView(data.center, data.zoom);
  L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution }).addTo(map);
  var bounds = [];
  data.reports.forEach(function (report) {
    var marker = L.circleMarker([report.lat, report.lon], {
      radius: 9,
      weight: 2,
      color: report.open ? "#b3261e" : "#2e7d32",
      fillOpacity: 0.6,
    }).addTo(map);
    var popup = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = report.title;
    var details = document.createElement("div");
    details.textContent = report.place + " · " + report.status;
    var link = document.createElement("a");
    link.href = "#report-" + report.id;
    link.textContent = data.more;
    popup.appendChild(title);
    popup.appendChild(details);
    popup.appendChild(link);
    marker.bindPopup(popup);
    bounds.push([report.lat, report.lon]);
  });
  if (bounds.length > 1) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
  }
  holder.setAttribute("data-ready", String(data.reports.length));
})();

/* gridgov planner map: the events layer (事件). Points at high zoom for the planner role, counts per grid below
   (and for everyone else: public reads are aggregated to the grid). Filters by category, status and dates. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  const POINT_ZOOM = 16; // from here on, single events (planner key only)
  const COLORS = ["#d9480f", "#c92a2a", "#5f3dc4", "#1971c2", "#2b8a3e", "#e67700", "#0b7285"];
  const zh = () => !String(gg.lang).startsWith("en");
  const ev = { layer: null, filters: { category: "", status: "", since: "", until: "" }, catalogue: null, seq: 0 };
  gg.events = ev;

  const words = {
    layer: ["事件", "Events"], category: ["类别", "Category"], status: ["状态", "Status"], all: ["全部", "All"],
    since: ["起", "From"], until: ["止", "To"], events: ["上报", "Reported"], open: ["未办结", "Open"],
    overdue: ["超期", "Overdue"], grid: ["网格", "Grid"], now: ["现责任", "Now with"], need_key: [
      "放大后查看单个事件需规划人员密钥；当前显示按网格汇总", "Single events need a planner key; showing counts per grid"],
  };
  const w = (key) => words[key][zh() ? 0 : 1];

  function color(code) {
    const cats = (ev.catalogue && ev.catalogue.categories) || [];
    const i = cats.findIndex((c) => c.code === code);
    return COLORS[(i < 0 ? cats.length : i) % COLORS.length];
  }
  function catName(code) {
    const c = ((ev.catalogue && ev.catalogue.categories) || []).find((x) => x.code === code);
    return c ? (zh() ? c.name : c.name_en) : code;
  }
  function statusName(code) {
    const s = ((ev.catalogue && ev.catalogue.statuses) || []).find((x) => x.code === code);
    return s ? (zh() ? s.name : s.name_en) : code;
  }

  function params(extra) {
    const f = ev.filters;
    return Object.assign({ category: f.category, status: f.status, since: f.since, until: f.until }, extra);
  }

  function pointPopup(p) {
    const resp = p.responsible;
    return "<strong>" + gg.esc(catName(p.category)) + "</strong> · " + gg.esc(statusName(p.status))
      + (p.overdue ? ' <span class="gg-flag-over">' + w("overdue") + "</span>" : "")
      + "<br>" + gg.esc(p.description || "") + "<br>" + w("grid") + " " + gg.esc(p.grid_code)
      + (resp && resp.reassigned ? "<br>" + w("now") + " " + gg.esc(resp.community_code + " / " + resp.grid_code)
        + " (" + gg.esc(resp.since) + ")" : "")
      + "<br><small>#" + gg.esc(p.id) + " · " + gg.esc(String(p.reported_at).slice(0, 16).replace("T", " ")) + "</small>";
  }

  function gridPopup(p) {
    const cats = Object.entries(p.by_category || {}).map(([c, n]) => gg.esc(catName(c)) + " " + gg.num(n)).join("、");
    return "<strong>" + gg.esc(p.name) + "</strong> · " + gg.esc(p.code) + "<br>" + w("events") + " " + gg.num(p.events)
      + " · " + w("open") + " " + gg.num(p.open) + " · " + w("overdue") + " " + gg.num(p.overdue)
      + (cats ? "<br>" + cats : "");
  }

  function dominant(p) {
    const entries = Object.entries(p.by_category || {});
    if (!entries.length) return "";
    return entries.sort((a, b) => b[1] - a[1])[0][0];
  }

  async function refresh() {
    if (!ev.layer || !gg.map.hasLayer(ev.layer)) return;
    const seq = ++ev.seq;
    const bbox = gg.bboxParam(gg.viewBbox(0.1));
    const points = gg.map.getZoom() >= POINT_ZOOM && gg.apiKey();
    let data;
    try {
      data = points
        ? await gg.api("/events" + gg.query(params({ format: "geojson", bbox: bbox, limit: 2000 }), false))
        : await gg.api("/events/grids" + gg.query(params({ format: "geojson", geometry: "point", bbox: bbox,
          status: undefined }), true));
    } catch (err) {
      if (points && err.status >= 401 && err.status <= 403) gg.notify(w("need_key"), "info", 4000);
      else gg.showError(err, w("layer"));
      return;
    }
    if (seq !== ev.seq) return; // a newer view answered first
    ev.layer.clearLayers();
    const maxCount = Math.max(1, ...data.features.map((f) => f.properties.events || f.properties.open || 0));
    gg.geoJSON(data, {
      pointToLayer: (f, latlng) => {
        const p = f.properties;
        if (points) {
          return L.circleMarker(latlng, { radius: 6, weight: p.overdue ? 3 : 1, color: p.overdue ? "#000" : "#fff",
            fillColor: color(p.category), fillOpacity: 0.9 });
        }
        const n = p.events || p.open || 0;
        return L.circleMarker(latlng, { radius: 3 + 14 * Math.sqrt(n / maxCount), weight: p.overdue ? 2 : 1,
          color: p.overdue ? "#c92a2a" : "#fff", fillColor: color(dominant(p)), fillOpacity: 0.6 });
      },
      onEachFeature: (f, layer) => layer.bindPopup(points ? pointPopup(f.properties) : gridPopup(f.properties)),
    }).eachLayer((l) => ev.layer.addLayer(l));
    document.body.dataset.eventsShown = String(data.features.length);
  }

  function filterControl() {
    const control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      const div = L.DomUtil.create("div", "gg-events-filter leaflet-bar");
      div.style.background = "#fff";
      div.style.padding = "4px 6px";
      const cats = (ev.catalogue.categories || []).map((c) => '<option value="' + gg.esc(c.code) + '">'
        + gg.esc(zh() ? c.name : c.name_en) + "</option>").join("");
      const stats = (ev.catalogue.statuses || []).map((s) => '<option value="' + gg.esc(s.code) + '">'
        + gg.esc(zh() ? s.name : s.name_en) + "</option>").join("");
      div.innerHTML = "<strong>" + w("layer") + "</strong> "
        + '<select id="gg-ev-cat" aria-label="' + w("category") + '"><option value="">' + w("category") + ": "
        + w("all") + "</option>" + cats + "</select> "
        + '<select id="gg-ev-status" aria-label="' + w("status") + '"><option value="">' + w("status") + ": "
        + w("all") + "</option>" + stats + "</select> "
        + '<input id="gg-ev-since" type="date" aria-label="' + w("since") + '"> – '
        + '<input id="gg-ev-until" type="date" aria-label="' + w("until") + '">';
      L.DomEvent.disableClickPropagation(div);
      div.addEventListener("change", () => {
        ev.filters = { category: div.querySelector("#gg-ev-cat").value, status: div.querySelector("#gg-ev-status").value,
          since: div.querySelector("#gg-ev-since").value, until: div.querySelector("#gg-ev-until").value };
        refresh();
      });
      return div;
    };
    return control;
  }

  ev.start = async function () {
    try {
      ev.catalogue = await gg.api("/events/categories");
    } catch (err) {
      return; // an API without events: no layer
    }
    ev.layer = L.layerGroup();
    const control = filterControl();
    if (gg.layerControl) gg.layerControl.addOverlay(ev.layer, w("layer"));
    gg.map.on("overlayadd", (e) => { if (e.layer === ev.layer) { control.addTo(gg.map); refresh(); } });
    gg.map.on("overlayremove", (e) => { if (e.layer === ev.layer) control.remove(); });
    gg.map.on("moveend", () => refresh());
  };

  // Start once the page's own init has made the map (this script loads after main.js).
  const init = gg.init;
  gg.init = function (config) {
    const ready = init(config);
    ev.start();
    return ready;
  };
})(window.gg);

/* gridgov planner map: the side panel (unit, station), the nearest-station tool and search. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  // ---- side panel ------------------------------------------------------------------------------
  gg.panel = {
    show: function (html, kind) {
      const panel = document.getElementById("gg-panel");
      const body = document.getElementById("gg-panel-body");
      body.innerHTML = html;
      if (kind !== "station" && gg.layers.rings) gg.layers.rings.clearLayers(); // rings belong to a station's panel
      if (kind !== "compare" && gg.clearCompare) gg.clearCompare();
      panel.dataset.kind = kind || "";
      panel.hidden = false;
      document.body.classList.add("gg-panel-open");
      body.scrollTop = 0;
      if (gg.writeHash) gg.writeHash();
      if (gg.fitLegend) gg.fitLegend();
      return body;
    },
    close: function () {
      document.getElementById("gg-panel").hidden = true;
      document.body.classList.remove("gg-panel-open");
      gg.layers.selection.clearLayers();
      gg.layers.rings.clearLayers();
      if (gg.clearCompare) gg.clearCompare();
      if (gg.state.tool === "nearest") gg.setTool("nearest"); // closing the tool's panel ends the tool
      gg.layers.nearest.clearLayers();
      if (gg.writeHash) gg.writeHash();
      if (gg.fitLegend) gg.fitLegend();
    },
    kind: function () {
      const panel = document.getElementById("gg-panel");
      return panel.hidden ? null : panel.dataset.kind;
    },
  };

  function table(rows) {
    return '<table class="gg-table">' + rows.map(([k, v, cls]) => "<tr" + (cls ? ' class="' + cls + '"' : "") + "><th>"
      + k + "</th><td>" + v + "</td></tr>").join("") + "</table>";
  }
  gg.table = table;

  function totalsRows(p) {
    return [
      [gg.t("residents"), gg.num(p.residents)], [gg.t("households"), gg.num(p.households)],
      [gg.t("buildings"), gg.num(p.buildings)], [gg.t("workers"), gg.num(p.workers)],
      [gg.t("elderly"), gg.num(p.elderly)], [gg.t("children"), gg.num(p.children)],
      [gg.t("special_care"), gg.num(p.special_care)],
    ];
  }

  function loadBadge(load) {
    const band = gg.loadClass(load);
    const norm = gg.config.styles.residentsPerWorkerNorm;
    const ratio = load ? Math.round((load / norm - 1) * 100) : null;
    const verdict = load === null || load === undefined ? gg.t("load_no_workers")
      : (ratio > 0 ? gg.t("load_over_norm", { pct: ratio }) : gg.t("load_within_norm"));
    return '<div class="gg-load" data-load="' + (load === null || load === undefined ? "" : load) + '"><i style="background:'
      + band.color + '"></i><b>' + gg.num(load, 0) + "</b> " + gg.t("load_unit") + "<br><small>" + gg.esc(verdict)
      + " · " + gg.t("norm") + " ≤ " + gg.num(norm) + "</small></div>";
  }

  /** The /load endpoint's judgement (ratio to the target, over/under/ok), when the API has it. */
  function loadVerdict(row) {
    if (!row || !row.flag) return "";
    return '<p class="gg-verdict gg-verdict-' + gg.esc(row.flag) + '" data-flag="' + gg.esc(row.flag) + '">'
      + gg.t("load_flag_" + row.flag) + (typeof row.ratio === "number" ? " · " + gg.t("load_ratio", { pct: gg.num(row.ratio * 100) })
        : "") + "</p>";
  }

  function highlight(geometry) {
    gg.layers.selection.clearLayers();
    if (geometry) {
      gg.geoJSON(geometry, { style: gg.config.styles.units.selected, interactive: false, pane: "ggTop" })
        .addTo(gg.layers.selection);
    }
  }

  function kindLabel(level, kind) {
    return kind ? gg.t("unit_kind_" + kind) : gg.t("level_" + level);
  }

  /** The panel of a community (or sub-district, or grid): totals, load, its grids and stations. */
  gg.showUnit = async function (level, code, extra) {
    const collection = { subdistrict: "subdistricts", community: "communities", grid: "grids" }[level];
    let feature;
    try {
      feature = await gg.api("/collections/" + collection + "/items/" + encodeURIComponent(code) + gg.query({}));
    } catch (err) {
      gg.showError(err, gg.t("err_unit", { code: code }));
      return;
    }
    const p = feature.properties;
    highlight(feature.geometry);
    const crumbs = (extra && extra.crumbs) || [];
    let html = '<nav class="gg-crumbs">' + crumbs.map((c) => '<a href="#" data-level="' + c.level + '" data-code="'
      + gg.esc(c.code) + '">' + gg.esc(gg.name(c)) + "</a>").join(" › ") + "</nav>";
    html += '<h2 data-code="' + gg.esc(p.code) + '">' + gg.esc(gg.name(p)) + '</h2><p class="gg-sub">'
      + gg.esc(kindLabel(level, p.kind)) + " · " + gg.esc(p.code) + (gg.state.asOf ? " · " + gg.t("as_of") + " " + gg.state.asOf : "")
      + "</p>";
    if (level === "community") html += loadBadge(gg.loadOf(p)) + loadVerdict(gg.loadRows[p.code]);
    html += table(totalsRows(p));
    html += '<div id="gg-unit-children"><p class="gg-muted">' + gg.t("loading") + "</p></div>";
    const body = gg.panel.show(html, "unit");
    if (extra && extra.fit) gg.fitFree(extra.fit); // once the panel is open: the unit lands in the map left free
    body.querySelectorAll(".gg-crumbs a").forEach((a) => a.addEventListener("click", (e) => {
      e.preventDefault();
      gg.showUnit(a.dataset.level, a.dataset.code, { crumbs: crumbs.filter((c) => c.code.length < a.dataset.code.length) });
    }));
    if (level !== "grid") await showChildren(level, p, feature.geometry);
    else document.getElementById("gg-unit-children").innerHTML = "";
  };

  async function showChildren(level, p, geometry) {
    const box = gg.geometryBbox(geometry);
    const childCollection = level === "community" ? "grids" : "communities";
    const target = document.getElementById("gg-unit-children");
    try {
      const [children, stations] = await Promise.all([
        gg.api("/collections/" + childCollection + "/items" + gg.query({ bbox: gg.bboxParam(box), limit: 1000 })),
        gg.api("/collections/stations/items" + gg.query({ bbox: gg.bboxParam(box), limit: 1000 })),
      ]);
      const kids = children.features.filter((f) => f.properties.parent_code === p.code);
      const own = stations.features.filter((f) => level === "community" ? f.properties.community_code === p.code
        : (f.properties.community_code || "").startsWith(p.code));
      let html = "<h3>" + gg.t(level === "community" ? "grids_of" : "communities_of", { n: kids.length }) + "</h3>";
      html += '<table class="gg-table gg-list"><tr><th>' + gg.t("name") + "</th><th>" + gg.t("households") + "</th><th>"
        + gg.t("residents") + "</th></tr>" + kids.map((f) => {
        const k = f.properties;
        const flag = level === "community" && (k.households < 300 || k.households > 500) ? ' class="gg-flag" title="'
          + gg.esc(gg.t("grid_band")) + '"' : "";
        return '<tr data-code="' + gg.esc(k.code) + '"><td><a href="#" data-level="' + (level === "community" ? "grid" : "community")
          + '" data-code="' + gg.esc(k.code) + '">' + gg.esc(gg.name(k)) + "</a></td><td" + flag + ">" + gg.num(k.households)
          + "</td><td>" + gg.num(k.residents) + "</td></tr>";
      }).join("") + "</table>";
      html += "<h3>" + gg.t("stations_of", { n: own.length }) + '</h3><ul class="gg-stations">' + own.map((f) =>
        '<li data-code="' + gg.esc(f.properties.code) + '"><a href="#">' + gg.esc(gg.name(f.properties)) + "</a> <small>"
        + gg.t("kind_" + f.properties.kind) + "</small></li>").join("") + "</ul>";
      target.innerHTML = html;
      target.querySelectorAll("a[data-level]").forEach((a) => a.addEventListener("click", (e) => {
        e.preventDefault();
        gg.showUnit(a.dataset.level, a.dataset.code, { crumbs: [{ level: level, code: p.code, name: p.name, name_en: p.name_en }] });
      }));
      target.querySelectorAll(".gg-stations li").forEach((li, i) => li.querySelector("a").addEventListener("click", (e) => {
        e.preventDefault();
        const f = own[i];
        gg.map.setView(gg.ll(f.geometry.coordinates[0], f.geometry.coordinates[1]), Math.max(gg.map.getZoom(), 15));
        gg.showStation(f);
      }));
    } catch (err) {
      target.innerHTML = '<p class="gg-error">' + gg.esc(gg.showError(err, gg.t("err_children"))) + "</p>";
    }
  }

  /** A click on the map with no tool: which units are here, then the community's panel. */
  gg.inspect = async function (lonlat) {
    const found = await gg.locateAt(lonlat);
    if (!found) return;
    const crumbs = ["district", "subdistrict", "community", "grid"].filter((lv) => found[lv]).map((lv) => found[lv]);
    const target = found.community || found.subdistrict;
    if (!target) {
      gg.notify(gg.t("outside_units"), "info");
      return;
    }
    await gg.showUnit(target.level, target.code, { crumbs: crumbs });
  };

  // ---- stations --------------------------------------------------------------------------------
  gg.showStation = function (feature) {
    const p = feature.properties;
    const c = feature.geometry.coordinates;
    gg.showRings(c[0], c[1]);
    const rings = gg.config.styles.rings.map((r, i) => '<li><i style="border-color:' + r.color + '"></i>'
      + gg.t("ring_label", { m: r.radius, min: [5, 10, 15][i] }) + "</li>").join("");
    gg.panel.show("<h2 data-code=\"" + gg.esc(p.code) + "\">" + gg.esc(gg.name(p)) + '</h2><p class="gg-sub">'
      + gg.t("kind_" + p.kind) + " · " + gg.esc(p.code) + "</p>"
      + table([[gg.t("capacity"), gg.num(p.capacity)], [gg.t("community"), gg.esc(p.community_name || p.community_code || "")],
        [gg.t("coordinates"), c[1].toFixed(5) + ", " + c[0].toFixed(5)]])
      + "<h3>" + gg.t("life_circles") + '</h3><ul class="gg-rings">' + rings + "</ul>", "station");
  };

  // ---- nearest stations tool -------------------------------------------------------------------
  const nearestSettings = { kind: "", maxKm: "" };

  /** The tool's settings (station kind, farthest distance); the results follow under them. */
  gg.showNearestForm = function (resultsHtml, subtitle) {
    const kinds = Object.keys(gg.config.styles.stations);
    const html = "<h2>" + gg.t("tool_nearest") + '</h2><p class="gg-sub">' + (subtitle || gg.t("nearest_hint")) + "</p>"
      + '<form id="gg-nearest-form" class="gg-form gg-pair">'
      + "<label>" + gg.t("station_kind") + ' <select id="gg-nearest-kind"><option value="">' + gg.t("all_kinds") + "</option>"
      + kinds.map((k) => '<option value="' + gg.esc(k) + '"' + (k === nearestSettings.kind ? " selected" : "") + ">"
        + gg.t("kind_" + k) + "</option>").join("") + "</select></label>"
      + "<label>" + gg.t("max_distance_km") + ' <input id="gg-nearest-max" type="number" min="0.1" step="0.1" placeholder="'
      + gg.t("no_limit") + '" value="' + gg.esc(nearestSettings.maxKm) + '"></label></form>'
      + '<div id="gg-nearest-results">' + (resultsHtml || "") + "</div>";
    const body = gg.panel.show(html, "nearest");
    const kind = body.querySelector("#gg-nearest-kind");
    const max = body.querySelector("#gg-nearest-max");
    kind.addEventListener("change", () => { nearestSettings.kind = kind.value; if (lastPoint) gg.nearest(lastPoint); });
    max.addEventListener("change", () => { nearestSettings.maxKm = max.value; if (lastPoint) gg.nearest(lastPoint); });
    return body;
  };
  let lastPoint = null;

  gg.nearest = async function (lonlat) {
    lastPoint = lonlat;
    const k = Math.max(1, Math.min(20, parseInt(document.getElementById("gg-k").value, 10) || 3));
    const maxKm = parseFloat(nearestSettings.maxKm);
    let data;
    try {
      data = await gg.api("/stations/nearest" + gg.query({ lon: lonlat[0].toFixed(6), lat: lonlat[1].toFixed(6), k: k,
        kind: nearestSettings.kind || undefined, max_distance_m: maxKm > 0 ? Math.round(maxKm * 1000) : undefined }));
    } catch (err) {
      gg.showError(err, gg.t("err_nearest"));
      return;
    }
    const group = gg.layers.nearest;
    group.clearLayers();
    const from = gg.ll(lonlat[0], lonlat[1]);
    L.circleMarker(from, { radius: 6, color: "#004d40", fillColor: "#fff", fillOpacity: 1, weight: 3, pane: "ggTop" }).addTo(group);
    const style = gg.config.styles.units.nearest_line;
    data.features.forEach((f) => {
      const c = f.geometry.coordinates;
      const to = gg.ll(c[0], c[1]);
      L.polyline([from, to], Object.assign({ pane: "ggTop", interactive: false }, style)).addTo(group);
      L.marker(to, { icon: gg.stationIcon(f.properties.kind, 30), zIndexOffset: 1000 }).addTo(group)
        .bindTooltip(f.properties.rank + " · " + gg.dist(f.properties.distance_m), { permanent: true, direction: "right",
          offset: [14, 0], className: "gg-dist" });
    });
    const rows = data.features.map((f) => {
      const p = f.properties;
      return '<li data-code="' + gg.esc(p.code) + '" data-rank="' + p.rank + '" data-distance="' + p.distance_m + '">'
        + gg.esc(gg.name(p)) + ' <span class="gg-dist-val">' + gg.dist(p.distance_m) + "</span><br><small>"
        + gg.t("kind_" + p.kind) + " · " + gg.esc(p.community_name || p.community_code || "") + "</small></li>";
    });
    const results = "<h3>" + gg.t("nearest_title", { k: data.features.length }) + '</h3><ol class="gg-nearest">' + rows.join("")
      + "</ol>" + (data.features.length ? "" : "<p>" + gg.t("nearest_none") + "</p>");
    gg.showNearestForm(results, lonlat[1].toFixed(5) + ", " + lonlat[0].toFixed(5));
    const all = L.latLngBounds([from].concat(data.features.map((f) => gg.ll(f.geometry.coordinates[0], f.geometry.coordinates[1]))));
    if (!gg.freeBounds().contains(all)) gg.fitFree(all.pad(0.2));
  };

  // ---- search ----------------------------------------------------------------------------------
  let searchTimer = null;
  let searchSeq = 0;
  let results = [];

  async function runSearch(text) {
    const list = document.getElementById("gg-search-results");
    const seq = ++searchSeq;
    if (!text.trim()) {
      list.hidden = true;
      return;
    }
    try {
      const data = await gg.api("/map/search" + gg.query({ q: text.trim(), limit: 50 }));
      if (seq !== searchSeq) return;
      results = data.results;
      list.innerHTML = results.length ? results.map((r, i) => '<li role="option" data-index="' + i + '" data-code="'
        + gg.esc(r.code) + '" data-type="' + gg.esc(r.type) + '"><b>' + gg.esc(gg.name(r)) + "</b> <small>"
        + gg.t(r.type === "building" ? "building" : "layer_" + r.layer) + " · " + gg.esc(r.code) + "</small></li>").join("")
        + (data.numberMatched > results.length ? '<li class="gg-muted">' + gg.t("search_more", { n: data.numberMatched - results.length })
          + "</li>" : "") : '<li class="gg-muted">' + gg.t("search_none") + "</li>";
      list.hidden = false;
    } catch (err) {
      gg.showError(err, gg.t("err_search"));
    }
  }

  gg.choose = function (r) {
    document.getElementById("gg-search-results").hidden = true;
    document.getElementById("gg-search-input").value = gg.name(r);
    const bounds = gg.bounds(r.bbox);
    if (r.type === "station") {
      gg.map.setView(bounds.getCenter(), 17);
      const f = (gg.features.stations || {})[r.code];
      gg.showStation(f || { properties: r, geometry: { type: "Point", coordinates: [r.bbox[0], r.bbox[1]] } });
      return;
    }
    if (r.type === "building") { // its grid's panel, the building marked
      const at = bounds.getCenter();
      gg.showUnit("grid", r.grid_code, { crumbs: [] }).then(() => {
        gg.map.setView(at, Math.max(gg.map.getZoom(), 17));
        L.circleMarker(at, { radius: 9, color: "#d81b60", weight: 3, fill: false, pane: "ggTop", interactive: false })
          .bindTooltip(gg.esc(r.name) + "<br>" + gg.t("households") + " " + gg.num(r.households) + " · " + gg.t("residents") + " "
            + gg.num(r.residents), { permanent: true, direction: "top", offset: [0, -8] }).addTo(gg.layers.selection);
      });
      return;
    }
    const level = { subdistricts: "subdistrict", communities: "community", grids: "grid" }[r.layer];
    gg.showUnit(level, r.code, { crumbs: [], fit: bounds });
  };

  gg.initSearch = function () {
    const form = document.getElementById("gg-search");
    const input = document.getElementById("gg-search-input");
    const list = document.getElementById("gg-search-results");
    input.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => runSearch(input.value), 200);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearTimeout(searchTimer);
      await runSearch(input.value);
      if (results.length) gg.choose(results[0]);
    });
    list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-index]");
      if (li) gg.choose(results[Number(li.dataset.index)]);
    });
    document.addEventListener("click", (e) => { if (!form.contains(e.target)) list.hidden = true; });
  };
})(window.gg);

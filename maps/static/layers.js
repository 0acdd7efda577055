/* gridgov planner map: data layers loaded by viewport, the legend, life-circle rings, pending proposals. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  const loaded = {}; // layer id -> {bbox, zoom, key} of what is on the map
  const generation = {}; // layer id -> number of the newest request (older answers are dropped)
  gg.features = {}; // layer id -> {code: feature} of what is on the map (WGS84 GeoJSON features)
  gg.loadTable = null; // code -> residents per worker from GET /load, when the API has it
  gg.loadRows = {}; // code -> the whole /load row (ratio to the target, over/under flag)

  function viewKey() {
    return (gg.state.asOf || "") + "|" + (gg.state.gcj ? "gcj" : "wgs") + "|" + (gg.state.heatWeight || "residents");
  }

  /** Communities' load: /load when available, else residents / workers from the layer's totals. */
  gg.loadOf = function (props) {
    if (gg.loadTable && Object.prototype.hasOwnProperty.call(gg.loadTable, props.code)) return gg.loadTable[props.code];
    if (props.load !== undefined) return props.load;
    return props.workers ? props.residents / props.workers : null; // an OGC feature: totals only
  };
  gg.loadClass = function (load) {
    const styles = gg.config.styles;
    if (load === null || load === undefined || Number.isNaN(load)) return styles.noWorkers;
    for (const band of styles.loadClasses) {
      if (band.upper === null || load < band.upper) return band;
    }
    return styles.loadClasses[styles.loadClasses.length - 1];
  };

  // Sub-district outlines above the communities' fills, grid outlines between (panes made in gg.init).
  const PANES = { subdistricts: "ggOutline", communities: "overlayPane", grids: "ggGrids" };

  function label(text, at, className) {
    return L.marker(at, {
      interactive: false, keyboard: false,
      icon: L.divIcon({ className: "gg-label " + className, html: "<span>" + gg.esc(text) + "</span>", iconSize: null }),
    });
  }

  function unitStyle(id) {
    const styles = gg.config.styles.units;
    if (id !== "communities") return () => styles[id];
    return (feature) => Object.assign({}, styles.communities, { fillColor: gg.loadClass(gg.loadOf(feature.properties)).color },
      gg.state.densitySolo ? { fillOpacity: 0 } : {});
  }

  function unitTooltip(id, p) {
    let html = "<b>" + gg.esc(gg.name(p)) + "</b> <small>" + gg.esc(p.code) + "</small><br>"
      + gg.t("residents") + " " + gg.num(p.residents) + " · " + gg.t("households") + " " + gg.num(p.households);
    if (id === "communities") {
      html += "<br>" + gg.t("workers") + " " + gg.num(p.workers) + " · " + gg.t("load_short") + " "
        + gg.num(gg.loadOf(p), 0);
    }
    return html;
  }

  /** Whether a label of `text` fits inside the unit's box on screen (no labels piled on small units). */
  function fits(geometry, text) {
    const b = gg.geometryBbox(geometry);
    const p1 = gg.map.latLngToLayerPoint(gg.ll(b[0], b[1]));
    const p2 = gg.map.latLngToLayerPoint(gg.ll(b[2], b[3]));
    const width = Math.abs(p2.x - p1.x);
    const needed = text.length * (gg.lang === "en" ? 6.5 : 12.5);
    return width >= needed * 0.9 && Math.abs(p2.y - p1.y) >= 14;
  }

  /** Draw one unit layer from a /map/layers answer. */
  function drawUnits(id, data) {
    const group = gg.layers[id];
    group.clearLayers();
    const byCode = {};
    const labels = L.layerGroup();
    const zoom = gg.map.getZoom();
    const withLabels = (id === "subdistricts" && zoom <= 12) || (id === "communities" && zoom >= 13)
      || (id === "grids" && zoom >= 16);
    const layer = gg.geoJSON(data, {
      style: unitStyle(id),
      pane: PANES[id],
      interactive: id !== "subdistricts",
      onEachFeature: (feature, lyr) => {
        byCode[feature.properties.code] = feature;
        if (id !== "subdistricts") lyr.bindTooltip(() => unitTooltip(id, feature.properties), { sticky: true });
        const lp = feature.properties.label_point;
        const text = gg.name(feature.properties);
        if (withLabels && lp && fits(feature.geometry, text)) labels.addLayer(label(text, gg.ll(lp[0], lp[1]), "gg-label-" + id));
      },
    });
    group.addLayer(layer);
    group.addLayer(labels);
    gg.features[id] = byCode;
  }

  // One purple hue for the density: it stays readable over the green-to-red load colours.
  const HEAT_GRADIENT = { 0.2: "#f3e5f5", 0.4: "#ce93d8", 0.6: "#ab47bc", 0.8: "#7b1fa2", 1.0: "#4a148c" };
  gg.state.heatWeight = "residents";

  /** The density legend's scale: 0 to the cell value that saturates the colour (the 98th percentile). */
  gg.showHeatScale = function (heat) {
    const box = document.getElementById("gg-heat-scale");
    if (!box) return;
    const on = gg.map.hasLayer(gg.layers.buildings);
    box.hidden = !on;
    const hi = box.querySelector(".gg-heat-max");
    if (heat === undefined) return; // only shown or hidden with the layer
    if (heat) {
      hi.textContent = "≥ " + gg.num(heat.max) + " " + gg.t("heat_per_cell");
      box.dataset.max = String(heat.max);
      box.dataset.weight = heat.weight || "residents";
    } else hi.textContent = gg.t("heat_points");
  };

  /** Which group the heat map counts; `solo` hides the load colours so the density reads on its own. */
  gg.setDensity = function (weight, solo) {
    if (weight !== undefined && weight !== gg.state.heatWeight) {
      gg.state.heatWeight = weight;
      if (!gg.map.hasLayer(gg.layers.buildings)) gg.layers.buildings.addTo(gg.map); // overlayadd loads it
      else refreshLayer("buildings", true);
    }
    if (solo !== undefined) {
      gg.state.densitySolo = solo;
      document.body.classList.toggle("gg-density-solo", solo);
      gg.restyleCommunities();
    }
  };

  /** Buildings: a heat grid when zoomed out, points (canvas) when zoomed in. */
  function drawBuildings(data) {
    const group = gg.layers.buildings;
    const heat = gg.layers.buildingsHeat;
    group.eachLayer((l) => { if (l !== heat) group.removeLayer(l); });
    if (data.mode === "heat") {
      heat.setOptions({ max: data.heat.max, gradient: HEAT_GRADIENT });
      gg.showHeatScale(data.heat);
      heat.setLatLngs(data.heat.points.map((p) => { const ll = gg.ll(p[1], p[0]); return [ll.lat, ll.lng, p[2]]; }));
      gg.features.buildings = {};
      return;
    }
    heat.setLatLngs([]);
    gg.showHeatScale(null);
    const renderer = gg.canvas || (gg.canvas = L.canvas({ padding: 0.3 }));
    const style = gg.config.styles.units.building;
    const byCode = {};
    const points = gg.geoJSON(data, {
      pointToLayer: (feature, at) => L.circleMarker(at, Object.assign({ renderer: renderer }, style)),
      onEachFeature: (feature, lyr) => {
        byCode[feature.properties.code] = feature;
        const p = feature.properties;
        lyr.bindTooltip(gg.t("building") + " " + gg.esc(p.code) + "<br>" + gg.t("households") + " " + gg.num(p.households)
          + " · " + gg.t("residents") + " " + gg.num(p.residents));
      },
    });
    group.addLayer(points);
    gg.features.buildings = byCode;
  }

  function stationStyle(kind) {
    return gg.config.styles.stations[kind] || gg.config.styles.unknownStation;
  }
  gg.stationIcon = function (kind, size) {
    const s = stationStyle(kind);
    const px = size || 26;
    return L.divIcon({
      className: "gg-station", iconSize: [px, px], iconAnchor: [px / 2, px / 2],
      html: '<span style="background:' + s.color + '">' + gg.esc(gg.lang === "en" ? s.glyph_en : s.glyph_zh) + "</span>",
    });
  };

  function drawStations(features) {
    const group = gg.layers.stations;
    group.clearLayers();
    const byCode = {};
    const markers = features.map((f) => {
      byCode[f.properties.code] = f;
      const c = f.geometry.coordinates;
      const marker = L.marker(gg.ll(c[0], c[1]), { icon: gg.stationIcon(f.properties.kind), title: gg.name(f.properties),
        alt: gg.name(f.properties) });
      marker.feature = f;
      marker.bindTooltip(gg.esc(gg.name(f.properties)) + "<br><small>" + gg.t("kind_" + f.properties.kind) + "</small>");
      marker.on("click", () => gg.showStation(f));
      return marker;
    });
    group.addLayers(markers);
    gg.features.stations = byCode;
  }

  /** Every station in the box, following the OGC `next` links. */
  async function fetchStations(bbox) {
    let url = "/collections/stations/items" + gg.query({ bbox: gg.bboxParam(bbox), limit: 1000 });
    const features = [];
    for (let page = 0; url && page < 20; page++) {
      const data = await gg.api(url);
      features.push(...data.features);
      const next = (data.links || []).find((l) => l.rel === "next");
      url = next ? new URL(next.href, location.href).pathname + new URL(next.href, location.href).search : null;
    }
    return features;
  }

  const LOADERS = {
    subdistricts: { minZoom: 0, pad: 0.5 },
    communities: { minZoom: 0, pad: 0.4 },
    grids: { minZoom: () => gg.config.zoom.grids, pad: 0.3 },
    buildings: { minZoom: 0, pad: 0.3, zoomed: true },
    stations: { minZoom: 0, pad: 0.6, zoomless: true },
  };

  /** (Re)load one layer if the view left what is loaded, the zoom changed, or `force`. */
  async function refreshLayer(id, force) {
    const spec = LOADERS[id];
    const zoom = Math.round(gg.map.getZoom());
    const minZoom = typeof spec.minZoom === "function" ? spec.minZoom() : spec.minZoom;
    if (!gg.map.hasLayer(gg.layers[id])) {
      loaded[id] = null; // switched off in the layer control: nothing to load until it is back
      return;
    }
    if (zoom < minZoom) {
      gg.layers[id].clearLayers();
      gg.features[id] = {};
      loaded[id] = { hidden: true };
      return;
    }
    const view = gg.viewBbox(0);
    const zoomKey = spec.zoomless ? 0 : zoom;
    const was = loaded[id];
    if (!force && was && !was.hidden && was.key === viewKey() && was.zoom === zoomKey && gg.bboxContains(was.bbox, view)) return;
    const bbox = gg.viewBbox(spec.pad);
    const mine = (generation[id] = (generation[id] || 0) + 1);
    try {
      if (id === "stations") {
        const features = await fetchStations(bbox);
        if (mine === generation[id]) drawStations(features);
      } else {
        const simplify = gg.config.simplify === false && id !== "buildings" ? "false" : undefined;
        const weight = id === "buildings" && gg.state.heatWeight !== "residents" ? gg.state.heatWeight : undefined;
        const data = await gg.api("/map/layers/" + id + gg.query({ bbox: gg.bboxParam(bbox), zoom: zoom, simplify: simplify,
          weight: weight }));
        if (mine !== generation[id]) return;
        if (id === "buildings") drawBuildings(data);
        else drawUnits(id, data);
      }
      if (mine === generation[id]) loaded[id] = { bbox: bbox, zoom: zoomKey, key: viewKey() };
    } catch (err) {
      gg.showError(err, gg.t("err_layer", { layer: gg.t("layer_" + id) }));
    }
  }

  /** The WGS84 box of what a layer has loaded (null when nothing or hidden). */
  gg.loadedBox = function (id) {
    const was = loaded[id];
    return was && !was.hidden && was.key === viewKey() ? was.bbox : null;
  };

  /** Load a layer as soon as it is switched on in the layer control. */
  gg.onOverlayAdd = function (layer) {
    const id = Object.keys(LOADERS).find((key) => gg.layers[key] === layer);
    if (id) refreshLayer(id, true);
  };

  /** Reload what the view needs; `force` reloads everything (after a change or a new date). */
  gg.refreshLayers = function (force) {
    if (force) gg.loadPromise = gg.refreshLoadTable().then(() => gg.restyleCommunities()); // in the background
    const jobs = Object.keys(LOADERS).map((id) => refreshLayer(id, force));
    jobs.push(gg.refreshProposalsLayer ? gg.refreshProposalsLayer() : Promise.resolve());
    return Promise.all(jobs);
  };

  /** Colour the communities on the map again (after the /load figures arrived). */
  gg.restyleCommunities = function () {
    const style = unitStyle("communities");
    gg.layers.communities.eachLayer((layer) => { if (layer instanceof L.GeoJSON) layer.setStyle(style); });
  };

  /** Fetch /load when the API has it; its figures then colour the communities. */
  gg.refreshLoadTable = async function () {
    if (!gg.config.features.load) return;
    try {
      gg.loadTable = gg.parseLoad(await gg.api("/load" + gg.query({})));
    } catch (err) {
      gg.loadTable = null;
      gg.showError(err, gg.t("err_load"));
    }
    gg.updateLegendSource();
  };
  /** code -> residents per worker from a /load answer (a list, {communities: [...]}, or GeoJSON). */
  gg.parseLoad = function (data) {
    gg.loadRows = {};
    const rows = Array.isArray(data) ? data
      : (data.rows || data.communities || data.items || data.results || data.features || []);
    const table = {};
    rows.forEach((row) => {
      const r = row.properties || row;
      const value = r.residents_per_worker !== undefined ? r.residents_per_worker : r.load;
      if (r.code && typeof value === "number") table[r.code] = value;
      if (r.code) gg.loadRows[r.code] = r;
    });
    return Object.keys(table).length ? table : null;
  };

  // ---- life circles ----------------------------------------------------------------------------
  gg.showRings = function (lon, lat) {
    const group = gg.layers.rings;
    group.clearLayers();
    const at = gg.ll(lon, lat);
    gg.config.styles.rings.slice().reverse().forEach((ring, i, all) => {
      const minutes = [5, 10, 15][all.length - 1 - i];
      L.circle(at, { radius: ring.radius, color: ring.color, weight: 2, fillColor: ring.color, fillOpacity: 0.06,
        interactive: false, pane: "ggTop" }).addTo(group);
      const edge = L.latLng(at.lat + ring.radius / 111320, at.lng);
      label(gg.t("ring_label", { m: ring.radius, min: minutes }), edge, "gg-label-ring").addTo(group);
    });
  };

  // ---- legend ----------------------------------------------------------------------------------
  gg.addLegend = function () {
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = function () {
      const div = L.DomUtil.create("div", "gg-legend leaflet-control");
      div.id = "gg-legend";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      const st = gg.config.styles;
      let lower = 0;
      const rows = st.loadClasses.map((band) => {
        const range = band.upper === null ? "≥ " + gg.num(lower) : gg.num(lower) + "–" + gg.num(band.upper);
        lower = band.upper;
        return '<li><i style="background:' + band.color + '"></i>' + gg.t(band.key) + " <small>" + range + "</small></li>";
      });
      rows.push('<li><i style="background:' + st.noWorkers.color + '"></i>' + gg.t(st.noWorkers.key) + "</li>");
      const kinds = Object.keys(st.stations).map((kind) => {
        const s = st.stations[kind];
        return '<li><span class="gg-station gg-legend-station"><span style="background:' + s.color + '">'
          + gg.esc(gg.lang === "en" ? s.glyph_en : s.glyph_zh) + "</span></span>" + gg.t("kind_" + kind) + "</li>";
      });
      const building = st.units.building;
      const buildings = '<li><i class="gg-dot" style="background:' + building.fillColor + ";border-color:" + building.color
        + '"></i>' + gg.t("legend_buildings") + "</li>";
      const lines = [["subdistricts", gg.t("legend_subdistrict_line")], ["grids", gg.t("legend_grid_line")],
        ["pending", gg.t("legend_pending")], ["after", gg.t("legend_after")], ["territory", gg.t("legend_territory")],
        ["created", gg.t("legend_created")], ["retired", gg.t("legend_retired")]]
        .map(([k, text]) => {
          const s = st.units[k];
          const fill = s.fill === false ? "transparent" : (s.fillColor || "transparent");
          return '<li><i class="gg-line" style="border-color:' + s.color + ";border-style:" + (s.dashArray ? "dashed" : "solid")
            + ";background:" + fill + '"></i>' + text + "</li>";
        });
      const gradient = "linear-gradient(90deg, " + Object.entries(HEAT_GRADIENT).sort((a, b) => a[0] - b[0]).map(([k, c]) => c + " " + k * 100 + "%").join(", ") + ")";
      const density = "<h4>" + gg.t("heat_title") + '</h4><label class="gg-density"><select id="gg-density">'
        + ["residents", "elderly", "children", "special_care"].map((w) => '<option value="' + w + '">' + gg.t(w) + "</option>").join("")
        + '</select></label><label class="gg-check"><input type="checkbox" id="gg-density-solo"> ' + gg.t("heat_solo") + "</label>"
        + '<div id="gg-heat-scale" hidden><i class="gg-heat-bar" style="background:' + gradient + '"></i>'
        + '<small>0</small> <small class="gg-heat-max"></small><p class="gg-legend-source">' + gg.t("heat_hint") + "</p></div>";
      div.innerHTML = '<button type="button" class="gg-legend-toggle" aria-expanded="true">' + gg.t("legend") + "</button>"
        + '<div class="gg-legend-body"><h4>' + gg.t("legend_load_title", { norm: gg.num(st.residentsPerWorkerNorm) })
        + '</h4><ul class="gg-legend-load">' + rows.join("") + '</ul><p class="gg-legend-source" id="gg-legend-source"></p>'
        + density
        + "<h4>" + gg.t("legend_stations") + "</h4><ul>" + kinds.join("") + "</ul>"
        + "<h4>" + gg.t("legend_lines") + "</h4><ul>" + lines.join("") + buildings + "</ul></div>";
      div.querySelector("#gg-density").addEventListener("change", (e) => gg.setDensity(e.target.value));
      div.querySelector("#gg-density-solo").addEventListener("change", (e) => gg.setDensity(undefined, e.target.checked));
      div.querySelector(".gg-legend-toggle").addEventListener("click", (e) => {
        const open = div.classList.toggle("gg-collapsed");
        div.dataset.user = "1"; // the planner's choice wins over the automatic one
        e.currentTarget.setAttribute("aria-expanded", String(!open));
        gg.fitLegend();
      });
      return div;
    };
    legend.addTo(gg.map);
    gg.updateLegendSource();
    gg.fitLegend();
    window.addEventListener("resize", () => gg.fitLegend());
  };

  /**
   * Keep the legend between the scale bar and the tools above it (zoom, drawing, full screen): its height
   * is the room left there, and it starts folded to its button when that room is small.
   */
  gg.fitLegend = function () {
    const div = document.getElementById("gg-legend");
    if (!div) return;
    const map = gg.map.getContainer().getBoundingClientRect();
    let top = map.top;
    document.querySelectorAll(".leaflet-top.leaflet-left > .leaflet-control").forEach((c) => {
      top = Math.max(top, c.getBoundingClientRect().bottom);
    });
    const scale = document.querySelector(".leaflet-bottom.leaflet-left .leaflet-control-scale");
    const below = scale ? scale.getBoundingClientRect().height + 10 : 0;
    const panel = document.getElementById("gg-panel");
    let bottom = map.bottom;
    if (!panel.hidden) { // a bottom sheet covers the lower part of the map
      const box = panel.getBoundingClientRect();
      if (box.top > map.top + map.height / 3 && box.left < map.left + 300) bottom = box.top;
    }
    const room = Math.floor(bottom - top - below - 24);
    div.style.maxHeight = Math.max(32, room) + "px";
    if (!div.dataset.user) div.classList.toggle("gg-collapsed", room < 360 || window.innerWidth < 1000);
    div.querySelector(".gg-legend-toggle").setAttribute("aria-expanded", String(!div.classList.contains("gg-collapsed")));
  };
  gg.updateLegendSource = function () {
    const el = document.getElementById("gg-legend-source");
    if (el) el.textContent = gg.t(gg.loadTable ? "legend_source_load" : "legend_source_totals");
  };
})(window.gg);

/* gridgov planner map: residents' groups (居民小组) at high zoom, from GET /groups?bbox= (stored, else proposed). */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  const MIN_ZOOM = 16; // groups are a few buildings each: only worth drawing close up
  const STYLE = { color: "#5e35b1", weight: 1.5, dashArray: "2 3", fillColor: "#b39ddb", fillOpacity: 0.18 };
  let layer = null;
  let asked = 0; // the latest request wins

  function tooltip(p) {
    const leader = p.leader ? gg.esc(p.leader) : gg.t("group_leader_vacant");
    return "<b>" + gg.esc(p.name) + "</b> · " + gg.esc(p.code) + "<br>" + gg.t("group_households", { n: gg.num(p.households) })
      + " · " + gg.t("group_buildings", { n: gg.num(p.buildings) }) + "<br>" + gg.t("group_leader") + ": " + leader
      + (p.contiguous ? "" : '<br><span class="gg-warn">' + gg.t("group_not_contiguous") + "</span>");
  }

  async function refresh() {
    if (!layer) return;
    const n = ++asked;
    if (gg.map.getZoom() < MIN_ZOOM) {
      layer.clearLayers();
      return;
    }
    const b = gg.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
    let data;
    try {
      data = await gg.api("/groups" + gg.query({ bbox: bbox }));
    } catch (err) {
      return; // too wide a box or no groups: the layer stays empty, the rest of the map is unaffected
    }
    if (n !== asked) return;
    layer.clearLayers();
    gg.geoJSON(data, { style: STYLE, interactive: true,
      onEachFeature: (f, l) => l.bindTooltip(tooltip(f.properties), { sticky: true }) }).addTo(layer);
  }

  gg.groups = {
    /** Called once the map exists (main.js): a layer of its own, refreshed when the view settles. */
    start() {
      layer = L.layerGroup().addTo(gg.map);
      gg.map.on("moveend", refresh);
      refresh();
    },
    refresh: refresh,
  };
})(window.gg);

/* gridgov planner map: two plans side by side — their areas on the map in two colours, their load tables beside each other. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  const COLOURS = ["#1565c0", "#ef6c00"]; // plan 1, plan 2
  let group = null;

  function layer() {
    if (!group) group = L.layerGroup().addTo(gg.map);
    return group;
  }

  /** A plan's figures: GET /proposals/{id} (units before → after) and its territory (change.geojson). */
  async function plan(id) {
    const answer = await gg.api("/proposals/" + id);
    let territory = answer.preview && answer.preview.territory;
    if (!territory && gg.config.features.change_geojson) {
      const change = await gg.api("/proposals/" + id + "/change.geojson");
      const t = (change.features || []).find((f) => f.properties.state === "territory");
      territory = t ? t.geometry : null;
    }
    return { id: id, proposal: answer.proposal, preview: answer.preview || {}, territory: territory };
  }

  function column(p, i) {
    const norm = gg.config.styles.residentsPerWorkerNorm;
    const load = (x) => (x && x.workers ? x.residents / x.workers : null);
    const units = (p.preview.units || []).filter((u) => u.level === p.proposal.level || u.role === "from" || u.role === "to");
    const rows = units.map((u) => {
      const a = load(u.after);
      return '<tr data-code="' + gg.esc(u.code) + '"><th>' + gg.esc(u.name) + "<br><small>" + gg.t("role_" + u.role) + "</small></th><td>"
        + gg.num(u.before.residents) + " → <b>" + gg.num(u.after.residents) + "</b></td><td" + (a !== null && a > norm ? ' class="gg-flag"' : "")
        + ">" + gg.num(load(u.before)) + " → <b>" + gg.num(a) + "</b></td><td>" + (u.after.contiguous === false
        ? '<span class="gg-flag">' + gg.t("parts", { n: u.after.parts }) + "</span>" : gg.t("yes")) + "</td></tr>";
    }).join("");
    const m = p.preview.moved || {};
    return '<section class="gg-compare-plan" data-proposal="' + p.id + '"><h3><i style="background:' + COLOURS[i] + '"></i>'
      + gg.t("proposal_n", { id: p.id }) + " " + gg.statusBadge(p.proposal) + '</h3><p class="gg-sub">' + gg.describeProposal(p.proposal)
      + " · " + gg.esc(p.proposal.effective_date) + "</p><p>" + gg.t("whatif_moved", { grids: gg.num((p.preview.grids_moved_whole || []).length),
        households: gg.num(m.households), residents: gg.num(m.residents) }) + '</p><table class="gg-table gg-units"><tr><th></th><th>'
      + gg.t("residents") + "</th><th>" + gg.t("load_short") + "</th><th>" + gg.t("contiguous") + "</th></tr>" + rows + "</table></section>";
  }

  /** Compare two proposals (ids); with none given, the two newest drafts (else the two newest). */
  gg.showCompare = async function (first, second) {
    let ids = [first, second].filter(Boolean);
    let list = [];
    try {
      list = (await gg.api("/proposals")).proposals;
    } catch (err) {
      gg.showError(err, gg.t("err_proposals"));
      return;
    }
    if (ids.length < 2) {
      const drafts = list.filter((p) => p.status === "draft");
      ids = (drafts.length >= 2 ? drafts : list).slice(0, 2).map((p) => p.id);
    }
    if (ids.length < 2) {
      gg.notify(gg.t("compare_need_two"), "info");
      return;
    }
    let plans;
    try {
      plans = await Promise.all(ids.map(plan));
    } catch (err) {
      gg.showError(err, gg.t("err_proposals"));
      return;
    }
    const options = (selected) => list.map((p) => '<option value="' + p.id + '"' + (p.id === selected ? " selected" : "") + ">#" + p.id
      + " " + gg.esc(gg.describeProposal(p).replace(/<[^>]*>/g, "")) + "</option>").join("");
    const html = "<h2>" + gg.t("compare_title") + '</h2><form class="gg-form gg-pair" id="gg-compare-form">'
      + "<label>" + gg.t("compare_plan", { n: 1 }) + ' <select id="gg-compare-a">' + options(ids[0]) + "</select></label>"
      + "<label>" + gg.t("compare_plan", { n: 2 }) + ' <select id="gg-compare-b">' + options(ids[1]) + "</select></label></form>"
      + '<div class="gg-compare">' + plans.map(column).join("") + "</div>";
    const body = gg.panel.show(html, "compare");
    document.getElementById("gg-panel").classList.add("gg-wide");
    document.body.style.setProperty("--gg-panel", Math.max(380, Math.min(680, window.innerWidth - 360)) + "px");
    const again = () => gg.showCompare(Number(body.querySelector("#gg-compare-a").value), Number(body.querySelector("#gg-compare-b").value));
    body.querySelector("#gg-compare-a").addEventListener("change", again);
    body.querySelector("#gg-compare-b").addEventListener("change", again);
    const g = layer();
    g.clearLayers();
    const bounds = L.latLngBounds([]);
    plans.forEach((p, i) => {
      if (!p.territory) return;
      const shape = gg.geoJSON(p.territory, { pane: "ggTop", interactive: false,
        style: { color: COLOURS[i], weight: 3, fillColor: COLOURS[i], fillOpacity: 0.25, dashArray: i ? "6 4" : null } }).addTo(g);
      bounds.extend(shape.getBounds());
    });
    if (bounds.isValid()) gg.fitFree(bounds.pad(0.4));
  };

  /** The comparison leaves the map with its panel. */
  gg.clearCompare = function () {
    if (group) group.clearLayers();
    document.getElementById("gg-panel").classList.remove("gg-wide");
    document.body.style.removeProperty("--gg-panel");
  };
})(window.gg);

/* gridgov planner map: a proposal's preview and impact, apply; the proposal list, revert; pending proposals. */
"use strict";
window.gg = window.gg || {};
(function (gg) {
  gg.current = null; // the proposal being previewed: the POST /proposals or GET /proposals/{id} answer

  // ---- what a proposal is, in words -----------------------------------------------------------
  /** A unit's name from `names` (code -> name, e.g. the preview's units), the map's layers, or its code. */
  function unitName(code, names) {
    if (!code) return "–";
    if (names && names[code]) return names[code];
    for (const layer of ["communities", "grids", "subdistricts"]) {
      const f = (gg.features[layer] || {})[code];
      if (f) return gg.name(f.properties);
    }
    return code;
  }

  /** "A → B", "split A into 3 grids", "merge A, B into C" (escaped HTML). */
  function describe(p, names) {
    const kind = p.kind || "move";
    const name = (code) => gg.esc(unitName(code, names));
    if (kind === "split") {
      return gg.t("split_summary", { from: name(p.from_code), n: (p.parts || []).length + 1 });
    }
    if (kind === "merge") {
      const merged = (p.merge_codes && p.merge_codes.length ? p.merge_codes : [p.from_code]).map(name);
      return gg.t("merge_summary", { merged: merged.join(gg.t("list_sep")), to: name(p.to_code) });
    }
    return gg.t("move_summary", { from: name(p.from_code), to: name(p.to_code) });
  }
  /** A proposal's status; an applied change whose date is still ahead is "scheduled". */
  const statusOf = (p) => (p.status === "applied" && (p.scheduled || p.effective_date > gg.today()) ? "scheduled" : p.status);
  const statusBadge = (p) => '<span class="gg-status gg-status-' + statusOf(p) + '" data-status="' + statusOf(p) + '">'
    + gg.t("status_" + statusOf(p)) + "</span>";
  gg.statusBadge = statusBadge;
  const kindBadge = (p) => '<span class="gg-kind gg-kind-' + gg.esc(p.kind || "move") + '" data-kind="' + gg.esc(p.kind || "move")
    + '">' + gg.t("change_" + (p.kind || "move")) + "</span>";
  gg.describeProposal = describe;

  /** A unit's role in words: a split's grid and a merge's unit that stays have their own. */
  const roleText = (role, kind) => {
    const special = "role_" + role + "_" + (kind || "move");
    return gg.t(special) !== special ? gg.t(special) : gg.t("role_" + role);
  };

  /** Links to a proposal's report (HTML, PDF), its households (CSV) and the change as GeoJSON. */
  function reportLinks(id) {
    if (!gg.config.features.report) return "";
    const base = (gg.config.apiBase || "") + "/proposals/" + id;
    const lang = "?lang=" + reportLang();
    const links = [["report.html" + lang, "link_report_html"], ["report.pdf" + lang, "link_report_pdf"],
      ["households.csv" + lang, "link_households_csv"], ["change.geojson", "link_change_geojson"]];
    return '<span class="gg-links" data-proposal="' + id + '">' + links.map(([path, key]) => '<a target="_blank" rel="noopener" href="'
      + base + "/" + path + '" data-link="' + path.split("?")[0] + '"' + (path.endsWith(".html" + lang) ? "" : " download")
      + ">" + gg.t(key) + "</a>").join("") + "</span>";
  }
  gg.reportLinks = reportLinks;

  // ---- preview ---------------------------------------------------------------------------------
  function drawPreview(preview) {
    const group = gg.layers.preview;
    group.clearLayers();
    if (!preview) return;
    const st = gg.config.styles.units;
    const tip = (prefix) => (f, l) => l.bindTooltip(prefix + ": " + gg.esc(gg.name(f.properties)) + " " + gg.esc(f.properties.code)
      + (f.properties.change && f.properties.change !== "changed" ? " · " + gg.t("role_" + (f.properties.change === "created"
        ? "new" : "retired")) : ""), { sticky: true });
    if (preview.territory) gg.geoJSON(preview.territory, { style: st.territory, interactive: false, pane: "ggTop" }).addTo(group);
    const retired = ((preview.before && preview.before.features) || []).filter((f) => f.properties.change === "retired");
    if (retired.length) {  // a merge's retired units, where they were
      gg.geoJSON({ type: "FeatureCollection", features: retired }, { style: st.retired, pane: "ggTop",
        onEachFeature: tip(gg.t("before")) }).addTo(group);
    }
    if (preview.after) {
      gg.geoJSON(preview.after, {
        style: (f) => (f.properties.change === "created" ? st.created : st.after),
        pane: "ggTop",
        onEachFeature: tip(gg.t("after")),
      }).addTo(group);
    }
  }

  /** Before → after of every changed unit: one column per unit, one row per figure. */
  function unitRows(units, kind) {
    const norm = gg.config.styles.residentsPerWorkerNorm;
    const load = (x) => (x.workers ? x.residents / x.workers : null);
    const figures = [
      ["residents", (x) => x.residents, 0], ["households", (x) => x.households, 0], ["workers", (x) => x.workers, 0],
      ["load_short", load, 0, (v) => v !== null && v > norm], ["grids", (x) => x.grids, 0],
      ["area_km2", (x) => x.area_km2, 2], ["compactness", (x) => x.compactness, 2],
    ];
    const head = "<tr><th></th>" + units.map((u) => '<th data-code="' + gg.esc(u.code) + '" data-role="' + u.role + '">'
      + gg.esc(u.name) + "<br><small>" + roleText(u.role, kind) + "</small></th>").join("") + "</tr>";
    // A new unit has no before and a retired one no after: shown as –, not as zeros.
    const side = (u, x, value, digits) => ((u.role === "new" && x === u.before) || (u.role === "retired" && x === u.after)
      ? "–" : gg.num(value, digits));
    const rows = figures.map(([key, get, digits, flag]) => "<tr><th>" + gg.t(key) + "</th>" + units.map((u) => {
      const a = get(u.after);
      return "<td" + (flag && u.role !== "retired" && flag(a) ? ' class="gg-flag"' : "") + ">" + side(u, u.before, get(u.before), digits)
        + " → " + side(u, u.after, a, digits) + "</td>";
    }).join("") + "</tr>");
    const parts = "<tr><th>" + gg.t("contiguous") + "</th>" + units.map((u) => "<td" + (u.role === "retired" ? ">–"
      : u.after.contiguous === false ? ' class="gg-flag">' + gg.t("parts", { n: u.after.parts }) : ">" + gg.t("yes"))
      + "</td>").join("") + "</tr>";
    return '<div class="gg-scroll"><table class="gg-table gg-units">' + head + rows.join("") + parts + "</table></div>";
  }

  function summaryHtml(preview) {
    const m = preview.moved || {};
    const names = Object.fromEntries((preview.units || []).map((u) => [u.code, u.name]));
    const listed = (codes) => '<span class="gg-codes">' + codes.map((c) => gg.esc(unitName(c, names)) + " <small>"
      + gg.esc(c) + "</small>").join(gg.t("list_sep")) + "</span>";
    const reshaped = [];
    if ((preview.created || []).length) reshaped.push([gg.t("units_created"), listed(preview.created)]);
    if ((preview.retired || []).length) reshaped.push([gg.t("units_retired"), listed(preview.retired)]);
    let html = table(reshaped.concat([
      [gg.t("area_km2"), gg.num(m.area_km2, 3)], [gg.t("buildings"), gg.num(m.buildings)],
      [gg.t("households"), gg.num(m.households)], [gg.t("residents"), gg.num(m.residents)],
      [gg.t("elderly"), gg.num(m.elderly)], [gg.t("children"), gg.num(m.children)],
      [gg.t("special_care"), gg.num(m.special_care)],
      [gg.t("grids_moved_whole"), gg.num((preview.grids_moved_whole || []).length)],
      [gg.t("grids_split"), gg.num((preview.grids_split || []).length)],
      [gg.t("stations_moved"), gg.num((preview.stations || []).length)],
    ]).map((r) => [r[0], r[1]]));
    if (preview.units && preview.units.length) html += "<h3>" + gg.t("before_after") + "</h3>" + unitRows(preview.units, preview.kind);
    const warnings = (gg.lang === "en" ? preview.warnings : preview.warnings_zh || preview.warnings) || [];
    if (warnings.length) {
      html += "<h3>" + gg.t("warnings") + '</h3><ul class="gg-warnings">' + warnings.map((w) => "<li>" + gg.esc(w) + "</li>").join("") + "</ul>";
    }
    return html;
  }
  const table = (rows) => gg.table(rows);

  gg.showPreview = showPreview;

  function showPreview(answer) {
    const p = answer.proposal;
    const preview = answer.preview || {};
    drawPreview(preview);
    const stale = answer.stale || [];
    const names = Object.fromEntries((preview.units || []).map((u) => [u.code, u.name]));
    let html = '<h2 data-proposal="' + p.id + '" data-kind="' + gg.esc(p.kind || "move") + '">' + gg.t("proposal_n", { id: p.id })
      + " " + kindBadge(p) + " " + statusBadge(p) + '</h2><p class="gg-sub gg-what">' + describe(p, names) + " · " + gg.t("effective_date") + " " + gg.esc(p.effective_date)
      + (p.document_ref ? " · " + gg.esc(p.document_ref) : "") + "</p>";
    if (stale.length) html += '<p class="gg-error">' + gg.t("stale") + " " + stale.map(gg.esc).join("; ") + "</p>";
    html += '<h3>' + gg.t("moves") + "</h3>" + summaryHtml(preview);
    if (gg.config.features.report) html += '<p class="gg-report">' + gg.t("report") + " " + reportLinks(p.id) + "</p>";
    html += '<div id="gg-impact"></div>';
    if (p.status === "draft") {
      html += gg.keyField() + '<p id="gg-apply-error" class="gg-error" role="alert" hidden></p><div class="gg-actions">'
        + (stale.length ? '<button type="button" id="gg-rebase" class="gg-btn">' + gg.t("rebase") + "</button>" : "")
        + '<button type="button" id="gg-apply" class="gg-btn gg-primary">' + gg.t("apply") + "</button>"
        + '<button type="button" id="gg-discard" class="gg-btn">' + gg.t("close_preview") + "</button></div>";
    }
    const body = gg.panel.show(html, "preview");
    gg.bindKeyField(body);
    const apply = body.querySelector("#gg-apply");
    if (apply) apply.addEventListener("click", () => applyProposal(p.id, body));
    const rebase = body.querySelector("#gg-rebase");
    if (rebase) rebase.addEventListener("click", () => rebaseProposal(p.id, body));
    const discard = body.querySelector("#gg-discard");
    if (discard) discard.addEventListener("click", () => { gg.layers.preview.clearLayers(); gg.clearDraft(); gg.panel.close(); });
    if (gg.config.features.impact) showImpact(p.id);
    if (preview.territory) {
      const b = gg.geoJSON(preview.territory).getBounds();
      if (b.isValid()) gg.fitFree(b.pad(0.3));
    }
  }

  const reportLang = () => (gg.lang === "en" ? "en" : "zh"); // the report routes speak zh/en
  const words = (text) => (text && typeof text === "object" ? (gg.lang === "en" ? text.en : text.zh) || "" : text || "");

  /** The impact report's key sections (GET /proposals/{id}/impact): headline, access, boundary, warnings. */
  function impactHtml(impact) {
    let html = "<h3>" + gg.t("impact") + "</h3>";
    if (impact.headline) html += '<p class="gg-headline">' + gg.esc(words(impact.headline)) + "</p>";
    const access = impact.access;
    if (access && access.before && access.after) {
      const stat = (key) => "<tr><th>" + gg.t("dist_" + key) + "</th><td>" + gg.num(access.before[key + "_m"]) + " m → "
        + gg.num(access.after[key + "_m"]) + " m</td></tr>";
      html += "<h4>" + gg.t("access_title") + '</h4><table class="gg-table">' + ["mean", "median", "p90", "max"].map(stat).join("")
        + (access.life_circles || []).map((c) => "<tr><th>" + gg.t("ring_share", { m: c.radius_m, min: c.minutes || "" })
          + "</th><td>" + gg.num(c.share_before * 100) + "% → " + gg.num(c.share_after * 100) + "%</td></tr>").join("") + "</table>";
    }
    // a move's A/B line; a split's new lines; the lines a merge removes
    const lines = impact.boundary ? [impact.boundary.shared].concat(impact.boundary.lines || []).filter((l) => l && l.text) : [];
    if (lines.length) {
      html += "<h4>" + gg.t("boundary_words") + "</h4>" + lines.map((l) => "<p>" + gg.esc(words(l.text)) + "</p>").join("");
    }
    const warnings = impact.warnings || [];
    if (warnings.length) {
      html += '<ul class="gg-warnings">' + warnings.map((w) => '<li data-severity="' + gg.esc(w.severity) + '">'
        + gg.esc(words(w.message)) + "</li>").join("") + "</ul>";
    }
    return html;
  }

  async function showImpact(id) {
    const target = document.getElementById("gg-impact");
    try {
      const impact = await gg.api("/proposals/" + id + "/impact" + gg.query({ lang: reportLang() }, false));
      if (target) target.innerHTML = impactHtml(impact);
    } catch (err) {
      if (target) target.innerHTML = '<p class="gg-error">' + gg.esc(gg.showError(err, gg.t("err_impact"))) + "</p>";
    }
  }

  function author() {
    return localStorage.getItem("gridgov.author") || gg.t("author_default");
  }

  /** A stale draft recomputed against the current map (POST /proposals/{id}/rebase), then shown again. */
  async function rebaseProposal(id, body) {
    const button = body.querySelector("#gg-rebase");
    button.disabled = true;
    try {
      const answer = await gg.api("/proposals/" + id + "/rebase", { method: "POST" });
      gg.clearErrors();
      showPreview(answer);
    } catch (err) {
      gg.formError(body, err, gg.t("ctx_rebase", { id: id }));
      button.disabled = false;
    }
  }

  async function applyProposal(id, body) {
    const button = body.querySelector("#gg-apply");
    button.disabled = true;
    try {
      const done = await gg.api("/proposals/" + id + "/apply", { method: "POST", body: { author: author() } });
      const moved = (done.summary && done.summary.moved) || {};
      gg.clearErrors();
      const p = (gg.current && gg.current.proposal) || {};
      if (p.effective_date && p.effective_date > gg.today()) {
        gg.notify(gg.t("applied_scheduled", { id: id, residents: gg.num(moved.residents), date: p.effective_date }), "success");
      } else gg.notify(gg.t("applied", { id: id, residents: gg.num(moved.residents) }), "success");
      gg.layers.preview.clearLayers();
      gg.clearDraft();
      gg.current = null;
      await gg.refreshLayers(true);
      await gg.showProposals(id);
    } catch (err) {
      if (err.status === 409) await explainConflict(err, id);
      gg.formError(body, err, gg.t("ctx_apply", { id: id }));
      button.disabled = false;
    }
  }

  // ---- proposal list, revert -------------------------------------------------------------------
  gg.showProposals = async function (highlightId) {
    let data;
    try {
      data = await gg.api("/proposals");
    } catch (err) {
      gg.showError(err, gg.t("err_proposals"));
      return;
    }
    const f = gg.config.features;
    const rows = data.proposals.map((p) => {
      const status = statusOf(p);
      const acts = [];
      if (p.status === "draft") {
        acts.push(["preview", "open"]);
        if (f.withdraw) acts.push(["withdraw", "withdraw"]);
      } else {
        acts.push(["open", "open"]);
        if (status === "scheduled" && f.cancel) acts.push(["cancel", "cancel_change", "gg-danger"]);
        else if (p.status === "applied") {
          acts.push(["revert", "revert", "gg-danger"]);
          if (f.cancel) acts.push(["cancel", "cancel_change", "gg-danger"]); // entered by mistake: as if it never happened
        }
      }
      const actions = acts.map(([act, key, cls]) => '<button type="button" class="gg-btn gg-small ' + (cls || "") + '" data-act="'
        + act + '">' + gg.t(key === "open" ? (p.status === "draft" ? "preview" : "open") : key) + "</button>").join(" ");
      return '<tr data-id="' + p.id + '" data-status="' + status + '"' + (p.id === highlightId ? ' class="gg-hl"' : "") + "><td>#"
        + p.id + "</td><td>" + statusBadge(p) + "</td><td>"
        + kindBadge(p) + ' <span class="gg-what">' + describe(p) + "</span><br><small>" + gg.esc(p.effective_date)
        + (p.document_ref ? " · " + gg.esc(p.document_ref) : "") + " · " + gg.esc(p.author) + "</small><br>" + reportLinks(p.id)
        + '</td><td class="gg-acts">' + actions + "</td></tr>";
    });
    const compare = rows.length >= 2 ? '<div class="gg-actions"><button type="button" id="gg-compare" class="gg-btn">'
      + gg.t("compare_button") + "</button></div>" : "";
    const html = "<h2>" + gg.t("proposals_title") + "</h2>" + compare + gg.keyField()
      + '<p id="gg-list-error" class="gg-error" role="alert" hidden></p>'
      + (rows.length ? '<table class="gg-table gg-proposals">' + rows.join("") + "</table>" : '<p class="gg-muted">' + gg.t("proposals_none") + "</p>")
      + '<p class="gg-muted">' + gg.t("proposals_hint") + "</p>";
    const body = gg.panel.show(html, "proposals");
    gg.bindKeyField(body);
    const compareButton = body.querySelector("#gg-compare");
    if (compareButton) compareButton.addEventListener("click", () => gg.showCompare());
    body.querySelectorAll("button[data-act]").forEach((button) => button.addEventListener("click", () => {
      const id = Number(button.closest("tr").dataset.id);
      const act = button.dataset.act;
      if (act === "preview" || act === "open") openProposal(id);
      if (act === "revert" || act === "cancel" || act === "withdraw") confirmAction(button, id, body, act);
    }));
  };

  gg.openProposal = (id) => openProposal(id);
  async function openProposal(id) {
    try {
      gg.current = await gg.api("/proposals/" + id);
      showPreview(gg.current);
    } catch (err) {
      gg.showError(err, gg.t("err_proposals"));
    }
  }

  /** The second click confirms: 恢复 (reverse, POST /revert), 撤销 (cancel a scheduled change), 撤回 (withdraw a draft). */
  function confirmAction(button, id, body, act) {
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = gg.t("confirm_" + act);
      return;
    }
    changeStatus(id, body, button, act);
  }

  async function changeStatus(id, body, button, act) {
    button.disabled = true;
    const path = { revert: "revert", cancel: "cancel", withdraw: "withdraw" }[act];
    const row = button.closest("tr");
    const reasonKey = act === "cancel" ? (row && row.dataset.status === "scheduled" ? "cancel_reason" : "cancel_reason_mistake")
      : act === "revert" ? "revert_reason" : "withdraw_reason";
    const payload = { author: author(), reason: gg.t(reasonKey, { id: id }) };
    try {
      await gg.api("/proposals/" + id + "/" + path, { method: "POST", body: payload });
      gg.clearErrors();
      gg.notify(gg.t(act === "revert" ? "reverted" : act === "cancel" ? "cancelled" : "withdrawn", { id: id }), "success");
      gg.layers.selection.clearLayers(); // the old outline of a unit the change reshaped would be wrong now
      gg.layers.preview.clearLayers();
      await gg.refreshLayers(true);
      await gg.showProposals(id);
    } catch (err) {
      if (err.status === 409) await explainConflict(err, id);
      gg.formError(body, err, gg.t("ctx_" + act, { id: id }));
      button.disabled = false;
    }
  }

  /** For a 409: which change touched the units since, by whom and when (GET /changes), not "someone". */
  async function explainConflict(err, id) {
    try {
      const p = (await gg.api("/proposals/" + id)).proposal;
      const units = [p.from_code, p.to_code].filter(Boolean);
      const answers = await Promise.all(units.map((u) => gg.api("/changes" + gg.query({ unit: u }, false)).catch(() => null)));
      const changes = answers.flatMap((a) => (a && (a.changes || a.items || (Array.isArray(a) ? a : []))) || [])
        .filter((c) => c && c.proposal_id !== undefined && c.proposal_id !== null && c.proposal_id !== id);
      changes.sort((a, b) => (b.id || 0) - (a.id || 0)); // newest first
      const c = changes[0];
      if (c) {
        err.conflict = gg.t("err_conflict_by", { id: c.proposal_id, author: c.author || "?",
          at: gg.beijingTime(c.recorded_at || ""), action: gg.t("action_" + (c.kind || "apply")) });
      }
    } catch (e) {
      /* the plain conflict text stays */
    }
  }
  gg.explainConflict = explainConflict;

  // ---- pending proposals layer -----------------------------------------------------------------
  gg.refreshProposalsLayer = async function () {
    const group = gg.layers.proposals;
    if (!gg.config.features.proposals) return;
    let data;
    try {
      data = await gg.api("/proposals" + gg.query({ status: "draft" }, false));
    } catch (err) {
      gg.showError(err, gg.t("err_proposals"));
      return;
    }
    group.clearLayers();
    const st = gg.config.styles.units.pending;
    const tip = (p) => gg.t("proposal_n", { id: p.id }) + " · " + gg.t("change_" + (p.kind || "move")) + ": " + describe(p);
    const withoutArea = [];
    data.proposals.forEach((p) => {
      if (p.area) gg.geoJSON(p.area, { style: st }).bindTooltip(tip(p), { sticky: true }).on("click", () => openProposal(p.id)).addTo(group);
      else withoutArea.push(p);
    });
    // Drafts that move whole grids: their territory comes with their preview (a few, newest first).
    await Promise.all(withoutArea.slice(0, 5).map(async (p) => {
      try {
        const full = await gg.api("/proposals/" + p.id);
        if (full.preview && full.preview.territory) {
          gg.geoJSON(full.preview.territory, { style: st }).bindTooltip(tip(p), { sticky: true })
            .on("click", () => openProposal(p.id)).addTo(group);
        }
      } catch (err) {
        gg.showError(err, gg.t("err_proposals"));
      }
    }));
  };
})(window.gg);

// ops.js - the console's Coupons, Customers and Outbox pages (docs/console.md): campaigns with
// their counts, batches of codes (downloaded as CSV), issuing and revoking codes, a customer's
// points, ledger and wallet, the outbox of events and the webhook's delivery state. Changes are
// for publishers: the server refuses them to anyone else, and the page shows no buttons for them.
// Times are shown in the rule set's time zone; the DOM is built with text nodes only.

import { api, ApiError } from "./api.js";
import { t, when } from "./i18n.js";

// ctx: {h, shell, state, canPublish, loadActive}
export function opsPages(ctx) {
  const { h, shell, state, canPublish } = ctx;
  const at = (s) => when(s, state.timezone);
  const err = (e) => h("p", { class: "error", role: "alert" }, e instanceof ApiError ? e.message : String(e));
  const table = (id, heads, rows, empty) =>
    h("table", { id },
      h("thead", {}, h("tr", {}, heads.map((x) => h("th", {}, x)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: heads.length }, empty || t("nothing")))));
  const statusText = (k) => t("st_" + k.status);
  const zone = () => (state.timezone ? h("p", { class: "note" }, t("times_in", { z: state.timezone })) : null);
  const ensureRules = async () => {
    if (state.activeVersion === null && !state.timezone) await ctx.loadActive().catch(() => null);
  };

  // ------------------------------------------------------------- coupons
  const codeRow = (k) =>
    h("tr", { "data-code": k.code, "data-status": k.status },
      h("td", { class: "mono" }, k.code),
      h("td", { class: "status-cell" }, statusText(k)),
      h("td", { class: "num" }, String(k.uses) + (k.max_uses ? " / " + k.max_uses : "")),
      h("td", {}, k.expires_at ? at(k.expires_at) : t("never")),
      h("td", {}, k.revoked ? `${k.revoked.by}: ${k.revoked.reason}` : ""));
  const codeHeads = () => [t("code"), t("status"), t("uses"), t("expires"), t("revoked_why")];

  async function pageCoupons() {
    await ensureRules();
    const msg = h("div", { id: "coupon-message", role: "status" });
    const codes = h("div", { id: "campaign-codes" });
    const csvHref = (c) => "/console/api/coupons?campaign=" + encodeURIComponent(c) + "&format=csv";
    const showCodes = async (campaign) => {
      try {
        const res = await api.get("coupons?campaign=" + encodeURIComponent(campaign));
        const shown = res.coupons.slice(0, 200);
        codes.replaceChildren(
          h("h3", {}, t("codes_of", { c: campaign }) + " (" + res.coupons.length + ")"),
          h("a", { class: "button", href: csvHref(campaign), download: campaign + ".csv" }, t("download_csv")),
          table("codes", codeHeads(), shown.map(codeRow)),
          res.coupons.length > shown.length ? h("p", { class: "note" }, t("first_n", { n: shown.length })) : null);
      } catch (e) { codes.replaceChildren(err(e)); }
    };
    const campaignsTable = (list) => table("campaigns",
      [t("campaign"), t("issued"), t("redeemed"), t("revoked"), t("left"), ""],
      list.map((c) => h("tr", { "data-campaign": c.campaign },
        h("td", {}, c.campaign),
        h("td", { class: "num issued" }, String(c.codes)),
        h("td", { class: "num redeemed" }, String(c.redeemed)),
        h("td", { class: "num revoked" }, String(c.revoked)),
        h("td", { class: "num left" }, String(c.left)),
        h("td", {}, h("button", { type: "button", class: "small show-codes", onclick: () => showCodes(c.campaign) }, t("show_codes")),
          " ", h("a", { class: "csv", href: csvHref(c.campaign), download: c.campaign + ".csv" }, "CSV")))));
    const campaigns = campaignsTable((await api.get("campaigns")).campaigns);
    const refresh = async () => document.getElementById("campaigns").replaceWith(campaignsTable((await api.get("campaigns")).campaigns));

    // look a code up (every role)
    const lookCode = h("input", { id: "lookup-code", placeholder: "SPRG-7K4M-Q2XD-9RTB-5", autocomplete: "off" });
    const lookOut = h("div", { id: "lookup-result" });
    const lookup = h("form", { id: "lookup-form", class: "inline", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const k = await api.get("coupon?code=" + encodeURIComponent(lookCode.value.trim()));
        lookOut.replaceChildren(
          k.status === "unknown" ? h("p", { id: "lookup-status", "data-status": k.status }, statusText(k) +
            (k.check_symbol_mismatch ? " · " + t("typo") : ""))
            : table("lookup", [t("campaign"), ...codeHeads()], [h("tr", { id: "lookup-status", "data-status": k.status },
              h("td", {}, k.campaign), ...codeRow(k).children)]));
      } catch (e) { lookOut.replaceChildren(err(e)); }
    } }, h("label", {}, t("code"), lookCode), h("button", { type: "submit", id: "lookup" }, t("look_up")));

    const parts = [
      zone(),
      h("h3", {}, t("campaigns")), campaigns,
      h("h3", {}, t("look_up_code")), lookup, lookOut,
    ];
    if (canPublish()) {
      const field = (id, label, attrs) => h("label", {}, label, h("input", { id, ...attrs }));
      const v = (id) => document.getElementById(id).value.trim();
      const num = (id) => (v(id) === "" ? undefined : Number(v(id)));
      const submit = (id, fn) => async (ev) => {
        ev.preventDefault();
        msg.replaceChildren(t("checking"));
        try { await fn(); } catch (e) { msg.replaceChildren(err(e)); }
      };
      const gen = h("form", { id: "generate-form", class: "grid", onsubmit: submit("generate", async () => {
        const campaign = v("g-campaign");
        const r = await api.post("coupons/generate", {
          campaign, count: num("g-count"), prefix: v("g-prefix") || undefined, valid_days: num("g-days"), max_uses: num("g-uses"),
        });
        msg.replaceChildren(h("span", { id: "generated" }, t("generated", { n: r.count, c: r.campaign })), " ",
          h("a", { id: "generated-csv", class: "button", href: csvHref(r.campaign), download: r.campaign + ".csv" }, t("download_csv")));
        await refresh();
        showCodes(campaign);
      }) },
        field("g-campaign", t("campaign"), { required: true, maxlength: 63 }),
        field("g-count", t("how_many"), { type: "number", min: 1, max: 10000, value: 100, required: true }),
        field("g-prefix", t("prefix"), { maxlength: 8, placeholder: "SPRG" }),
        field("g-days", t("valid_days"), { type: "number", min: 0, placeholder: t("never") }),
        field("g-uses", t("uses_per_code"), { type: "number", min: 0, value: 1 }),
        h("div", { class: "actions" }, h("button", { type: "submit", id: "generate" }, t("generate"))));
      const issue = h("form", { id: "issue-form", class: "grid", onsubmit: submit("issue", async () => {
        const r = await api.post("coupons/issue", { code: v("i-code"), campaign: v("i-campaign"), customer: v("i-customer"), valid_days: num("i-days") });
        msg.replaceChildren(h("span", { id: "issued" }, t(r.created ? "issued_to" : "already_issued", { code: r.code, c: v("i-customer") })));
      }) },
        field("i-code", t("code"), { required: true }),
        field("i-campaign", t("campaign"), { required: true }),
        field("i-customer", t("customer_id"), { required: true }),
        field("i-days", t("valid_days"), { type: "number", min: 0, placeholder: t("never") }),
        h("div", { class: "actions" }, h("button", { type: "submit", id: "issue" }, t("issue"))));
      const revoke = h("form", { id: "revoke-form", class: "grid", onsubmit: submit("revoke", async () => {
        const r = await api.post("coupons/revoke", { code: v("r-code"), reason: v("r-reason") });
        msg.replaceChildren(h("span", { id: "revoked-msg" }, t("revoked_code", { code: r.code })));
        lookCode.value = r.code;
        lookup.requestSubmit();
        await refresh();
      }) },
        field("r-code", t("code"), { required: true }),
        field("r-reason", t("reason"), { required: true, maxlength: 255 }),
        h("div", { class: "actions" }, h("button", { type: "submit", id: "revoke", class: "danger" }, t("revoke"))));
      // codes changed in place: a campaign's or one code's end and limits; only what is filled in changes
      const change = h("form", { id: "change-form", class: "grid", onsubmit: submit("change", async () => {
        const never = document.getElementById("c-never").checked;
        const body = { reason: v("c-reason") };
        if (v("c-code")) body.code = v("c-code");
        else body.campaign = v("c-campaign");
        if (never) body.expires = "never";
        else if (v("c-expires")) body.expires = v("c-expires");
        if (num("c-uses") !== undefined) body.max_uses = num("c-uses");
        if (num("c-per") !== undefined) body.max_per_customer = num("c-per");
        const r = await api.post("coupons/change", body);
        msg.replaceChildren(h("span", { id: "changed-msg" }, t("changed_codes", { n: r.changed, c: r.campaign || r.code, k: r.revoked_left_alone })));
        await refresh();
        if (r.campaign) showCodes(r.campaign);
      }) },
        field("c-campaign", t("campaign"), { maxlength: 63 }),
        field("c-code", t("or_one_code"), { autocomplete: "off" }),
        field("c-expires", t("valid_through"), { type: "date" }),
        h("label", { class: "check" }, h("input", { id: "c-never", type: "checkbox" }), t("never_ends")),
        field("c-uses", t("uses_per_code"), { type: "number", min: 0, placeholder: t("unchanged") }),
        field("c-per", t("uses_per_customer"), { type: "number", min: 0, placeholder: t("unchanged") }),
        field("c-reason", t("reason"), { required: true, maxlength: 255 }),
        h("div", { class: "actions" }, h("button", { type: "submit", id: "change" }, t("change_codes"))));
      parts.push(msg,
        h("h3", {}, t("generate_batch")), gen,
        h("h3", {}, t("issue_code")), issue,
        h("h3", {}, t("change_codes_title")), change,
        h("h3", {}, t("revoke_code")), revoke);
    } else {
      parts.push(h("p", { class: "note", id: "publisher-only-coupons" }, t("publisher_only_coupons")));
    }
    parts.push(codes);
    shell(parts);
  }

  // ----------------------------------------------------------- customers
  async function pageCustomers() {
    await ensureRules();
    const id = h("input", { id: "customer-id", value: sessionStorage.getItem("perk.customer") || "", autocomplete: "off", required: true });
    const out = h("div", { id: "customer" });
    const pages = []; // the `after` of each ledger page shown, to go back
    const load = async (after) => {
      const cid = id.value.trim();
      if (!cid) return;
      sessionStorage.setItem("perk.customer", cid);
      try {
        const c = await api.get("customer?id=" + encodeURIComponent(cid) + (after ? "&after=" + after : ""));
        const card = (cls, label, value) => h("div", { class: "total" }, h("span", {}, label), h("strong", { id: "cu-" + cls }, value));
        const ledger = table("ledger", [t("when"), t("kind"), t("points"), t("order"), t("available_at"), t("expires"), t("detail")],
          c.ledger.map((e) => h("tr", { "data-kind": e.kind },
            h("td", {}, at(e.created_at)),
            h("td", {}, t("kind_" + e.kind)),
            h("td", { class: "num" }, (e.points > 0 ? "+" : "") + e.points),
            h("td", {}, e.order_id || ""),
            h("td", {}, at(e.available_at)),
            // points earned without an expiry keep forever; other rows have no expiry of their own
            h("td", {}, e.expires_at ? at(e.expires_at) : e.points > 0 && e.kind === "earn" ? t("never") : ""),
            h("td", {}, [e.rule_id, e.note].filter(Boolean).join(" · ")))));
        const nav = h("div", { class: "pager" },
          h("button", { type: "button", id: "ledger-prev", class: "small", disabled: !after, onclick: () => { pages.pop(); load(pages[pages.length - 1] || 0); } }, t("previous")),
          h("button", { type: "button", id: "ledger-next", class: "small", disabled: c.next_after === null, onclick: () => { pages.push(c.next_after); load(c.next_after); } }, t("next")));
        out.replaceChildren(
          h("div", { class: "totals" },
            card("balance", t("balance"), String(c.balance)),
            card("pending", t("pending"), String(c.pending)),
            card("expiring", t("expiring_soon"), String(c.expiring_soon)),
            card("next-expiry", t("next_expiry"), c.next_expiry_at ? c.next_expiry_points + " · " + at(c.next_expiry_at) : "—"),
            card("tier", t("tier"), c.tier || "—"),
            c.debt ? card("debt", t("debt"), String(c.debt)) : null),
          h("h3", {}, t("ledger")), ledger, nav,
          h("h3", {}, t("wallet")),
          table("wallet", [t("code"), t("campaign"), t("status"), t("uses_left"), t("expires")],
            c.coupons.map((k) => h("tr", { "data-code": k.code, "data-status": k.status },
              h("td", { class: "mono" }, k.code), h("td", {}, k.campaign), h("td", {}, statusText(k)),
              h("td", { class: "num" }, k.uses_left === null ? "∞" : String(k.uses_left)),
              h("td", {}, k.expires_at ? at(k.expires_at) : t("never"))))));
      } catch (e) { out.replaceChildren(err(e)); }
    };
    shell([
      zone(),
      h("form", { class: "inline", id: "customer-form", onsubmit: (ev) => { ev.preventDefault(); pages.length = 0; load(0); } },
        h("label", {}, t("customer_id"), id), h("button", { type: "submit", id: "customer-lookup" }, t("look_up"))),
      out,
    ]);
    if (id.value) load(0);
  }

  // -------------------------------------------------------------- outbox
  const summary = (e) => {
    const d = e.data || {};
    return ["order_id", "customer_id", "refund_id", "version_id", "balance", "tier", "code"].filter((k) => d[k] !== undefined && d[k] !== null)
      .map((k) => k + " " + (typeof d[k] === "object" ? JSON.stringify(d[k]) : d[k])).join(" · ");
  };

  async function pageOutbox() {
    await ensureRules();
    const out = h("div", { id: "outbox" });
    const trail = [];
    const load = async (after) => {
      try {
        const r = await api.get("outbox" + (after ? "?after=" + after : ""));
        const hooks = r.webhooks.length
          ? table("webhooks", [t("url"), t("position"), t("backlog"), t("last_error"), t("next_retry")],
            r.webhooks.map((w) => h("tr", { class: w.failing_event ? "failing" : "ok" },
              h("td", { class: "mono" }, w.url),
              h("td", { class: "num position" }, String(w.position)),
              h("td", { class: "num backlog" }, String(w.backlog) + (w.backlog_capped ? "+" : "")),
              h("td", {}, w.last_error ? (w.failing_event ? t("event") + " " + w.failing_event + ": " : "") + w.last_error + " (" + at(w.last_error_at) + ")" : "—"),
              h("td", {}, w.next_retry_at ? at(w.next_retry_at) : "—"))))
          : h("p", { id: "no-webhook", class: "note" }, t("no_webhook"));
        out.replaceChildren(
          h("h3", {}, t("webhooks")), hooks,
          h("h3", {}, t("events")),
          table("events", [t("id"), t("type"), t("when"), t("detail")],
            r.events.map((e) => h("tr", { "data-id": e.id, "data-type": e.type },
              h("td", { class: "num" }, String(e.id)), h("td", { class: "mono type" }, e.type), h("td", {}, at(e.time)),
              h("td", {}, h("details", {}, h("summary", {}, summary(e) || "…"), h("pre", {}, JSON.stringify(e.data, null, 2))))))),
          h("div", { class: "pager" },
            h("button", { type: "button", id: "events-prev", class: "small", disabled: !after, onclick: () => { trail.pop(); load(trail[trail.length - 1] || 0); } }, t("previous")),
            h("button", { type: "button", id: "events-next", class: "small", disabled: r.next_after === null, onclick: () => { trail.push(r.next_after); load(r.next_after); } }, t("next"))));
      } catch (e) { out.replaceChildren(err(e)); }
    };
    shell([zone(), out]);
    await load(0);
  }

  return { coupons: pageCoupons, customers: pageCustomers, outbox: pageOutbox };
}

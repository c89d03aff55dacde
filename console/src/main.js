// main.js - the operators' console (docs/console.md): sign in, then the pages Rules, Simulate,
// Tests, Publish, Results, Coupons, Customers, Outbox (ops.js) and Audit log, each talking to perk serve's /console/api. Built by
// esbuild into build/console/app.js and embedded into the perk binary. The DOM is built with
// textContent only (never innerHTML), so nothing the server sends is run as markup.

import { api, setCsrf, ApiError } from "./api.js";
import { t, language, setLanguage, money, when } from "./i18n.js";
import { createEditor, setDiagnostics, applyFixes, fixLabel } from "./editor.js";
import { barChart } from "./chart.js";
import { opsPages } from "./ops.js";

const state = {
  me: null, // {name, role, csrf}
  ruleName: "draft.perk",
  activeSource: "",
  activeVersion: null,
  currency: null,
  timezone: null, // the rule set's IANA zone: times are shown in it
  activeFiles: {}, // the files the active version's main file includes {path: text}
  currentFile: null, // the file the Rules editor shows (the main one when null)
  editor: null,
  lastDiagnostics: [],
};

// h("div", {class: "x", onclick: f}, "text", child...)
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const canEdit = () => state.me && (state.me.role === "editor" || state.me.role === "publisher");
const canPublish = () => state.me && state.me.role === "publisher";

// The draft lives in the browser: the main file under perk.draft.NAME, the files it includes as
// one object {path: text} under perk.files.NAME.
function draftKey() {
  return "perk.draft." + state.ruleName;
}
function filesKey() {
  return "perk.files." + state.ruleName;
}
const showsMain = () => !state.currentFile || state.currentFile === state.ruleName;
function draftSource() {
  return state.editor && showsMain() ? state.editor.state.doc.toString() : localStorage.getItem(draftKey()) ?? state.activeSource;
}
function saveDraft(text) {
  localStorage.setItem(draftKey(), text);
}
function draftFiles() {
  try {
    const f = JSON.parse(localStorage.getItem(filesKey()) || "null");
    if (f && typeof f === "object" && !Array.isArray(f)) return f;
  } catch (e) {
    /* a damaged entry: the active version's files */
  }
  return { ...state.activeFiles };
}
function saveFiles(files) {
  localStorage.setItem(filesKey(), JSON.stringify(files));
}
// What the API's draft calls take: the main file, its name and the files it includes.
function draftBody(extra) {
  return { source: draftSource(), name: state.ruleName, files: draftFiles(), ...extra };
}

function errorBox(e) {
  return h("p", { class: "error", role: "alert" }, e instanceof ApiError ? e.message : String(e));
}

// ------------------------------------------------------------------ shell

const pages = ["rules", "simulate", "tests", "publish", "results", "coupons", "customers", "outbox", "audit"];

function shell(content) {
  const current = location.hash.replace(/^#\/?/, "") || "rules";
  const nav = h(
    "nav",
    { class: "nav" },
    pages.map((p) => h("a", { href: "#/" + p, class: p === current ? "current" : null, id: "nav-" + p }, t(p === "coupons" ? "coupons_page" : p)))
  );
  const who = h(
    "div",
    { class: "who" },
    h("span", { id: "who" }, state.me.name + " · " + t("role") + " " + t("role_" + state.me.role)),
    h("button", { id: "lang", type: "button", onclick: switchLanguage }, t("language")),
    h("button", { id: "signout", type: "button", onclick: signOut }, t("signout"))
  );
  const header = h("header", { class: "top" }, h("h1", {}, t("title")), nav, who);
  document.body.replaceChildren(header, h("main", { id: "page", "data-page": current }, content));
}

function switchLanguage() {
  setLanguage(language() === "zh" ? "en" : "zh");
  route();
}

async function signOut() {
  try {
    await api.post("logout", {});
  } catch (e) {
    /* signed out either way */
  }
  state.me = null;
  setCsrf("");
  showSignIn();
}

// ---------------------------------------------------------------- sign in

function showSignIn(message) {
  const name = h("input", { id: "name", name: "name", autocomplete: "username", required: true });
  const password = h("input", {
    id: "password", name: "password", type: "password", autocomplete: "current-password", required: true,
  });
  const err = h("p", { class: "error", id: "signin-error", role: "alert" }, message || "");
  const form = h(
    "form",
    { class: "signin", id: "signin-form" },
    h("h1", {}, t("title")),
    h("label", {}, t("name"), name),
    h("label", {}, t("password"), password),
    h("button", { type: "submit", id: "signin" }, t("signin")),
    err,
    h("button", { type: "button", class: "link", id: "lang", onclick: () => { switchLanguageSignIn(); } }, t("language"))
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const me = await api.post("login", { name: name.value, password: password.value });
      signedIn(me);
    } catch (e) {
      err.textContent = t("signin_failed") + ": " + (e.message || e);
    }
  });
  document.body.replaceChildren(h("main", { class: "center" }, form));
  name.focus();
}

function switchLanguageSignIn() {
  setLanguage(language() === "zh" ? "en" : "zh");
  showSignIn();
}

function signedIn(me) {
  state.me = me;
  setCsrf(me.csrf);
  if (!location.hash) location.hash = "#/rules";
  route();
}

// ------------------------------------------------------------------ rules

async function loadActive() {
  const r = await api.get("rules");
  state.activeSource = r.source || "";
  state.activeFiles = r.files || {};
  state.activeVersion = r.version;
  state.currency = r.currency || state.currency;
  state.timezone = r.timezone || state.timezone;
  if (r.name) state.ruleName = r.name;
}

// The diagnostics under the editor; with `editor` (the Rules page), a diagnostic with fix-its has a
// Quick fix button that edits the text (the re-check then refreshes this list).
function diagList(diags, editor, shown) {
  if (!diags.length) return h("ul", { id: "diagnostics", class: "diags" });
  // a diagnostic in another file than the one shown names it (and has no quick fix here)
  const elsewhere = (d) => shown && d.file && d.file !== shown;
  return h(
    "ul",
    { id: "diagnostics", class: "diags" },
    diags.map((d) =>
      h(
        "li",
        { class: "diag " + d.severity, "data-line": d.line, "data-column": d.column, "data-code": d.code, "data-file": d.file || null },
        h("span", { class: "where" }, (elsewhere(d) ? d.file + " " : "") + t("line") + " " + d.line + ":" + d.column),
        " ",
        h("span", { class: "sev" }, d.severity),
        " ",
        h("span", { class: "msg" }, d.message),
        d.hint ? h("div", { class: "hint" }, t("hint") + ": " + d.hint) : null,
        h("span", { class: "code" }, " [" + d.code + "]"),
        editor && !elsewhere(d) && d.fixes && d.fixes.length
          ? h("button", { type: "button", class: "quick-fix", onclick: () => applyFixes(editor, d.fixes, 0) },
              fixLabel(editor.state.doc, d.fixes))
          : null
      )
    )
  );
}

// `include "x"` lines of a rule file (comments and strings elsewhere are not looked at).
function includesOf(text) {
  const out = [];
  const re = /^[ \t]*include[ \t]*"([^"\n]*)"/gm;
  for (let m; (m = re.exec(text || "")); ) out.push(m[1]);
  return out;
}

// `include name` in the file at `from`, as the server resolves it: relative to the including
// file, "." and ".." resolved; null when it leaves the draft's folder.
function includePath(from, name) {
  if (name.startsWith("/")) return null;
  const out = [];
  for (const p of from.split("/").slice(0, -1).concat(name.split("/"))) {
    if (!p || p === ".") continue;
    if (p === "..") {
      if (!out.length) return null;
      out.pop();
    } else out.push(p);
  }
  return out.join("/");
}

// A file name the server keeps: a relative path of letters, digits, _, - and . ending in .perk.
const validPath = (p) =>
  p.length <= 128 && /^([A-Za-z0-9_.-]+\/)*[A-Za-z0-9_.-]+\.perk$/.test(p) && !p.split("/").some((s) => s === "." || s === "..");

// The draft's files as a tree: the main file at the root, under each file the files it includes
// (a file included twice is listed once, where it is first included, as the compiler reads it;
// an include the draft has no file for is marked missing), then the files nothing includes.
// Each file shows its error and warning counts from the last check.
function fileTree(main, mainText, files, diags, current, open) {
  const counts = {};
  for (const d of diags) {
    const f = d.file || main;
    counts[f] = counts[f] || { error: 0, warning: 0 };
    if (d.severity in counts[f]) counts[f][d.severity]++;
  }
  const seen = new Set([main]);
  const item = (path, missing) => {
    const kids = [];
    if (!missing)
      for (const name of includesOf(path === main ? mainText : files[path])) {
        const p = includePath(path, name);
        if (p === null || seen.has(p)) continue;
        seen.add(p);
        kids.push(item(p, !(p in files)));
      }
    const c = counts[path] || { error: 0, warning: 0 };
    const badge = c.error ? h("span", { class: "badge bad" }, String(c.error))
      : c.warning ? h("span", { class: "badge warn" }, String(c.warning)) : null;
    return h(
      "li",
      { "data-file": path, class: missing ? "missing" : null },
      h("button", {
        type: "button", class: "file-link" + (path === current ? " current" : ""), disabled: missing,
        "aria-current": path === current ? "true" : null, onclick: () => open(path),
      }, path, missing ? " (" + t("file_missing") + ")" : null, badge),
      kids.length ? h("ul", {}, kids) : null
    );
  };
  const tree = h("ul", { id: "file-tree", class: "tree" }, item(main, false));
  const loose = Object.keys(files).filter((p) => !seen.has(p)).sort();
  return [
    tree,
    loose.length ? h("p", { class: "note" }, t("files_not_included")) : null,
    loose.length ? h("ul", { id: "files-loose", class: "tree" }, loose.map((p) => item(p, false))) : null,
  ];
}

// The draft this browser last saved to or opened from the server: {draft, revision}.
function serverDraftKey() {
  return "perk.serverdraft." + state.ruleName;
}
function serverDraft() {
  try {
    return JSON.parse(localStorage.getItem(serverDraftKey()) || "null");
  } catch (e) {
    return null;
  }
}

// Drafts kept on the server, so that an editor's work reaches the publisher who reviews it: the
// list (open one: it replaces this browser's draft), and for editors save (under a name; the
// revision it was opened at goes with it, and a colleague's later save is reported, never
// overwritten unseen) and delete. `reopen` shows the draft again after opening one.
function serverDrafts(reopen) {
  const box = h("div", { id: "server-drafts-box", class: "server-drafts" });
  const msg = h("p", { id: "draft-message", class: "note", role: "status" });
  const current = h("p", { id: "draft-current", class: "note" });
  const name = h("input", { id: "draft-name", size: 18, placeholder: t("draft_name"), "aria-label": t("draft_name") });
  const showCurrent = () => {
    const d = serverDraft();
    current.textContent = d ? t("draft_is", { d: d.draft, r: d.revision }) : "";
    if (d && !name.value) name.value = d.draft;
  };
  const save = async (revision) => {
    const draft = name.value.trim();
    if (!draft) {
      msg.textContent = t("draft_name_needed");
      return;
    }
    if (state.editor && showsMain()) saveDraft(state.editor.state.doc.toString());
    try {
      const res = await api.post("drafts/save", draftBody({ draft, revision }));
      localStorage.setItem(serverDraftKey(), JSON.stringify({ draft, revision: res.revision }));
      msg.replaceChildren(t("draft_saved", { d: draft, r: res.revision }));
      showCurrent();
      await refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.body && e.body.revision) {
        // saved by someone else since: say who, offer to open theirs or to save over it
        msg.replaceChildren(
          h("span", { class: "error" }, t("draft_changed", { d: draft, b: e.body.saved_by, r: e.body.revision })),
          " ",
          h("button", { type: "button", class: "small", id: "open-theirs", onclick: () => openDraft(draft) }, t("open")),
          " ",
          canEdit() ? h("button", { type: "button", class: "small danger", id: "overwrite-draft", onclick: () => save(e.body.revision) }, t("save_over")) : null
        );
      } else msg.replaceChildren(errorBox(e));
    }
  };
  const openDraft = async (draft) => {
    try {
      const d = await api.get("draft?draft=" + encodeURIComponent(draft));
      saveDraft(d.source);
      saveFiles(d.files || {});
      localStorage.setItem(serverDraftKey(), JSON.stringify({ draft: d.draft, revision: d.revision }));
      name.value = d.draft;
      msg.textContent = t("draft_opened", { d: d.draft, r: d.revision, b: d.saved_by });
      showCurrent();
      reopen();
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  };
  const remove = async (d) => {
    try {
      await api.post("drafts/delete", { draft: d.draft, revision: d.revision });
      const mine = serverDraft();
      if (mine && mine.draft === d.draft) localStorage.removeItem(serverDraftKey());
      msg.textContent = t("draft_deleted", { d: d.draft });
      showCurrent();
      await refresh();
    } catch (e) {
      msg.replaceChildren(errorBox(e));
    }
  };
  const list = h("ul", { id: "server-drafts", class: "tree" });
  const refresh = async () => {
    const res = await api.get("drafts");
    list.replaceChildren(
      ...(res.drafts.length ? [] : [h("li", { class: "note" }, t("no_drafts"))]),
      ...res.drafts.map((d) =>
        h(
          "li",
          { "data-draft": d.draft, "data-revision": d.revision },
          h("div", { class: "draft-name" }, d.draft),
          h("div", { class: "note" }, t("draft_meta", { r: d.revision, b: d.saved_by, w: when(d.saved_at, state.timezone) })),
          h("button", { type: "button", class: "small open-draft", onclick: () => openDraft(d.draft) }, t("open")),
          canEdit() ? h("button", { type: "button", class: "small delete-draft", onclick: () => remove(d) }, t("delete")) : null
        )
      )
    );
  };
  box.append(
    h("h3", {}, t("server_drafts")),
    list,
    canEdit()
      ? h("div", { class: "new-file" }, name, h("button", { id: "save-draft", type: "button", onclick: () => {
          const d = serverDraft();
          save(d && d.draft === name.value.trim() ? d.revision : 0);
        } }, t("save_draft")))
      : null,
    current,
    msg
  );
  showCurrent();
  refresh().catch((e) => msg.replaceChildren(errorBox(e)));
  return box;
}

async function pageRules() {
  await loadActive();
  const main = state.ruleName;
  if (state.currentFile !== main && !(state.currentFile in draftFiles())) state.currentFile = main;
  const status = h("p", { id: "check-status", class: "status" }, t("checking"));
  const list = h("div", { id: "diag-box" });
  const host = h("div", { id: "editor", class: "editor" });
  const treeBox = h("div", { id: "file-tree-box" });
  const fileLabel = h("span", { class: "file", id: "current-file" }, state.currentFile);
  const mainText = () => localStorage.getItem(draftKey()) ?? state.activeSource;
  const textOf = (path) => (path === main ? mainText() : draftFiles()[path] ?? "");
  const keep = (path, text) => {
    if (path === main) saveDraft(text);
    else {
      const f = draftFiles();
      f[path] = text;
      saveFiles(f);
    }
  };
  const renderTree = () =>
    treeBox.replaceChildren(...fileTree(main, mainText(), draftFiles(), state.lastDiagnostics, state.currentFile, open).filter(Boolean));
  const show = (res) => {
    state.lastDiagnostics = res.diagnostics || [];
    const errs = state.lastDiagnostics.filter((d) => d.severity === "error").length;
    const warns = state.lastDiagnostics.filter((d) => d.severity === "warning").length;
    status.textContent = res.ok ? t("compiles", { n: res.promotions }) + (warns ? " · " + t("errors", { n: 0, w: warns }) : "")
      : t("errors", { n: errs, w: warns });
    status.className = "status " + (res.ok ? "ok" : "bad");
    if (res.currency) state.currency = res.currency;
    list.replaceChildren(diagList(state.lastDiagnostics, state.editor, state.currentFile));
    renderTree();
  };
  // the whole draft is checked; the editor marks the diagnostics of the file it shows
  const check = async (text) => {
    const path = state.currentFile;
    keep(path, text);
    renderTree();
    if (!canEdit()) return [];
    const res = await api.post("check", draftBody());
    show(res);
    return (res.diagnostics || []).filter((d) => (d.file || main) === path);
  };
  function open(path) {
    if (state.editor) {
      keep(state.currentFile, state.editor.state.doc.toString());
      state.editor.destroy();
    }
    state.currentFile = path;
    fileLabel.textContent = path;
    deleteBtn.hidden = path === main || !canEdit();
    host.replaceChildren();
    const text = textOf(path);
    state.editor = createEditor(host, text, check, !canEdit());
    renderTree();
    if (canEdit()) check(text).catch((e) => status.replaceChildren(errorBox(e)));
  }
  const fmt = async () => {
    const res = await api.post("format", { source: state.editor.state.doc.toString(), name: state.currentFile });
    if (res.ok) {
      state.editor.dispatch({ changes: { from: 0, to: state.editor.state.doc.length, insert: res.source } });
    } else {
      show({ ...res, diagnostics: (res.diagnostics || []).map((d) => ({ ...d, file: state.currentFile })) });
      setDiagnostics(state.editor, res.diagnostics);
    }
  };
  const reset = () => {
    saveDraft(state.activeSource);
    saveFiles({ ...state.activeFiles });
    state.editor.destroy();
    state.editor = null;
    open(main);
  };
  const newName = h("input", { id: "new-file-name", size: 22, placeholder: "lib/catalogue.perk", "aria-label": t("new_file") });
  const fileMsg = h("span", { id: "file-message", class: "note", role: "status" });
  const addFile = () => {
    const path = newName.value.trim();
    const files = draftFiles();
    if (!validPath(path)) fileMsg.textContent = t("file_name_rule");
    else if (path === main || path in files) fileMsg.textContent = t("file_exists", { f: path });
    else {
      files[path] = "";
      saveFiles(files);
      newName.value = "";
      fileMsg.textContent = "";
      open(path);
    }
  };
  const deleteBtn = h("button", { id: "delete-file", type: "button", hidden: true, onclick: () => {
    const files = draftFiles();
    delete files[state.currentFile];
    saveFiles(files);
    state.editor.destroy();
    state.editor = null;
    open(main);
  } }, t("delete_file"));
  const bar = h(
    "div",
    { class: "toolbar" },
    fileLabel,
    h("span", { id: "active-version" }, state.activeVersion ? t("active_version") + " " + state.activeVersion : t("no_active")),
    canEdit() ? h("button", { id: "format", type: "button", onclick: fmt }, t("format")) : null,
    h("button", { id: "load-active", type: "button", onclick: reset }, t("reload_active")),
    deleteBtn
  );
  const side = h(
    "aside",
    { class: "files", "aria-label": t("files") },
    h("h3", {}, t("files")),
    treeBox,
    canEdit() ? h("div", { class: "new-file" }, newName, h("button", { id: "new-file", type: "button", onclick: addFile }, t("new_file")), fileMsg) : null,
    serverDrafts(() => {
      state.editor.destroy();
      state.editor = null;
      open(main);
    })
  );
  shell([bar, h("div", { class: "rules-layout" }, side, h("div", { class: "rules-main" }, host, status, list))]);
  state.editor = null;
  open(state.currentFile);
  if (!canEdit()) status.textContent = "";
}

// --------------------------------------------------------------- simulate

function lineRow(line) {
  const cell = (key, attrs) => h("td", {}, h("input", { "data-key": key, value: line[key] ?? "", ...attrs }));
  const tr = h(
    "tr",
    { class: "cart-line" },
    cell("sku", { size: 10 }),
    cell("category", { size: 10 }),
    cell("price", { size: 7, inputmode: "decimal" }),
    cell("quantity", { size: 3, inputmode: "numeric" }),
    cell("tags", { size: 10 }),
    h("td", {}, h("button", { type: "button", class: "small", onclick: () => tr.remove() }, t("remove")))
  );
  return tr;
}

const split = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);

function readCart(form) {
  const lines = [...form.querySelectorAll("tr.cart-line")].map((tr, i) => {
    const get = (k) => tr.querySelector(`[data-key="${k}"]`).value.trim();
    const line = { id: String(i + 1), sku: get("sku"), price: get("price"), quantity: Number(get("quantity") || "1") };
    if (get("category")) line.category = get("category");
    if (get("tags")) line.tags = split(get("tags"));
    return line;
  });
  const v = (id) => form.querySelector("#" + id).value.trim();
  const customer = { id: v("c-id") || "console" };
  if (v("c-tier")) customer.tier = v("c-tier");
  if (v("c-tags")) customer.tags = split(v("c-tags"));
  if (v("c-birthday")) customer.birthday = v("c-birthday");
  const order = { id: "console-simulation", time: v("o-time") || new Date().toISOString().slice(0, 19) + "Z" };
  if (v("o-shipping")) order.shipping = v("o-shipping");
  const cart = { order, customer, lines };
  if (v("o-coupons")) cart.coupons = split(v("o-coupons"));
  return cart;
}

function resultView(res) {
  const cur = res.currency;
  const total = (id, label, value) => h("div", { class: "total" }, h("span", {}, label), h("strong", { id }, value));
  const totals = h(
    "div",
    { class: "totals" },
    total("r-subtotal", t("subtotal"), money(res.subtotal, cur)),
    total("r-discount", t("discount"), money(res.discount, cur)),
    total("r-shipping", t("shipping"), money(res.shipping ? res.shipping.after : null, cur)),
    total("r-payable", t("payable"), money(res.payable, cur)),
    total("r-points", t("points_earned"), String(res.points_earned ?? 0))
  );
  const promos = h(
    "table",
    { id: "r-promotions" },
    h("thead", {}, h("tr", {}, h("th", {}, t("promotion")), h("th", {}, t("applied")), h("th", {}, t("discount")), h("th", {}, t("why")))),
    h(
      "tbody",
      {},
      (res.promotions || []).map((p) =>
        h(
          "tr",
          { "data-promotion": p.id, class: p.applied ? "yes" : "no" },
          h("td", {}, p.id + (p.label ? " " + p.label : "")),
          h("td", {}, p.applied ? "✓" : "✗"),
          h("td", { class: "num" }, money(p.discount, cur)),
          h("td", {}, p.applied ? "" : p.condition && p.condition.explanation ? p.condition.text + ": " + p.condition.explanation : p.reason_text)
        )
      )
    )
  );
  const hints = h("ul", { id: "r-hints" }, (res.hints || []).map((x) => h("li", { "data-promotion": x.promotion }, x.text)));
  return [totals, h("h3", {}, t("promotion")), promos, h("h3", {}, t("hints")), hints];
}

// The last cart simulated, kept in the browser so that the page opens with it.
function savedCart() {
  try {
    return JSON.parse(localStorage.getItem("perk.cart") || "null");
  } catch (e) {
    return null;
  }
}

async function pageSimulate() {
  if (!state.activeSource && state.activeVersion === null) await loadActive();
  const last = savedCart();
  const rows = last && last.lines && last.lines.length
    ? last.lines.map((l) => lineRow({ ...l, tags: (l.tags || []).join(", ") }))
    : [lineRow({ sku: "", price: "", quantity: 1 })];
  const tbody = h("tbody", { id: "cart-lines" }, rows);
  const out = h("div", { id: "sim-result" });
  const form = h(
    "form",
    { id: "sim-form", class: "sim" },
    h("h3", {}, t("lines")),
    h(
      "table",
      { class: "lines" },
      h("thead", {}, h("tr", {}, ["sku", "category", "price", "qty", "tags", ""].map((k) => h("th", {}, k ? t(k) : "")))),
      tbody
    ),
    h("button", { type: "button", id: "add-line", onclick: () => tbody.append(lineRow({ quantity: 1 })) }, t("add_line")),
    h("h3", {}, t("customer")),
    h(
      "div",
      { class: "grid" },
      h("label", {}, t("customer_id"), h("input", { id: "c-id", value: (last && last.customer.id) || "c1" })),
      h("label", {}, t("tier"), h("input", { id: "c-tier", value: last && last.customer.tier })),
      h("label", {}, t("tags"), h("input", { id: "c-tags", value: last && (last.customer.tags || []).join(", ") })),
      h("label", {}, t("birthday"), h("input", { id: "c-birthday", placeholder: "1990-07-01", value: last && last.customer.birthday })),
      h("label", {}, t("coupons"), h("input", { id: "o-coupons", value: last && (last.coupons || []).join(", ") })),
      h("label", {}, t("time"), h("input", { id: "o-time", placeholder: "2026-03-04T10:00:00+08:00", value: last && last.order.time })),
      h("label", {}, t("shipping"), h("input", { id: "o-shipping", placeholder: "12.00", value: last && last.order.shipping }))
    ),
    h("button", { type: "submit", id: "run-simulation", disabled: !canEdit() }, t("run_simulation"))
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.replaceChildren(t("checking"));
    try {
      const cart = readCart(form);
      localStorage.setItem("perk.cart", JSON.stringify(cart));
      const res = await api.post("simulate", draftBody({ cart }));
      if (!res.ok) {
        out.replaceChildren(res.diagnostics ? diagList(res.diagnostics) : errorBox(res.error ? res.error.message : "failed"));
        return;
      }
      out.replaceChildren(...resultView(res.result), h("h3", {}, t("explanation")), h("pre", { id: "r-explanation" }, res.explanation));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  });
  shell([form, out]);
}

// ------------------------------------------------------------------ tests

async function pageTests() {
  if (!state.activeSource && state.activeVersion === null) await loadActive();
  const key = "perk.tests." + state.ruleName;
  const area = h("textarea", { id: "tests-text", rows: 18, spellcheck: "false" });
  area.value = localStorage.getItem(key) || "";
  area.addEventListener("input", () => localStorage.setItem(key, area.value));
  const out = h("div", { id: "tests-result" });
  const run = async () => {
    out.replaceChildren(t("checking"));
    try {
      const res = await api.post("test", draftBody({ tests: area.value }));
      if (res.diagnostics) {
        out.replaceChildren(diagList(res.diagnostics));
        return;
      }
      out.replaceChildren(
        h("p", { id: "tests-summary", class: "status " + (res.failed ? "bad" : "ok") },
          `${res.passed} ${t("passed")}, ${res.failed} ${t("failed")}`),
        h("pre", { id: "tests-log" }, res.log.join("\n"))
      );
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  };
  shell([
    h("h3", {}, t("test_file") + " (" + state.ruleName.replace(/\.perk$/, ".test") + ")"),
    area,
    h("div", {}, h("button", { id: "run-tests", type: "button", onclick: run, disabled: !canEdit() }, t("run_tests"))),
    out,
  ]);
}

// ---------------------------------------------------------------- publish

// The changed lines of two texts (a longest-common-subsequence diff, enough for rule files).
function lineDiff(a, b) {
  const lines = (t) => (t === "" ? [] : t.split("\n")); // an empty (or absent) file has no line
  const x = lines(a), y = lines(b);
  const n = x.length, m = y.length;
  if (n * m > 4e6) return [{ op: "=", text: "(too large to compare here)" }];
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { out.push({ op: " ", text: x[i] }); i++; j++; }
    else if (j < m && (i >= n || L[i][j + 1] >= L[i + 1][j])) { out.push({ op: "+", text: y[j] }); j++; }
    else { out.push({ op: "-", text: x[i] }); i++; }
  }
  return out;
}

function diffView(a, b, id) {
  const d = lineDiff(a, b);
  const keep = d.map((e, k) => e.op !== " " || d.slice(Math.max(0, k - 2), k + 3).some((z) => z.op !== " "));
  const rows = d.filter((e, k) => keep[k]);
  return h("pre", { id: id || null, class: "diff" }, rows.map((e) => h("div", { class: e.op === "+" ? "add" : e.op === "-" ? "del" : "same" }, e.op + " " + e.text)));
}

// The draft against the active version: the main file, then each included file that was added,
// changed or removed, under its name.
function draftDiff(draft) {
  const files = draftFiles();
  const paths = [...new Set([...Object.keys(state.activeFiles), ...Object.keys(files)])].sort();
  const out = [diffView(state.activeSource, draft, "rules-diff")];
  for (const p of paths) {
    const a = state.activeFiles[p], b = files[p];
    if (a === b) continue;
    const what = a === undefined ? t("file_added") : b === undefined ? t("file_removed") : t("file_changed");
    out.push(h("h4", { class: "diff-file", "data-file": p }, p + " (" + what + ")"), diffView(a ?? "", b ?? ""));
  }
  return h("div", { id: "draft-diff" }, out);
}

async function historyTable(msg) {
  const res = await api.get("history");
  return h(
    "table",
    { id: "history" },
    h("thead", {}, h("tr", {}, [t("version"), t("message"), t("author"), t("when"), ""].map((x) => h("th", {}, x)))),
    h(
      "tbody",
      {},
      res.versions.map((v) =>
        h(
          "tr",
          { "data-version": v.id, class: v.active ? "active" : null },
          h("td", { "data-scheduled": v.next_activation_at ? String(v.next_activation_at) : null },
            String(v.id) + (v.active ? " (" + t("active") + ")" : "") +
            (v.next_activation_at ? " (" + t("scheduled_for", { t: when(v.next_activation_at, state.timezone) }) + ")" : "")),
          h("td", { class: "message" }, v.message),
          h("td", {}, v.author),
          h("td", {}, when(v.created_at, state.timezone)),
          h("td", {}, canPublish() && !v.active
            ? h("button", { type: "button", class: "rollback", "data-version": v.id, onclick: async () => {
                try {
                  await api.post("rollback", { version: v.id, message: "rollback from the console" });
                  msg.textContent = t("rolled_back", { v: v.id });
                  route();
                } catch (e) { msg.replaceChildren(errorBox(e)); }
              } }, t("rollback"))
            : "")
        )
      )
    )
  );
}

async function pagePublish() {
  await loadActive();
  const draft = draftSource();
  const msg = h("div", { id: "publish-message" });
  const whatif = h("div", { id: "whatif" });
  const runWhatif = async () => {
    whatif.replaceChildren(t("checking"));
    try {
      const res = await api.post("whatif", draftBody());
      if (!res.report) { whatif.replaceChildren(res.message || ""); return; }
      const r = res.report, cur = r.currency || state.currency;
      const tot = (k) => (r.totals && r.totals[k]) || {};
      whatif.replaceChildren(
        h("div", { class: "totals" },
          h("div", { class: "total" }, h("span", {}, t("compared")), h("strong", { id: "w-compared" }, String(r.orders ? r.orders.compared : 0))),
          h("div", { class: "total" }, h("span", {}, t("changed")), h("strong", { id: "w-changed" }, String(r.orders ? r.orders.changed : 0))),
          h("div", { class: "total" }, h("span", {}, t("discount_before")), h("strong", { id: "w-before" }, money(tot("old").discount, cur))),
          h("div", { class: "total" }, h("span", {}, t("discount_after")), h("strong", { id: "w-after" }, money(tot("new").discount, cur)))),
        h("details", {}, h("summary", {}, "JSON"), h("pre", {}, JSON.stringify(r, null, 2)))
      );
    } catch (e) { whatif.replaceChildren(errorBox(e)); }
  };
  const message = h("input", { id: "publish-text", placeholder: t("message") });
  // a wall time in the shop's zone (the rule set's), converted by the server with the draft's zone
  const activateAt = h("input", { id: "publish-at", type: "datetime-local", step: 60 });
  const publishBox = canPublish()
    ? h("div", { class: "publish" }, message,
      h("label", { for: "publish-at" }, t("activate_at", { z: state.timezone || "UTC" }), " ", activateAt),
      h("button", { id: "publish", type: "button", onclick: async () => {
        try {
          const res = await api.post("publish", draftBody({ message: message.value, activate_at: activateAt.value || null }));
          msg.textContent = activateAt.value
            ? t("scheduled_publish", { v: res.version, t: when(res.activate_at, state.timezone) })
            : t("published", { v: res.version });
          saveDraft(draftSource());
          document.getElementById("history").replaceWith(await historyTable(msg));
        } catch (e) { msg.replaceChildren(errorBox(e)); }
      } }, t("publish_btn")))
    : h("p", { class: "note", id: "publisher-only" }, t("publisher_only"));
  shell([
    h("h3", {}, t("diff")),
    draftDiff(draft),
    h("button", { id: "run-whatif", type: "button", onclick: runWhatif, disabled: !canEdit() }, t("whatif")),
    whatif,
    h("h3", {}, t("publish")),
    publishBox,
    msg,
    h("h3", {}, t("history")),
    await historyTable(msg),
  ]);
}

// ---------------------------------------------------------------- results

async function pageResults() {
  if (!state.timezone) await loadActive().catch(() => null);
  // the shop's dates (the report's days are days in the rule set's zone)
  const dateIn = (ms) => when(ms / 1000, state.timezone).slice(0, 10);
  const today = dateIn(Date.now());
  const monthAgo = dateIn(Date.now() - 30 * 86400e3);
  const from = h("input", { id: "from", type: "date", value: sessionStorage.getItem("perk.from") || monthAgo });
  const to = h("input", { id: "to", type: "date", value: sessionStorage.getItem("perk.to") || today });
  const out = h("div", { id: "results" });
  const csv = h("a", { id: "export-csv", class: "button", download: "perk-results.csv" }, t("export_csv"));
  const load = async () => {
    sessionStorage.setItem("perk.from", from.value);
    sessionStorage.setItem("perk.to", to.value);
    csv.href = `/console/api/results?from=${from.value}&to=${to.value}&format=csv`;
    try {
      const r = await api.get(`results?from=${from.value}&to=${to.value}`);
      const cur = r.currency;
      const card = (id, label, value) => h("div", { class: "total" }, h("span", {}, label), h("strong", { id }, value));
      const promos = r.promotions.map((p) => ({ ...p, name: p.label ? p.promotion + " " + p.label : p.promotion }));
      out.replaceChildren(
        h("div", { class: "totals" },
          card("t-orders", t("orders"), String(r.orders)),
          card("t-discount", t("discount"), money(r.discount, cur)),
          card("t-payable", t("revenue"), money(r.payable, cur)),
          card("t-issued", t("points") + " " + t("issued"), String(r.points.issued)),
          card("t-redeemed", t("points") + " " + t("redeemed"), String(r.points.redeemed)),
          card("t-expired", t("points") + " " + t("expired"), String(r.points.expired))),
        h("div", { class: "charts" },
          h("figure", {}, h("figcaption", {}, t("discount_by_promo")), barChart(promos.map((p) => ({ label: p.promotion, value: p.discount })), (v) => money(v, cur))),
          h("figure", {}, h("figcaption", {}, t("per_day")), barChart(r.days.map((d) => ({ label: d.date.slice(5), value: String(d.orders) })), String))),
        h("table", { id: "promo-results" },
          h("thead", {}, h("tr", {}, [t("promotion"), t("uses"), t("discount"), t("orders"), t("revenue"), t("budget_left")].map((x) => h("th", {}, x)))),
          h("tbody", {}, promos.length ? promos.map((p) => h("tr", { "data-promotion": p.promotion },
            h("td", {}, p.name),
            h("td", { class: "num uses" }, String(p.uses)),
            h("td", { class: "num discount" }, money(p.discount, cur)),
            h("td", { class: "num orders" }, String(p.orders)),
            h("td", { class: "num" }, money(p.revenue, cur)),
            h("td", { class: "num" }, p.budget ? [p.budget.uses_left !== null ? p.budget.uses_left + "×" : "", p.budget.money_left !== null ? " " + money(p.budget.money_left, cur) : ""].join("") : "—")))
            : h("tr", {}, h("td", { colspan: 6 }, t("nothing"))))),
        h("h3", {}, t("loyalty_by_tier")),
        h("table", { id: "tier-results" },
          h("thead", {}, h("tr", {}, [t("tier"), t("orders"), t("revenue"), t("issued"), t("redeemed"), t("expired")].map((x) => h("th", {}, x)))),
          h("tbody", {}, r.tiers.length ? r.tiers.map((x) => h("tr", { "data-tier": x.tier === null ? "" : x.tier },
            h("td", {}, x.tier === null ? t("no_tier") : x.tier),
            h("td", { class: "num orders" }, String(x.orders)),
            h("td", { class: "num" }, money(x.revenue, cur)),
            h("td", { class: "num issued" }, String(x.points.issued)),
            h("td", { class: "num" }, String(x.points.redeemed)),
            h("td", { class: "num" }, String(x.points.expired))))
            : h("tr", {}, h("td", { colspan: 6 }, t("nothing"))))),
        h("p", { class: "note", id: "results-zone" }, t("days_in", { z: r.timezone })));
    } catch (e) {
      out.replaceChildren(errorBox(e));
    }
  };
  shell([
    h("form", { class: "period", id: "period", onsubmit: (ev) => { ev.preventDefault(); load(); } },
      h("label", {}, t("from"), from), h("label", {}, t("to"), to),
      h("button", { id: "show-results", type: "submit" }, t("load")), csv),
    out,
  ]);
  load();
}

// ------------------------------------------------------------------ audit

async function pageAudit() {
  const res = await api.get("audit");
  shell(
    h("table", { id: "audit" },
      h("thead", {}, h("tr", {}, [t("when"), t("actor"), t("action"), t("detail")].map((x) => h("th", {}, x)))),
      h("tbody", {}, res.entries.length ? res.entries.map((e) => h("tr", { "data-action": e.action },
        h("td", {}, when(e.at, state.timezone)),
        h("td", {}, e.actor), h("td", {}, e.action), h("td", {}, e.detail)))
        : h("tr", {}, h("td", { colspan: 4 }, t("nothing")))))
  );
}

// ------------------------------------------------------------------ route

const ops = opsPages({ h, shell, state, canPublish, loadActive });
const handlers = {
  rules: pageRules, simulate: pageSimulate, tests: pageTests, publish: pagePublish, results: pageResults,
  coupons: ops.coupons, customers: ops.customers, outbox: ops.outbox, audit: pageAudit,
};

async function route() {
  if (!state.me) return;
  const page = location.hash.replace(/^#\/?/, "") || "rules";
  state.editor = page === "rules" ? state.editor : null;
  try {
    await (handlers[page] || pageRules)();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { state.me = null; showSignIn(); return; }
    shell(errorBox(e));
  }
}

window.addEventListener("hashchange", route);

async function start() {
  setLanguage(language());
  try {
    signedIn(await api.get("me"));
  } catch (e) {
    showSignIn();
  }
}

start();

// editor.js - the rule editor: CodeMirror 6 with Perk's keywords highlighted and the compiler's
// own diagnostics shown in place (underlined span, message and hint on hover, gutter marks) as
// the operator types. The check runs on perk serve (POST /console/api/check); columns there are
// 1-based code points, converted here to CodeMirror's UTF-16 offsets. A diagnostic with fix-its
// (the compiler's certain edits, `fixes`) gets a "Quick fix" action that applies them.

import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { linter, lintGutter, setDiagnostics as cmSetDiagnostics } from "@codemirror/lint";
import { t } from "./i18n.js";

// The words of grammar/lexer.l that start or shape a declaration or condition.
const keywords = new Set(
  ("after all and any at balance benefit buy by cap coupon coupons currency customer day days discount each earn " +
    "effect every except exclusive expensive expire false for free from get gift hour hours in include is items let " +
    "last limit max measure min minute minutes mod month most multiplier not of off on or order original pays " +
    "pending per point points price prices priority promotion quantity rate redeem requires rounding ruleset " +
    "shipping spend stop tier then tiers time timezone to today total true union up uses valid week weekday weeks " +
    "when where within").split(" ")
);

const perkLanguage = StreamLanguage.define({
  name: "perk",
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match("#") || stream.match("//")) {
      stream.skipToEnd();
      return "comment";
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return "string";
    if (stream.match(/^[¥$€£][0-9][0-9_,.]*/)) return "number";
    if (stream.match(/^[0-9][0-9_.]*(%|x)?/)) return "number";
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) return keywords.has(stream.current()) ? "keyword" : "variableName";
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: "#" } },
});

// The offset in `doc` of 1-based line `line`, 1-based code-point column `col`.
function offsetOf(doc, line, col) {
  if (line < 1) return 0;
  if (line > doc.lines) return doc.length;
  const l = doc.line(line);
  let units = 0, points = 1;
  for (const ch of l.text) {
    if (points >= col) break;
    units += ch.length;
    points++;
  }
  return Math.min(l.from + units, l.to);
}

// A fix's edits as CodeMirror changes on `doc` (a fix's end column is exclusive: an insertion
// has end == start).
export function fixChanges(doc, fixes) {
  return (fixes || []).map((f) => ({
    from: offsetOf(doc, f.line, f.column),
    to: offsetOf(doc, f.end_line, f.end_column),
    insert: f.text,
  }));
}

// What a quick fix does, in words: "Quick fix: replace “tee” with “tea”".
export function fixLabel(doc, fixes) {
  const show = (s) => s.replace(/\n/g, "↵");
  const ch = fixChanges(doc, fixes);
  let what;
  if (ch.length !== 1) what = t("fix_edits", { n: ch.length });
  else {
    const old = doc.sliceString(ch[0].from, ch[0].to);
    if (!old) what = t("fix_insert", { b: show(ch[0].insert) });
    else if (!ch[0].insert) what = t("fix_remove", { a: show(old) });
    else what = t("fix_replace", { a: show(old), b: show(ch[0].insert) });
  }
  return t("quick_fix") + ": " + what;
}

// Applies a diagnostic's fixes to the editor. `shift` moves them by what was typed before them
// since the check (CodeMirror maps the diagnostic's own span; the next check replaces both).
export function applyFixes(view, fixes, shift) {
  const len = view.state.doc.length;
  const clamp = (n) => Math.max(0, Math.min(len, n + (shift || 0)));
  const changes = fixChanges(view.state.doc, fixes).map((c) => ({ from: clamp(c.from), to: clamp(c.to), insert: c.insert }));
  view.dispatch({ changes, userEvent: "input.quickfix" });
  view.focus();
}

// Server diagnostics -> CodeMirror diagnostics (the span's last column is inclusive).
export function toCm(doc, diags) {
  return (diags || []).map((d) => {
    const from = offsetOf(doc, d.line, d.column);
    let to = offsetOf(doc, d.end_line, d.end_column + 1);
    if (to <= from) to = Math.min(from + 1, doc.length);
    const out = {
      from, to,
      severity: d.severity === "note" ? "info" : d.severity,
      message: d.message + (d.hint ? "\n" + t("hint") + ": " + d.hint : ""),
      source: d.code,
    };
    if (d.fixes && d.fixes.length) {
      const fixes = d.fixes;
      // fixChanges reads the doc the check ran on: the offsets are taken now
      const changes = fixChanges(doc, fixes);
      out.actions = [{
        name: fixLabel(doc, fixes),
        apply(view, nowFrom) {
          const shift = nowFrom - from;
          const len = view.state.doc.length;
          const clamp = (n) => Math.max(0, Math.min(len, n + shift));
          view.dispatch({ changes: changes.map((c) => ({ from: clamp(c.from), to: clamp(c.to), insert: c.insert })), userEvent: "input.quickfix" });
        },
      }];
    }
    return out;
  });
}

export function setDiagnostics(view, diags) {
  view.dispatch(cmSetDiagnostics(view.state, toCm(view.state.doc, diags)));
}

// check(text) -> Promise of the server's diagnostics.
// The page's CSP nonce (a fresh one per page load, in a meta tag): CodeMirror puts it on the
// <style> elements it makes, which the Content-Security-Policy otherwise refuses.
function cspNonce() {
  const m = document.querySelector('meta[name="csp-nonce"]');
  return m ? m.getAttribute("content") : "";
}

export function createEditor(parent, text, check, readOnly) {
  const lint = linter(async (view) => toCm(view.state.doc, await check(view.state.doc.toString())), { delay: 350 });
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [EditorView.cspNonce.of(cspNonce()), basicSetup, perkLanguage, lintGutter(), lint, EditorState.readOnly.of(!!readOnly), EditorView.lineWrapping],
    }),
  });
}

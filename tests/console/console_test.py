#!/usr/bin/python3
# tests/console/console_test.py PERK - the operators' console end to end in a real headless
# browser (Debian's chromium + chromium-driver, driven by Selenium) against a REAL `perk serve` on
# a free loopback port with a temporary store:
#   sign in; type a rule with an error and see the diagnostic at the right line; fix it; simulate
#   a cart and read the right amounts (hand-checked cents); run the rule tests (one passing case,
#   one failing); publish with a message and see it in the history; commit orders through the
#   API and see the Results page's counts and discount match the store to the cent; roll back;
#   a viewer cannot publish (no button, the API answers 403); a forged change without the CSRF
#   token is refused; the sign-in rate limit; the security headers and cookie flags; generate a
#   batch of coupon codes and download its CSV, revoke a code and see its status, issue a code to a
#   customer, look the customer up (points to the point, ledger, wallet), the orders' events on the
#   Outbox page; a viewer has no coupon buttons and the API refuses them.
# Screenshots of every page, at a laptop and a phone width, in English and Chinese, are written to
# BUILD/screenshots/ (BUILD = the folder of PERK). Prints one line per failed check and ends with
# "N passed, N failed" (tests/run.sh counts it).
import calendar
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

perk = os.path.abspath(sys.argv[1])
shots = os.path.join(os.path.dirname(perk), "screenshots")
passed = 0
failed = 0


def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", what, detail)
        sys.stdout.flush()


def finish(code=0):
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or code else 0)


try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    check("python3-selenium is installed (scripts/deps.sh)", False)
    finish(1)

# Version 1, published before the browser opens: 10% off tea, 1 point per yuan.
RULES_V1 = """ruleset "Console shop" {
  currency CNY
  timezone "Asia/Shanghai"
}

let tea = items where category in "tea"

promotion tea_off "茶叶九折" {
  then 10% off tea
}

earn base "消费积分" {
  then 1 point per ¥1 on items
}
"""

# What the test types at the end of the draft: a misspelt fact (`order.subtotl`, [unknown-fact],
# "did you mean `order.subtotal`?") after Chinese text on its line, and a threshold written without
# its currency (then an error, [type-mismatch] "cannot compare money with int", hint "write ¥200");
# both fixed by their quick fixes (the first from CodeMirror's lint panel, the second from the list
# under the editor). The editor closes the brace and the quotes itself, as it does for an operator.
TYPED = '\npromotion big_order "满200减20" { when order.subtotl >= 200\nthen ¥20 off order'

TESTS = """case "tea and a cup"
cart {
  "order": {"time": "2026-03-04T10:00:00+08:00"},
  "lines": [{"sku": "TEA-1", "category": "tea", "price": "120.00", "quantity": 1},
            {"sku": "CUP-1", "category": "teaware", "price": "100.00", "quantity": 1}]
}
# 10% of 120.00 = 12.00; subtotal 220.00 >= 200: 20.00 off; 220.00 - 32.00 = 188.00
expect applied tea_off ¥12.00
expect applied big_order ¥20.00
expect payable ¥188.00
end

case "a wrong expectation fails"
cart {
  "order": {"time": "2026-03-04T10:00:00+08:00"},
  "lines": [{"sku": "CUP-1", "category": "teaware", "price": "100.00", "quantity": 1}]
}
expect payable ¥1.00
end
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


work = tempfile.mkdtemp(prefix="perk-console-test-")
db = os.path.join(work, "console.db")
env = dict(os.environ)
env.pop("PERK_DB", None)
wrap = os.environ.get("PERK_WRAP", "").split()


def run(*args, stdin=None):
    return subprocess.run([perk, *args], input=stdin, capture_output=True, text=True, env=env, cwd=work)


with open(os.path.join(work, "shop.perk"), "w") as f:
    f.write(RULES_V1)
r = run("publish", "shop.perk", "-m", "first version", "--author", "setup", "--db", db)
check("perk publish of version 1", r.returncode == 0, r.stderr)
for name, role, pw in [("alice", "publisher", "alice-password"), ("vic", "viewer", "viewer-password"),
                       ("eve", "editor", "editor-password")]:
    r = run("users", "add", name, "--role", role, "--db", db, stdin=pw + "\n")
    check(f"perk users add {name}", r.returncode == 0, r.stderr)
r = run("users", "add", "bob", "--role", "editor", "--db", db, stdin="short\n")
check("perk users add refuses a short password", r.returncode == 1 and "at least 8" in r.stderr, r.stderr)
r = run("users", "list", "--db", db)
check("perk users list shows both", "alice" in r.stdout and "viewer" in r.stdout, r.stdout)
r = run("keys", "create", "--scope", "checkout", "--db", db)
key = r.stdout.strip()
check("an API key for the orders", key.startswith("perk_"), r.stderr)

port = free_port()
base = f"http://127.0.0.1:{port}"
log = open(os.path.join(work, "serve.log"), "w")
server = subprocess.Popen(wrap + [perk, "serve", "--db", db, "--listen", f"127.0.0.1:{port}", "--threads", "2",
                                  "--poll-ms", "50"], stdout=log, stderr=log, env=env, cwd=work)


def http(method, path, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


for _ in range(200):
    try:
        if http("GET", "/healthz")[0] == 200:
            break
    except OSError:
        time.sleep(0.05)
else:
    check("perk serve starts", False)
    server.kill()
    finish(1)

driver = None


def cleanup():
    if driver:
        try:
            driver.quit()
        except Exception:
            pass
    server.terminate()
    try:
        rc = server.wait(timeout=30)
        # 0 after a graceful shutdown; under ASan a leak or an error would make it non-zero
        check("perk serve exits 0 on SIGTERM (no leak, no sanitizer error)", rc == 0, rc)
    except subprocess.TimeoutExpired:
        server.kill()
        check("perk serve stops on SIGTERM", False)


try:
    # ---------------------------------------------------------- HTTP-level security
    st, hdr, body = http("GET", "/console/")
    csp = hdr.get("Content-Security-Policy", "")
    check("the page is served from the binary", st == 200 and b"/console/app.js" in body)
    check("CSP: default-src 'self', no inline script, frame-ancestors 'none'",
          "default-src 'self'" in csp and "script-src 'self';" in csp and "unsafe-inline" not in csp
          and "frame-ancestors 'none'" in csp, csp)
    check("the page's style nonce is in its CSP and its meta tag",
          "'nonce-" in csp and csp.split("'nonce-")[1].split("'")[0].encode() in body)
    check("X-Frame-Options: DENY", hdr.get("X-Frame-Options") == "DENY")
    st, hdr, _ = http("GET", "/console/app.js")
    check("app.js is served as JavaScript", st == 200 and hdr.get("Content-Type", "").startswith("text/javascript"))
    st, hdr, body = http("POST", "/console/api/login", {"name": "alice", "password": "alice-password"},
                         {"Content-Type": "application/json"})
    cookie = hdr.get("Set-Cookie", "")
    check("sign-in over the API", st == 200 and json.loads(body)["role"] == "publisher", body)
    check("the cookie is HttpOnly, SameSite=Strict, Path=/console",
          "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie, cookie)
    st, hdr, body = http("POST", "/console/api/login", {"name": "alice", "password": "alice-password"},
                         {"Content-Type": "application/json", "X-Forwarded-Proto": "https"})
    check("behind a TLS proxy the cookie is Secure", "; Secure" in hdr.get("Set-Cookie", ""))
    st, _, body = http("POST", "/console/api/login", b"name=alice&password=alice-password",
                       {"Content-Type": "application/x-www-form-urlencoded"})
    check("a form post (what a cross-site form can send) cannot sign in", st == 415, body)
    st, _, body = http("POST", "/console/api/login", {"name": "alice", "password": "alice-password"},
                       {"Content-Type": "application/json", "Origin": "http://evil.example"})
    check("another site's origin is refused", st == 403 and b"forbidden_origin" in body, body)
    st, _, _ = http("GET", "/console/api/me")
    check("no session: 401", st == 401)
    # rate limit: 5 failures for one name, then even the right password waits
    codes = [http("POST", "/console/api/login", {"name": "vic", "password": f"wrong-{i}"},
                  {"Content-Type": "application/json"})[0] for i in range(5)]
    check("wrong passwords: 401", codes == [401] * 5, codes)
    st, _, body = http("POST", "/console/api/login", {"name": "vic", "password": "viewer-password"},
                       {"Content-Type": "application/json"})
    check("after 5 failures the sign-in is refused for a while (429)", st == 429 and b"too_many_attempts" in body,
          body)
    st, _, body = http("POST", "/console/api/login", {"name": "nobody", "password": "whatever-pw"},
                       {"Content-Type": "application/json"})
    check("the same address is limited too", st == 429, body)

    # The rate limit is per name and per address: restart the service to forget it (in memory),
    # so that the viewer can sign in from this address later.
    server.terminate()
    check("perk serve exits 0 on SIGTERM (first run)", server.wait(timeout=30) == 0)
    server = subprocess.Popen(wrap + [perk, "serve", "--db", db, "--listen", f"127.0.0.1:{port}", "--threads",
                                      "2", "--poll-ms", "50"], stdout=log, stderr=log, env=env, cwd=work)
    for _ in range(200):
        try:
            if http("GET", "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.05)

    # ---------------------------------------------------------------- the browser
    opts = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900",
              "--disable-gpu", "--lang=en-US"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    wait = WebDriverWait(driver, 20)
    by_id = lambda i: driver.find_element(By.ID, i)

    def wait_for(what, fn, timeout=20):
        try:
            return WebDriverWait(driver, timeout).until(lambda d: fn())
        except TimeoutException:
            check(what, False, "(timed out)")
            return None

    def text(i):
        try:
            return by_id(i).text
        except Exception:
            return None

    def sign_in(name, password):
        driver.get(base + "/console/")
        wait_for("the sign-in form", lambda: driver.find_elements(By.ID, "name"))
        by_id("name").send_keys(name)
        by_id("password").send_keys(password)
        by_id("signin").click()
        return wait_for(f"{name} is signed in", lambda: driver.find_elements(By.ID, "who"))

    def attr(css, name):
        try:
            els = driver.find_elements(By.CSS_SELECTOR, css)
            return els[0].get_attribute(name) or "" if els else ""
        except Exception:  # replaced while we looked: ask again
            return ""

    def csp_violations():
        return [e for e in driver.get_log("browser") if "Content Security Policy" in e.get("message", "")]

    driver.get(base + "/console/")
    wait_for("the sign-in form appears", lambda: driver.find_elements(By.ID, "signin"))
    by_id("name").send_keys("alice")
    by_id("password").send_keys("wrong password")
    by_id("signin").click()
    check("a wrong password is said so on the page",
          wait_for("sign-in error", lambda: "failed" in (text("signin-error") or "")) is not None)
    check("signed in as alice", sign_in("alice", "alice-password") is not None)
    check("the page names the operator and role", "alice" in text("who") and "publisher" in text("who"))

    # ------------------------------------------------------------------- rules
    driver.get(base + "/console/#/rules")
    wait_for("the editor shows the active version",
             lambda: "tea_off" in (driver.find_element(By.CSS_SELECTOR, ".cm-content").text or ""))
    wait_for("version 1 compiles", lambda: "ok" in by_id("check-status").get_attribute("class"))
    content = driver.find_element(By.CSS_SELECTOR, ".cm-content")
    content.click()
    content.send_keys(Keys.CONTROL, Keys.END)
    content.send_keys(TYPED)
    lines = lambda: [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".cm-line")]
    # the misspelt fact: its quick fix in the list and in CodeMirror's lint panel, applied there
    qf = wait_for("the misspelt fact's quick fix",
                  lambda: driver.find_elements(By.CSS_SELECTOR,
                                               '#diagnostics li.diag.error[data-code="unknown-fact"] button.quick-fix'))
    want_label = "Quick fix: replace “order.subtotl” with “order.subtotal”"
    check("the misspelt fact has a quick fix in the list", qf is not None and qf[0].text == want_label,
          qf[0].text if qf else None)
    content.send_keys(Keys.CONTROL, Keys.SHIFT, "m")  # the lint panel (basicSetup's lint keymap)
    act = wait_for("the lint panel's action", lambda: driver.find_elements(By.CSS_SELECTOR, ".cm-panel-lint .cm-diagnosticAction"))
    check("the lint panel offers the same quick fix", act is not None and act[0].text == want_label,
          act[0].text if act else None)
    if act:
        act[0].click()
    check("the quick fix corrected the text after the Chinese label",
          wait_for("corrected text", lambda: any('"满200减20" { when order.subtotal >= 200' in l for l in lines())) is not None,
          lines())
    check("the misspelt fact's diagnostic is gone",
          wait_for("unknown-fact gone", lambda: not driver.find_elements(
              By.CSS_SELECTOR, '#diagnostics li.diag[data-code="unknown-fact"]') or None) is not None)
    bad_line = next((i + 1 for i, l in enumerate(lines()) if ">= 200" in l), None)
    check("the typed rule is in the editor", bad_line is not None, lines())
    bad_col = lines()[bad_line - 1].index("order.subtotal") + 1 if bad_line else 0
    d = wait_for("a diagnostic appears",
                 lambda: driver.find_elements(By.CSS_SELECTOR, '#diagnostics li.diag.error[data-code="type-mismatch"]'))
    if d:
        check("the diagnostic is at the typed line", d[0].get_attribute("data-line") == str(bad_line),
              (d[0].get_attribute("data-line"), bad_line))
        check("the diagnostic says what is wrong and what to do",
              "cannot compare money with int" in d[0].text and "write ¥200 instead of 200" in d[0].text, d[0].text)
        check("the diagnostic's column is where the comparison starts",
              d[0].get_attribute("data-column") == str(bad_col), (d[0].get_attribute("data-column"), bad_col))
    check("the error is underlined in the editor",
          wait_for("lint underline", lambda: driver.find_elements(By.CSS_SELECTOR, ".cm-lintRange-error")) is not None)
    check("the status counts the error", "bad" in by_id("check-status").get_attribute("class"))
    os.makedirs(shots, exist_ok=True)
    driver.save_screenshot(os.path.join(shots, "rules-diagnostic-en-laptop.png"))
    # fix it with its quick fix in the list: ">= 200" -> ">= ¥200"
    qf = driver.find_elements(By.CSS_SELECTOR, '#diagnostics li.diag.error[data-code="type-mismatch"] button.quick-fix')
    check("the bare number has a quick fix", bool(qf) and qf[0].text == "Quick fix: replace “200” with “¥200”",
          qf[0].text if qf else None)
    if qf:
        qf[0].click()
    check("the quick fix wrote the currency",
          wait_for("¥200", lambda: any("order.subtotal >= ¥200" in l for l in lines())) is not None, lines())
    check("fixed: the draft compiles with 2 promotions",
          wait_for("compiles", lambda: "ok" in by_id("check-status").get_attribute("class")
                   and "2" in by_id("check-status").text) is not None, text("check-status"))
    check("no diagnostic is left", not driver.find_elements(By.CSS_SELECTOR, "#diagnostics li.error"))
    by_id("format").click()
    wait_for("format keeps the text compiling", lambda: "ok" in by_id("check-status").get_attribute("class"))
    check("no CSP violation on the Rules page", not csp_violations())

    # --------------------------------------------------- files and includes as a tree
    main_name = text("current-file")
    tree_item = lambda path, inner="": f'#file-tree li[data-file="{main_name}"] {inner}'.strip() if path == main_name \
        else f'li[data-file="{path}"] {inner}'.strip()
    check("the tree's root is the main file, shown in the editor",
          bool(driver.find_elements(By.CSS_SELECTOR, tree_item(main_name, "> button.current"))), main_name)
    by_id("new-file-name").send_keys("../x.perk")
    by_id("new-file").click()
    check("a file name outside the draft's folder is refused", "relative path" in (text("file-message") or ""),
          text("file-message"))
    by_id("new-file-name").clear()
    by_id("new-file-name").send_keys("lib/sets.perk")
    by_id("new-file").click()
    check("the new file opens in the editor", wait_for("lib/sets.perk shown", lambda: text("current-file") == "lib/sets.perk"))
    check("a file nothing includes is listed apart",
          bool(driver.find_elements(By.CSS_SELECTOR, '#files-loose li[data-file="lib/sets.perk"]')))
    content = driver.find_element(By.CSS_SELECTOR, ".cm-content")
    content.click()
    content.send_keys('let cups = items where categry in "teaware')
    wait_for("the new file is kept", lambda: driver.execute_script(
        "return (JSON.parse(localStorage.getItem('perk.files.' + arguments[0]) || '{}')['lib/sets.perk'] || '')"
        ".includes('categry')", main_name))
    # the main file includes it: the tree nests it, and its error counts against the draft
    driver.find_element(By.CSS_SELECTOR, tree_item(main_name, "> button")).click()
    wait_for("the main file is shown again", lambda: text("current-file") == main_name)
    content = driver.find_element(By.CSS_SELECTOR, ".cm-content")
    content.click()
    content.send_keys(Keys.CONTROL, Keys.END)
    content.send_keys('\ninclude "lib/sets.perk')
    nested = wait_for("the included file nests under the main file", lambda: driver.find_elements(
        By.CSS_SELECTOR, f'#file-tree li[data-file="{main_name}"] > ul > li[data-file="lib/sets.perk"]'))
    check("the tree nests the included file under the main file", bool(nested))
    elsewhere = wait_for("the included file's error", lambda: driver.find_elements(
        By.CSS_SELECTOR, '#diagnostics li.diag.error[data-file="lib/sets.perk"]'))
    check("the main file's page lists the included file's error with its file and line",
          bool(elsewhere) and elsewhere[0].text.startswith("lib/sets.perk line 1:"), elsewhere[0].text if elsewhere else None)
    check("the included file's error is not a quick fix of the main file",
          bool(elsewhere) and not elsewhere[0].find_elements(By.CSS_SELECTOR, "button.quick-fix"))
    check("the tree counts the error on the included file", attr('#file-tree li[data-file="lib/sets.perk"] .badge.bad', "class") != ""
          and driver.find_element(By.CSS_SELECTOR, '#file-tree li[data-file="lib/sets.perk"] .badge').text == "1")
    check("the draft does not compile while it has the error", "bad" in by_id("check-status").get_attribute("class"))
    driver.save_screenshot(os.path.join(shots, "rules-files-en-laptop.png"))
    driver.find_element(By.CSS_SELECTOR, '#file-tree li[data-file="lib/sets.perk"] > button').click()
    wait_for("the included file is shown", lambda: text("current-file") == "lib/sets.perk")
    check("the included file's error is underlined in its own editor",
          wait_for("lint underline in lib/sets.perk", lambda: driver.find_elements(By.CSS_SELECTOR, ".cm-lintRange-error")) is not None)
    qf = wait_for("the misspelt field's quick fix", lambda: driver.find_elements(
        By.CSS_SELECTOR, '#diagnostics li.diag.error[data-file="lib/sets.perk"] button.quick-fix'))
    if qf:
        qf[0].click()
    check("fixed in the included file: the draft compiles",
          wait_for("compiles again", lambda: "ok" in by_id("check-status").get_attribute("class")) is not None,
          text("check-status"))
    check("the included file now reads `category`",
          any('category in "teaware"' in e.text for e in driver.find_elements(By.CSS_SELECTOR, ".cm-line")))
    # the API: what an include may reach is the draft's own files, nothing of the server
    api_post = """
        const done = arguments[arguments.length - 1];
        fetch('/console/api/me').then(r => r.json()).then(me =>
          fetch('/console/api/' + arguments[0], {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf}, body: JSON.stringify(arguments[1])}))
          .then(r => r.json().then(b => done([r.status, b])));"""
    head = RULES_V1.split("let tea")[0]
    st, b = driver.execute_async_script(api_post, "check", {"source": head + 'include "../../etc/passwd"\n', "name": "m.perk"})
    d = (b.get("diagnostics") or [{}])[0]
    check("an include leaving the draft's folder is refused, the server's files unread",
          st == 200 and d.get("code") == "include-refused" and "outside the draft" in d.get("message", ""), b)
    st, b = driver.execute_async_script(api_post, "check", {"source": head + 'include "lib/none.perk"\n', "name": "m.perk",
                                                            "files": {"lib/sets.perk": "let x = items\n"}})
    d = (b.get("diagnostics") or [{}])[0]
    check("an include of a file the draft does not have says so",
          d.get("code") == "include-not-found" and "the draft has no file 'lib/none.perk'" in d.get("message", ""), b)
    st, b = driver.execute_async_script(api_post, "check", {"source": head, "files": {"../x.perk": ""}})
    check("a file path leaving the draft's folder is a 400", st == 400 and "files" in json.dumps(b), (st, b))
    st, b = driver.execute_async_script(api_post, "check", {
        "source": head + 'include "lib/a.perk"\npromotion p "p" { then 10% off cups }\n', "name": "m.perk",
        "files": {"lib/a.perk": 'include "b/c.perk"\n', "lib/b/c.perk": 'include "../../sets.perk"\n',
                  "sets.perk": 'let cups = items where category in "teaware"\n'}})
    check("includes nest through folders, relative to the including file", st == 200 and b.get("ok") is True, b)

    # ------------------------------------------------------ drafts on the server
    # alice saves her draft under a name; eve (an editor, over the API) opens it and saves her
    # change; alice's next save is refused, naming eve; alice opens eve's and saves on it; then
    # eve saves once more, and alice saves over it, knowingly
    by_id("draft-name").send_keys("spring campaign")
    by_id("save-draft").click()
    check("a draft saved to the server, revision 1",
          wait_for("saved", lambda: "revision 1" in (text("draft-message") or "")) is not None, text("draft-message"))
    check("the server's drafts list it",
          wait_for("listed", lambda: attr('#server-drafts li[data-draft="spring campaign"]', "data-revision") == "1"))

    def api_as(name, pw):
        st, hdr, body = http("POST", "/console/api/login", {"name": name, "password": pw},
                             {"Content-Type": "application/json"})
        check(f"{name} signs in over the API", st == 200, body)
        return {"Cookie": hdr.get("Set-Cookie", "").split(";")[0], "X-CSRF-Token": json.loads(body)["csrf"],
                "Content-Type": "application/json"}

    eve = api_as("eve", "editor-password")
    st, _, body = http("GET", "/console/api/draft?draft=spring%20campaign", headers=eve)
    theirs = json.loads(body)
    check("eve opens alice's draft with its included file",
          st == 200 and theirs["revision"] == 1 and "lib/sets.perk" in theirs["files"]
          and 'include "lib/sets.perk"' in theirs["source"], theirs)
    st, _, body = http("POST", "/console/api/drafts/save", {
        "draft": "spring campaign", "revision": 1, "name": theirs["name"],
        "source": theirs["source"] + "\n# checked by eve\n", "files": theirs["files"]}, eve)
    check("eve saves her change: revision 2", st == 200 and json.loads(body)["revision"] == 2, body)
    by_id("save-draft").click()
    m = wait_for("alice's stale save refused", lambda: "eve saved" in (text("draft-message") or "") and text("draft-message"))
    check("alice's save on revision 1 is refused, naming eve and revision 2", m and "revision 2" in m, m)
    by_id("open-theirs").click()
    check("alice opens eve's revision",
          wait_for("eve's text", lambda: any("# checked by eve" in e.text for e in driver.find_elements(By.CSS_SELECTOR, ".cm-line"))) is not None)
    check("the tree still holds the included file",
          bool(driver.find_elements(By.CSS_SELECTOR, '#file-tree li[data-file="lib/sets.perk"]')))
    by_id("save-draft").click()
    check("alice saves on eve's revision: revision 3",
          wait_for("revision 3", lambda: "revision 3" in (text("draft-message") or "")) is not None, text("draft-message"))
    st, _, body = http("POST", "/console/api/drafts/save", {
        "draft": "spring campaign", "revision": 3, "name": theirs["name"], "source": theirs["source"],
        "files": theirs["files"]}, eve)
    check("eve saves again: revision 4", st == 200 and json.loads(body)["revision"] == 4, body)
    by_id("save-draft").click()
    wait_for("refused again", lambda: driver.find_elements(By.ID, "overwrite-draft"))
    by_id("overwrite-draft").click()
    check("alice saves over it, knowingly: revision 5",
          wait_for("revision 5", lambda: "revision 5" in (text("draft-message") or "")) is not None, text("draft-message"))
    check("the page says which revision this browser's draft is",
          wait_for("this draft: revision 5", lambda: text("draft-current") == "This draft: spring campaign, revision 5") is not None,
          text("draft-current"))
    st, _, body = http("POST", "/console/api/drafts/save", {
        "draft": "spring campaign", "revision": 4, "source": "x"}, eve)
    check("a save on an old revision over the API: 409 naming who saved",
          st == 409 and json.loads(body)["saved_by"] == "alice" and json.loads(body)["revision"] == 5, body)
    st, _, body = http("POST", "/console/api/drafts/save", {"draft": "bad\u0001name", "source": "x"}, eve)
    check("a draft name with a control character: 400", st == 400, body)
    con = sqlite3.connect(db)
    saves = con.execute("SELECT actor, COUNT(*) FROM audit_log WHERE action = 'draft.save' GROUP BY actor ORDER BY actor").fetchall()
    con.close()
    check("every save is in the audit log, by who saved it", saves == [("alice", 3), ("eve", 2)], saves)
    driver.save_screenshot(os.path.join(shots, "rules-drafts-en-laptop.png"))

    # ---------------------------------------------------------------- simulate
    driver.get(base + "/console/#/simulate")
    wait_for("the simulate form", lambda: driver.find_elements(By.ID, "sim-form"))

    def fill_line(row, sku, cat, price, qty):
        for k, v in [("sku", sku), ("category", cat), ("price", price), ("quantity", qty)]:
            el = row.find_element(By.CSS_SELECTOR, f'[data-key="{k}"]')
            el.clear()
            el.send_keys(v)

    fill_line(driver.find_elements(By.CSS_SELECTOR, "tr.cart-line")[0], "TEA-1", "tea", "120.00", "1")
    by_id("add-line").click()
    fill_line(driver.find_elements(By.CSS_SELECTOR, "tr.cart-line")[1], "CUP-1", "teaware", "100.00", "1")
    by_id("o-time").send_keys("2026-03-04T10:00:00+08:00")
    by_id("run-simulation").click()
    wait_for("the result", lambda: driver.find_elements(By.ID, "r-payable"))
    # 120.00 + 100.00 = 220.00; tea_off 10% of 120.00 = 12.00; big_order 220.00 >= 200: 20.00;
    # discount 12.00 + 20.00 = 32.00; payable 220.00 - 32.00 = 188.00; 1 point per yuan paid: 188
    check("simulate: subtotal ¥220.00", text("r-subtotal") == "¥220.00", text("r-subtotal"))
    check("simulate: discount ¥32.00", text("r-discount") == "¥32.00", text("r-discount"))
    check("simulate: payable ¥188.00", text("r-payable") == "¥188.00", text("r-payable"))
    check("simulate: 188 points", text("r-points") == "188", text("r-points"))
    row = driver.find_elements(By.CSS_SELECTOR, '#r-promotions tr[data-promotion="big_order"]')
    check("simulate: big_order applied for ¥20.00", row and "¥20.00" in row[0].text and "✓" in row[0].text,
          row and row[0].text)
    check("simulate: the explanation table", "Payable" in (text("r-explanation") or ""), text("r-explanation"))
    driver.save_screenshot(os.path.join(shots, "simulate-result-en-laptop.png"))

    # ------------------------------------------------------------------- tests
    driver.get(base + "/console/#/tests")
    wait_for("the tests page", lambda: driver.find_elements(By.ID, "tests-text"))
    by_id("tests-text").send_keys(TESTS)
    by_id("run-tests").click()
    s = wait_for("the test summary", lambda: text("tests-summary"))
    check("tests: 1 passed, 1 failed", s and s.startswith("1 ") and "1 failed" in s, s)
    check("tests: the failing case is named", "a wrong expectation fails" in (text("tests-log") or ""))
    check("tests: no temporary path is shown", "/tmp/" not in (text("tests-log") or ""), text("tests-log"))
    res = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/me').then(r => r.json()).then(me =>
          fetch('/console/api/test', {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf}, body: JSON.stringify({source: arguments[0],
                tests: 'case "x"\\ncart file "/etc/passwd"\\nexpect payable ¥0.00\\nend\\n'})}))
          .then(r => r.json().then(b => done([r.status, b.error && b.error.message])));""", RULES_V1)
    check("tests: a cart file of the server cannot be read", res[0] == 400 and "cart file" in (res[1] or ""), res)

    # ------------------------------------------------------------------ publish
    driver.get(base + "/console/#/publish")
    wait_for("the publish page", lambda: driver.find_elements(By.ID, "history"))
    check("the diff shows the new promotion",
          any("big_order" in e.text for e in driver.find_elements(By.CSS_SELECTOR, "#rules-diff .add")))
    added = driver.find_elements(By.CSS_SELECTOR, '#draft-diff h4.diff-file[data-file="lib/sets.perk"]')
    check("the diff names the added file", bool(added) and "added" in added[0].text, added[0].text if added else None)
    added_lines = driver.find_elements(By.CSS_SELECTOR, '#draft-diff h4.diff-file[data-file="lib/sets.perk"] + pre div')
    check("an added file's diff is its lines, all added",
          bool(added_lines) and all(e.get_attribute("class") == "add" for e in added_lines)
          and "let cups" in added_lines[0].text, [e.text for e in added_lines])
    by_id("run-whatif").click()
    wait_for("the what-if replay", lambda: driver.find_elements(By.ID, "w-compared"))
    check("what-if: no orders yet", text("w-compared") == "0", text("w-compared"))
    by_id("publish-text").send_keys("spring: ¥20 off from ¥200")
    by_id("publish").click()
    if not wait_for("published", lambda: "2" in (text("publish-message") or "")):
        print("    publish message:", text("publish-message"))
    row = wait_for("history row", lambda: driver.find_elements(By.CSS_SELECTOR, '#history tr[data-version="2"]'))
    check("history: version 2 with its message, active",
          row and "spring: ¥20 off from ¥200" in row[0].text and "active" in row[0].get_attribute("class"))
    rules_now = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/rules').then(r => r.json()).then(done);""")
    check("the published version keeps the included file, named as the draft names it",
          'category in "teaware"' in (rules_now.get("files") or {}).get("lib/sets.perk", "")
          and 'include "lib/sets.perk"' in rules_now.get("source", ""), rules_now.get("files"))
    st, _, body = http("GET", "/v1/budgets", headers={"Authorization": "Bearer " + key})
    # the service swaps to version 2 within --poll-ms
    for _ in range(100):
        st, hdr, body = http("POST", "/v1/evaluate", {"order": {"time": "2026-03-04T10:00:00+08:00"}, "lines": [
            {"sku": "CUP-1", "price": "250.00", "quantity": 1}]}, {"Authorization": "Bearer " + key})
        if hdr.get("X-Perk-Version") == "2":
            break
        time.sleep(0.05)
    check("the service serves version 2", hdr.get("X-Perk-Version") == "2", hdr)

    # ------------------------------------------------------ orders, then results
    now = int(time.time())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    orders = [
        ("O1", [("TEA-1", "tea", "120.00"), ("CUP-1", "teaware", "100.00")]),  # 12.00 + 20.00 = 32.00
        ("O2", [("TEA-1", "tea", "120.00"), ("CUP-1", "teaware", "100.00")]),  # 32.00
        ("O3", [("CUP-1", "teaware", "100.00")]),  # 100.00 < 200, no tea: 0.00
    ]
    for oid, lines_ in orders:
        cart = {"order": {"id": oid, "time": stamp}, "customer": {"id": "c-" + oid},
                "lines": [{"id": str(i + 1), "sku": s_, "category": c, "price": p, "quantity": 1}
                          for i, (s_, c, p) in enumerate(lines_)]}
        st, _, body = http("POST", "/v1/orders", cart, {"Authorization": "Bearer " + key,
                                                        "Content-Type": "application/json"})
        check(f"order {oid} committed", st == 201, body)
    driver.get(base + "/console/#/results")
    wait_for("the results", lambda: driver.find_elements(By.CSS_SELECTOR, '#promo-results tr[data-promotion]'))
    con = sqlite3.connect(db)
    n, disc = con.execute("SELECT COUNT(*), SUM(discount) FROM orders").fetchone()
    tea_uses, tea_disc = con.execute(
        "SELECT COUNT(*), SUM(discount) FROM budget_uses WHERE promo_id = 'tea_off'").fetchone()
    con.close()
    # the store: 3 orders, 32.00 + 32.00 + 0.00 = 64.00; tea_off twice, 12.00 + 12.00 = 24.00
    check("store: 3 orders, 6400 cents of discount", (n, disc) == (3, 6400), (n, disc))
    check("results: the order count matches the store", text("t-orders") == str(n), text("t-orders"))
    check("results: the discount matches the store to the cent",
          text("t-discount") == "¥%d.%02d" % (disc // 100, disc % 100), text("t-discount"))
    tea = driver.find_element(By.CSS_SELECTOR, '#promo-results tr[data-promotion="tea_off"]')
    check("results: tea_off applied twice",
          tea.find_element(By.CSS_SELECTOR, ".uses").text == str(tea_uses) == "2", tea.text)
    check("results: tea_off gave ¥24.00", tea.find_element(By.CSS_SELECTOR, ".discount").text == "¥24.00"
          and tea_disc == 2400, tea.text)
    big = driver.find_element(By.CSS_SELECTOR, '#promo-results tr[data-promotion="big_order"]')
    check("results: big_order gave ¥40.00 on 2 orders", "¥40.00" in big.text and
          big.find_element(By.CSS_SELECTOR, ".orders").text == "2", big.text)
    # points: 188 + 188 + 100 = 476 issued
    check("results: 476 points issued", text("t-issued") == "476", text("t-issued"))
    check("results: SVG charts", len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")) >= 2)
    # no tiers in this rule set: one row, no tier, every order and point (188 + 188 + 100 = 476)
    rows = driver.find_elements(By.CSS_SELECTOR, "#tier-results tr[data-tier]")
    check("results: loyalty by tier, one no-tier row with 3 orders and 476 points",
          len(rows) == 1 and rows[0].get_attribute("data-tier") == "" and
          rows[0].find_element(By.CSS_SELECTOR, ".orders").text == "3" and
          rows[0].find_element(By.CSS_SELECTOR, ".issued").text == "476", [r_.text for r_ in rows])
    check("results: days are the shop's", "Asia/Shanghai" in (text("results-zone") or ""), text("results-zone"))
    # the shop's today (Asia/Shanghai, +08:00): after 16:00 UTC it is already tomorrow there
    today = time.strftime("%Y-%m-%d", time.gmtime(now + 8 * 3600))
    r = run("report", "--from", today, "--to", today, "--json", "--db", db)
    rep = json.loads(r.stdout) if r.returncode == 0 else {}
    check("perk report gives the same figures",
          rep.get("orders") == 3 and rep.get("discount") == "64.00" and rep.get("points", {}).get("issued") == 476,
          r.stdout + r.stderr)
    href = by_id("export-csv").get_attribute("href")
    csv_text = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done)", href)
    check("CSV export: the tea_off row", "Console shop,tea_off,茶叶九折,2,24.00,2,376.00" in csv_text, csv_text)
    check("no CSP violation on the Results page", not csp_violations())

    # ------------------------------------------------------------------ coupons
    driver.get(base + "/console/#/coupons")
    wait_for("the coupons page", lambda: driver.find_elements(By.ID, "generate-form"))
    by_id("g-campaign").send_keys("SPRING")
    by_id("g-count").clear()
    by_id("g-count").send_keys("25")
    by_id("g-prefix").send_keys("SPRG")
    by_id("g-days").send_keys("30")
    by_id("generate").click()
    wait_for("the batch is generated", lambda: driver.find_elements(By.ID, "generated-csv"))
    check("the page says 25 codes were generated", "25" in (text("generated") or ""), text("generated"))
    csv_codes = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done)",
        by_id("generated-csv").get_attribute("href"))
    rows = [r_ for r_ in csv_codes.split("\r\n") if r_]
    check("the CSV has a header and 25 codes", len(rows) == 26 and rows[0].startswith("code,campaign,status"),
          len(rows))
    first = rows[1].split(",") if len(rows) > 1 else ["", "", ""]
    check("a code of the CSV: SPRG prefix, campaign SPRING, valid",
          first[0].startswith("SPRG") and first[1] == "SPRING" and first[2] == "valid", rows[1:2])
    con = sqlite3.connect(db)
    in_store = con.execute("SELECT COUNT(*) FROM coupons WHERE campaign = 'SPRING'").fetchone()[0]
    con.close()
    check("the store has the 25 codes", in_store == 25, in_store)
    camp = lambda cls: attr(f'#campaigns tr[data-campaign="SPRING"] td.{cls}', "textContent")
    check("campaigns: SPRING issued 25, left 25", camp("issued") == "25" and camp("left") == "25",
          (camp("issued"), camp("left")))
    by_id("r-code").send_keys(first[0].lower())  # codes are matched whatever their case
    by_id("r-reason").send_keys("posted on a deals forum")
    by_id("revoke").click()
    check("the revoked code shows as revoked",
          wait_for("revoked", lambda: attr("#lookup-status", "data-status") == "revoked") is not None,
          attr("#lookup-status", "data-status"))
    check("the lookup says who revoked it and why",
          "alice: posted on a deals forum" in attr("#lookup-status", "textContent"), attr("#lookup-status", "textContent"))
    check("campaigns: 1 revoked, 24 left",
          wait_for("counts", lambda: camp("revoked") == "1" and camp("left") == "24") is not None,
          (camp("revoked"), camp("left")))
    by_id("r-code").clear()
    by_id("r-code").send_keys(first[0])
    by_id("r-reason").clear()
    by_id("r-reason").send_keys("again")
    by_id("revoke").click()
    check("revoking it again: the first revocation is kept (409)",
          wait_for("409", lambda: "revoked" in (text("coupon-message") or "").lower()) is not None,
          text("coupon-message"))
    by_id("i-code").send_keys("VIP-O1")
    by_id("i-campaign").send_keys("SPRING")
    by_id("i-customer").send_keys("c-O1")
    by_id("issue").click()
    check("a code issued to a customer", wait_for("issued", lambda: "VIPO1" in (text("issued") or "")) is not None,
          text("coupon-message"))
    # the campaign extended in place: valid through 2030-01-31 in the shop's zone (Asia/Shanghai:
    # until 2030-02-01 00:00 +08:00 = 2030-01-31 16:00 UTC), 3 uses per code; the revoked code stays
    by_id("c-campaign").send_keys("SPRING")
    driver.execute_script("arguments[0].value = '2030-01-31'", by_id("c-expires"))
    by_id("c-uses").send_keys("3")
    by_id("c-reason").send_keys("双11 延期")
    by_id("change").click()
    check("the campaign's codes changed in place: 25, the revoked one left alone",
          wait_for("changed", lambda: text("changed-msg")) == "Changed 25 codes of SPRING (1 revoked left alone).",
          text("coupon-message"))
    con = sqlite3.connect(db)
    changed = con.execute("SELECT COUNT(*) FROM coupons WHERE campaign = 'SPRING' AND expires_at = ? AND max_uses = 3"
                          " AND revoked_at IS NULL", (calendar.timegm((2030, 1, 31, 16, 0, 0)),)).fetchone()[0]
    kept = con.execute("SELECT COUNT(*) FROM coupons WHERE campaign = 'SPRING' AND revoked_at IS NOT NULL"
                       " AND max_uses = 1").fetchone()[0]
    audited = con.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'coupon.change' AND actor = 'alice'"
                          " AND detail LIKE '%25 codes%双11 延期'").fetchone()[0]
    con.close()
    check("the store: 25 codes end at 2030-01-31 16:00 UTC with 3 uses, the revoked one unchanged",
          (changed, kept) == (25, 1), (changed, kept))
    check("the change is in the audit log, by alice with the reason", audited == 1, audited)
    for f_ in ["c-campaign", "c-uses", "c-reason"]:
        by_id(f_).clear()
    by_id("c-code").send_keys("vip-o1")
    driver.execute_script("arguments[0].value = '2020-01-01'", by_id("c-expires"))
    by_id("c-reason").send_keys("typo")
    by_id("change").click()
    check("an end in the past is refused, saying so",
          wait_for("refused", lambda: "in the past" in (text("coupon-message") or "")) is not None,
          text("coupon-message"))
    check("no CSP violation on the Coupons page", not csp_violations())

    # ---------------------------------------------------------------- customers
    # c-O1 committed O1 through the API: 220.00 - 32.00 = 188.00 payable, 1 point per ¥1: 188 points
    driver.get(base + "/console/#/customers")
    wait_for("the customers page", lambda: driver.find_elements(By.ID, "customer-id"))
    by_id("customer-id").clear()
    by_id("customer-id").send_keys("c-O1")
    by_id("customer-lookup").click()
    wait_for("the customer", lambda: driver.find_elements(By.ID, "cu-balance"))
    con = sqlite3.connect(db)
    ledger_sum = con.execute("SELECT SUM(points) FROM ledger WHERE customer_id = 'c-O1'").fetchone()[0]
    earned_at, earned_expiry = con.execute(
        "SELECT created_at, expires_at FROM ledger WHERE customer_id = 'c-O1' AND kind = 'earn'").fetchone()
    con.close()
    check("customer: 188 points, as the store's ledger", text("cu-balance") == "188" and ledger_sum == 188,
          (text("cu-balance"), ledger_sum))
    check("customer: nothing pending", text("cu-pending") == "0", text("cu-pending"))
    led = driver.find_elements(By.CSS_SELECTOR, "#ledger tr[data-kind]")
    check("customer: one ledger entry, +188 for O1",
          len(led) == 1 and "+188" in led[0].text and "O1" in led[0].text, [e.text for e in led])
    # times year first in the rule set's zone (Asia/Shanghai, +08:00, no DST), whatever the
    # browser's locale: the earn row's created_at as the store has it
    shanghai = time.strftime("%Y-%m-%d %H:%M", time.gmtime(earned_at + 8 * 3600))
    cells = [c_.text for c_ in led[0].find_elements(By.TAG_NAME, "td")] if led else []
    check("customer: the ledger's time is %s (Asia/Shanghai)" % shanghai, cells[:1] == [shanghai], cells)
    check("customer: points without an expiry say never", earned_expiry == 0 and len(cells) > 5 and
          cells[5] == "never", (earned_expiry, cells))
    check("customer: the wallet has the issued code",
          driver.find_elements(By.CSS_SELECTOR, '#wallet tr[data-code="VIPO1"][data-status="valid"]'))

    # ------------------------------------------------------------------- outbox
    driver.get(base + "/console/#/outbox")
    wait_for("the outbox", lambda: driver.find_elements(By.CSS_SELECTOR, "#events tr[data-type]"))
    committed = [e.get_attribute("textContent") for e in
                 driver.find_elements(By.CSS_SELECTOR, '#events tr[data-type="order.committed"]')]
    check("outbox: the three orders' events", len(committed) == 3, len(committed))
    check("outbox: O1's event names O1 and c-O1",
          any('"O1"' in c_ and "c-O1" in c_ for c_ in committed), committed[:1])
    check("outbox: no webhook configured here", driver.find_elements(By.ID, "no-webhook"))
    ids = [int(e.get_attribute("data-id")) for e in driver.find_elements(By.CSS_SELECTOR, "#events tr[data-id]")]
    check("outbox: events in id order", ids == sorted(ids) and len(ids) >= 6, ids)
    page2 = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch('/console/api/outbox?after=' + arguments[0])"
        ".then(r => r.json()).then(done)", ids[2] if len(ids) > 2 else 0)
    check("outbox: paging after an id", [e["id"] for e in page2["events"]] == ids[3:], page2)

    # ---------------------------------------------------------------- roll back
    driver.get(base + "/console/#/publish")
    b = wait_for("the rollback button", lambda: driver.find_elements(By.CSS_SELECTOR, 'button.rollback[data-version="1"]'))
    if b:
        b[0].click()
        check("rolled back: version 1 is active again",
              wait_for("v1 active", lambda: "active" in attr('#history tr[data-version="1"]', "class")) is not None)

    # ------------------------------------------------------- scheduled publish
    # the draft again, to become active at 2030-06-01 09:30 in the shop's zone (Asia/Shanghai,
    # +08:00): 01:30 UTC = 1906939800 (calendar.timegm); version 1 stays active until then
    driver.get(base + "/console/#/publish")
    wait_for("the publish page", lambda: driver.find_elements(By.ID, "publish-at"))
    by_id("publish-text").send_keys("summer, scheduled")
    driver.execute_script("arguments[0].value = '2030-06-01T09:30'", by_id("publish-at"))
    by_id("publish").click()
    row = wait_for("history row 3", lambda: driver.find_elements(By.CSS_SELECTOR, '#history tr[data-version="3"]'))
    want = calendar.timegm((2030, 6, 1, 1, 30, 0))
    con = sqlite3.connect(db)
    act = con.execute("SELECT activate_at FROM activations WHERE version_id = 3").fetchone()
    con.close()
    check("scheduled publish: the store activates version 3 at %d" % want, act == (want,), act)
    check("scheduled publish: the page says when, in the shop's zone",
          "2030-06-01 09:30" in (text("publish-message") or ""), text("publish-message"))
    check("scheduled publish: history shows it scheduled, version 1 still active",
          row and "scheduled for 2030-06-01 09:30" in row[0].text and
          "active" in attr('#history tr[data-version="1"]', "class"), row[0].text if row else None)
    driver.execute_script("arguments[0].value = '2020-01-01T00:00'", by_id("publish-at"))
    by_id("publish").click()
    refused = wait_for("the refusal", lambda: "not in the future" in (text("publish-message") or ""))
    check("a publish scheduled in the past is refused, and says why", refused is not None, text("publish-message"))

    # ------------------------------------------------ forged change without CSRF
    forged = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/publish', {method: 'POST', headers: {'Content-Type': 'application/json'},
               body: JSON.stringify({source: 'x', message: 'forged'})})
          .then(r => r.json().then(b => done([r.status, b.error && b.error.code])));""")
    check("a change without the CSRF token is refused (403 csrf)", forged == [403, "csrf"], forged)
    forged = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/rollback', {method: 'POST', headers: {'Content-Type': 'application/json',
               'X-CSRF-Token': '0'.repeat(64)}, body: JSON.stringify({version: 2})})
          .then(r => done(r.status));""")
    check("a change with a wrong CSRF token is refused", forged == 403, forged)

    # ------------------------------------------------------------------ audit
    driver.get(base + "/console/#/audit")
    wait_for("the audit log", lambda: driver.find_elements(By.CSS_SELECTOR, "#audit tr[data-action]"))
    actions = [e.get_attribute("data-action") for e in driver.find_elements(By.CSS_SELECTOR, "#audit tr[data-action]")]
    for a in ["user.add", "login", "login.failed", "publish", "rollback", "coupon.generate", "coupon.revoke",
              "coupon.issue"]:
        check(f"audit log shows {a}", a in actions, actions)

    # ------------------------------------------------------------------ viewer
    by_id("signout").click()
    wait_for("signed out", lambda: driver.find_elements(By.ID, "signin"))
    st = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch('/console/api/me').then(r => done(r.status))")
    check("after sign-out the session is gone", st == 401, st)
    check("signed in as the viewer", sign_in("vic", "viewer-password") is not None)
    driver.get(base + "/console/#/publish")
    wait_for("the viewer's publish page", lambda: driver.find_elements(By.ID, "history"))
    check("viewer: no publish button", not driver.find_elements(By.ID, "publish"))
    check("viewer: no rollback button", not driver.find_elements(By.CSS_SELECTOR, "button.rollback"))
    check("viewer: told why", driver.find_elements(By.ID, "publisher-only"))
    res = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/me').then(r => r.json()).then(me =>
          fetch('/console/api/publish', {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf}, body: JSON.stringify({source: 'x', message: 'by a viewer'})}))
          .then(r => r.json().then(b => done([r.status, b.error && b.error.code])));""")
    check("viewer: the API refuses to publish (403 forbidden)", res == [403, "forbidden"], res)
    res = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/me').then(r => r.json()).then(me =>
          fetch('/console/api/check', {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf}, body: JSON.stringify({source: 'x'})}))
          .then(r => done(r.status));""")
    check("viewer: cannot run the checker (editor and up)", res == 403, res)
    driver.get(base + "/console/#/rules")
    check("viewer: sees the drafts on the server",
          wait_for("viewer's drafts", lambda: driver.find_elements(By.CSS_SELECTOR, '#server-drafts li[data-draft="spring campaign"]'))
          is not None)
    check("viewer: no save or delete of drafts",
          not driver.find_elements(By.CSS_SELECTOR, "#save-draft, #server-drafts .delete-draft"))
    res = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/me').then(r => r.json()).then(me =>
          fetch('/console/api/drafts/delete', {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf}, body: JSON.stringify({draft: 'spring campaign'})}))
          .then(r => done(r.status));""")
    check("viewer: the API refuses to delete a draft (403)", res == 403, res)
    driver.get(base + "/console/#/coupons")
    wait_for("the viewer's coupons page", lambda: driver.find_elements(By.ID, "campaigns"))
    check("viewer: sees the campaigns", driver.find_elements(By.CSS_SELECTOR, '#campaigns tr[data-campaign="SPRING"]'))
    check("viewer: no generate, issue or revoke buttons",
          not driver.find_elements(By.CSS_SELECTOR, "#generate, #issue, #revoke"))
    check("viewer: told why", driver.find_elements(By.ID, "publisher-only-coupons"))
    res = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/me').then(r => r.json()).then(me =>
          fetch('/console/api/coupons/revoke', {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf}, body: JSON.stringify({code: arguments[0], reason: 'by a viewer'})}))
          .then(r => r.json().then(b => done([r.status, b.error && b.error.code])));""", rows[2].split(",")[0])
    check("viewer: the API refuses to revoke (403 forbidden)", res == [403, "forbidden"], res)
    res = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/console/api/me').then(r => r.json()).then(me =>
          fetch('/console/api/coupons/generate', {method: 'POST', headers: {'Content-Type': 'application/json',
                'X-CSRF-Token': me.csrf}, body: JSON.stringify({campaign: 'SPRING', count: 5})}))
          .then(r => done(r.status));""")
    check("viewer: the API refuses to generate", res == 403, res)
    con = sqlite3.connect(db)
    left = con.execute("SELECT COUNT(*) FROM coupons WHERE campaign = 'SPRING' AND revoked_at IS NULL").fetchone()[0]
    con.close()
    check("nothing the viewer sent changed the codes", left == 25, left)  # 24 generated + VIPO1
    con = sqlite3.connect(db)
    versions = con.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    con.close()
    check("nothing forged or refused was published", versions == 3, versions)  # 1, 2, scheduled 3

    # ------------------------------------------- webhook delivery state (a second service)
    # The same store served again with a webhook that nobody listens on: the Outbox API shows the
    # endpoint stuck at position 0 with the whole outbox as its backlog, the error and the retry.
    with open(os.path.join(work, "hook.secret"), "w") as f:
        f.write("a-webhook-secret-of-some-length\n")
    port2, dead = free_port(), free_port()
    server2 = subprocess.Popen(wrap + [perk, "serve", "--db", db, "--listen", f"127.0.0.1:{port2}", "--threads", "1",
                                       "--poll-ms", "50", "--webhook", f"http://hook:pa55word@127.0.0.1:{dead}/hook",
                                       "--webhook-secret-file", os.path.join(work, "hook.secret")],
                               stdout=log, stderr=log, env=env, cwd=work)
    base1, base = base, f"http://127.0.0.1:{port2}"
    try:
        for _ in range(200):
            try:
                if http("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        st, hdr, body = http("POST", "/console/api/login", {"name": "alice", "password": "alice-password"},
                             {"Content-Type": "application/json"})
        jar = {"Cookie": hdr.get("Set-Cookie", "").split(";")[0]}
        hook = {}
        for _ in range(100):
            st, _, body = http("GET", "/console/api/outbox", None, jar)
            hooks = json.loads(body).get("webhooks", []) if st == 200 else []
            hook = hooks[0] if hooks else {}
            if hook.get("last_error"):
                break
            time.sleep(0.1)
        con = sqlite3.connect(db)
        n_events = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        con.close()
        check("outbox API: the webhook's URL (its password masked), position 0, the whole outbox behind it",
              hook.get("url") == f"http://hook:***@127.0.0.1:{dead}/hook" and hook.get("position") == 0
              and hook.get("backlog") == n_events and n_events >= 9, (hook, n_events))
        check("outbox API: stuck on event 1 with the connection error and a retry time",
              hook.get("failing_event") == 1 and "onnect" in (hook.get("last_error") or "")
              and (hook.get("next_retry_at") or 0) >= int(time.time()) - 1, hook)
    finally:
        base = base1
        server2.terminate()
        check("the second service exits 0", server2.wait(timeout=30) == 0)

    # ------------------------------------------------------------- screenshots
    by_id("signout").click()
    wait_for("signed out", lambda: driver.find_elements(By.ID, "signin"))
    taken = 0
    for lang in ["en", "zh"]:
        for width, height, label in [(1366, 900, "laptop"), (390, 844, "phone")]:
            driver.set_window_size(width, height)
            driver.get(base + "/console/")
            driver.execute_script("localStorage.setItem('perk.lang', arguments[0])", lang)
            driver.get(base + "/console/")
            wait_for("the sign-in form", lambda: driver.find_elements(By.ID, "signin"))
            driver.save_screenshot(os.path.join(shots, f"signin-{lang}-{label}.png"))
            taken += 1
            sign_in("alice", "alice-password")
            for page, ready in [("rules", ".cm-content"), ("simulate", "#sim-form"), ("tests", "#tests-text"),
                                ("publish", "#history"), ("results", "#promo-results"),
                                ("coupons", "#campaigns"), ("customers", "#cu-balance"), ("outbox", "#events"),
                                ("audit", "#audit")]:
                driver.get(base + "/console/#/" + page)
                driver.refresh()
                wait_for(f"page {page}", lambda: driver.find_elements(By.CSS_SELECTOR, ready))
                if page == "simulate":
                    by_id("run-simulation").click()
                    wait_for("simulation", lambda: driver.find_elements(By.ID, "r-payable"))
                if page == "tests":
                    by_id("run-tests").click()
                    wait_for("tests", lambda: driver.find_elements(By.ID, "tests-summary"))
                if page == "publish":
                    by_id("run-whatif").click()
                    wait_for("what-if", lambda: driver.find_elements(By.ID, "w-compared"))
                time.sleep(0.3)
                driver.save_screenshot(os.path.join(shots, f"{page}-{lang}-{label}.png"))
                taken += 1
            zh_nav = text("nav-rules")
            check(f"{lang}: the navigation is in the chosen language",
                  zh_nav == ("规则" if lang == "zh" else "Rules"), zh_nav)
            by_id("signout").click()
            wait_for("signed out", lambda: driver.find_elements(By.ID, "signin"))
    check("40 screenshots written", taken == 40, taken)
    check("no CSP violation anywhere", not csp_violations())
except Exception:
    traceback.print_exc()
    check("the test ran to its end", False)
finally:
    cleanup()

finish()

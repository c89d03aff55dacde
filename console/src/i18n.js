// i18n.js - the console's words in English and Chinese. The language comes from the operator's
// choice (kept in localStorage), else the browser's (navigator.language), else English.

const words = {
  en: {
    title: "Perk console",
    signin: "Sign in", signout: "Sign out", name: "Name", password: "Password",
    signin_failed: "Sign-in failed",
    rules: "Rules", simulate: "Simulate", tests: "Tests", publish: "Publish", results: "Results", audit: "Audit log",
    role: "role",
    format: "Format", reload_active: "Load the active version", active_version: "Active version",
    files: "Files", new_file: "New file", delete_file: "Delete this file", file_missing: "missing",
    files_not_included: "Not included by any file:", file_exists: "{f} is already a file of the draft",
    file_name_rule: "A file name is a relative path of letters, digits, _, - and . ending in .perk (lib/catalogue.perk)",
    file_added: "added", file_removed: "removed", file_changed: "changed",
    server_drafts: "Drafts on the server", draft_name: "Draft name", save_draft: "Save to server", open: "Open",
    delete: "Delete", no_drafts: "No draft is saved yet.", draft_meta: "revision {r} · {b} · {w}",
    draft_is: "This draft: {d}, revision {r}", draft_name_needed: "Give the draft a name first.",
    draft_saved: "Saved {d} (revision {r}).", draft_opened: "Opened {d} (revision {r}, saved by {b}).",
    draft_deleted: "Deleted {d}.", save_over: "Save over it",
    draft_changed: "{b} saved {d} since you opened it (now revision {r}): open theirs, or save over it.",
    no_active: "Nothing is published yet", compiles: "Compiles: {n} promotions", errors: "{n} errors, {w} warnings",
    checking: "Checking…", hint: "hint", line: "line",
    quick_fix: "Quick fix", fix_replace: "replace “{a}” with “{b}”", fix_insert: "insert “{b}”", fix_remove: "remove “{a}”",
    fix_edits: "{n} edits",
    lines: "Cart lines", add_line: "Add a line", sku: "SKU", category: "Category", price: "Price", qty: "Qty",
    tags: "Tags", customer: "Customer", customer_id: "Customer id", tier: "Tier", birthday: "Birthday",
    coupons: "Coupons (comma separated)", time: "Order time", shipping: "Shipping", run_simulation: "Simulate",
    subtotal: "Subtotal", discount: "Discount", payable: "Payable", points_earned: "Points earned",
    promotion: "Promotion", applied: "Applied", why: "Why", hints: "Near misses", explanation: "Explanation",
    remove: "Remove",
    test_file: "Rule tests (.test) of the draft", run_tests: "Run the tests", passed: "passed", failed: "failed",
    diff: "Changes against the active version", whatif: "Replay recent orders", message: "Message",
    publish_btn: "Publish", published: "Published version {v}", history: "History", version: "Version",
    activate_at: "Activate at (empty: now; in {z})", scheduled_publish: "Published version {v}: it becomes active at {t}",
    scheduled_for: "scheduled for {t}",
    author: "Author", when: "When", active: "active", rollback: "Roll back", rolled_back: "Rolled back to version {v}",
    publisher_only: "Only a publisher can publish and roll back.",
    compared: "Orders replayed", changed: "Orders whose price changes", before: "Before", after: "After",
    largest: "Largest changes", order: "Order",
    from: "From", to: "To", load: "Show", export_csv: "Export CSV", orders: "Orders", revenue: "Revenue",
    uses: "Times applied", budget_left: "Budget left", points: "Points", issued: "Issued", redeemed: "Redeemed",
    expired: "Expired", per_day: "Orders per day", discount_by_promo: "Discount by promotion",
    loyalty_by_tier: "Loyalty by tier (the tier when ordering; expired: the tier now)", no_tier: "no tier",
    days_in: "Days are the shop's days, in {z}.",
    actor: "Who", action: "What", detail: "Detail", nothing: "Nothing yet",
    discount_before: "Discount before", discount_after: "Discount after",
    role_viewer: "viewer", role_editor: "editor", role_publisher: "publisher",
    coupons_page: "Coupons", customers: "Customers", outbox: "Outbox",
    times_in: "Times in {z}", campaigns: "Campaigns", campaign: "Campaign", left: "Left", revoked: "Revoked",
    show_codes: "Codes", codes_of: "Codes of {c}", download_csv: "Download CSV", first_n: "The first {n} are shown; the CSV has them all.",
    code: "Code", status: "Status", expires: "Expires", revoked_why: "Revoked by: why", never: "never",
    look_up_code: "Look a code up", look_up: "Look up", typo: "a generated code with a wrong check symbol: a typo?",
    generate_batch: "Generate a batch", how_many: "How many", prefix: "Prefix (optional)", valid_days: "Valid for (days)",
    uses_per_code: "Uses per code (0 = unlimited)", generate: "Generate", generated: "Generated {n} codes of {c}.",
    issue_code: "Issue a code to a customer", issue: "Issue", issued_to: "Code {code} issued to {c}.",
    already_issued: "Code {code} was already issued to {c}.",
    change_codes_title: "Change codes in place", change_codes: "Change", or_one_code: "or one code",
    valid_through: "Valid through (shop's zone)", never_ends: "never ends", uses_per_customer: "Uses per customer (0 = unlimited)",
    unchanged: "unchanged", changed_codes: "Changed {n} codes of {c} ({k} revoked left alone).",
    revoke_code: "Revoke a code", reason: "Reason", revoke: "Revoke", revoked_code: "Code {code} revoked.",
    publisher_only_coupons: "Only a publisher can generate, issue and revoke codes.",
    st_valid: "valid", st_unknown: "unknown code", st_expired: "expired", st_used_up: "used up",
    st_not_for_customer: "not for this customer", st_revoked: "revoked", st_not_yet_valid: "not yet valid",
    balance: "Points balance", pending: "Pending", expiring_soon: "Expiring within 30 days", next_expiry: "Next expiry",
    debt: "Refund debt", ledger: "Points ledger", wallet: "Coupon wallet", kind: "Entry", available_at: "Available",
    uses_left: "Uses left", previous: "Previous", next: "Next",
    kind_earn: "earned", kind_redeem: "redeemed", kind_expire: "expired", kind_adjust: "adjusted", kind_reverse: "reversed",
    webhooks: "Webhook endpoints", events: "Events", url: "URL", position: "Delivered up to", backlog: "Backlog",
    last_error: "Last error", next_retry: "Next retry", event: "event", id: "Id", type: "Type",
    no_webhook: "No webhook is configured (perk serve --webhook URL --webhook-secret-file FILE).",
    language: "中文",
  },
  zh: {
    title: "Perk 控制台",
    signin: "登录", signout: "退出", name: "用户名", password: "密码",
    signin_failed: "登录失败",
    rules: "规则", simulate: "模拟", tests: "测试", publish: "发布", results: "看板", audit: "审计日志",
    role: "角色",
    format: "格式化", reload_active: "载入当前版本", active_version: "当前版本",
    files: "文件", new_file: "新建文件", delete_file: "删除此文件", file_missing: "不存在",
    files_not_included: "未被任何文件引用：", file_exists: "{f} 已是草稿中的文件",
    file_name_rule: "文件名须为相对路径，由字母、数字、_、- 和 . 组成，以 .perk 结尾（如 lib/catalogue.perk）",
    file_added: "新增", file_removed: "删除", file_changed: "修改",
    server_drafts: "服务器上的草稿", draft_name: "草稿名称", save_draft: "保存到服务器", open: "打开",
    delete: "删除", no_drafts: "还没有保存的草稿。", draft_meta: "第 {r} 版 · {b} · {w}",
    draft_is: "当前草稿：{d}，第 {r} 版", draft_name_needed: "请先为草稿命名。",
    draft_saved: "已保存 {d}（第 {r} 版）。", draft_opened: "已打开 {d}（第 {r} 版，{b} 保存）。",
    draft_deleted: "已删除 {d}。", save_over: "覆盖保存",
    draft_changed: "{b} 在你打开后保存了 {d}（现为第 {r} 版）：打开对方的版本，或覆盖保存。",
    no_active: "尚未发布任何版本", compiles: "编译通过：{n} 个促销", errors: "{n} 个错误，{w} 个警告",
    checking: "检查中…", hint: "提示", line: "行",
    quick_fix: "快速修复", fix_replace: "把“{a}”改为“{b}”", fix_insert: "插入“{b}”", fix_remove: "删除“{a}”",
    fix_edits: "{n} 处修改",
    lines: "购物车商品", add_line: "添加商品", sku: "SKU", category: "类目", price: "单价", qty: "数量",
    tags: "标签", customer: "顾客", customer_id: "顾客 ID", tier: "等级", birthday: "生日",
    coupons: "优惠券（逗号分隔）", time: "下单时间", shipping: "运费", run_simulation: "模拟计算",
    subtotal: "小计", discount: "优惠", payable: "应付", points_earned: "获得积分",
    promotion: "促销", applied: "已生效", why: "原因", hints: "差一点就能享受", explanation: "计算说明",
    remove: "删除",
    test_file: "草稿的规则测试（.test）", run_tests: "运行测试", passed: "通过", failed: "失败",
    diff: "与当前版本的差异", whatif: "用近期订单回放", message: "说明",
    publish_btn: "发布", published: "已发布版本 {v}", history: "历史", version: "版本",
    activate_at: "生效时间（留空即刻生效；{z}）", scheduled_publish: "已发布版本 {v}，将于 {t} 生效",
    scheduled_for: "定时于 {t} 生效",
    author: "作者", when: "时间", active: "生效中", rollback: "回滚", rolled_back: "已回滚到版本 {v}",
    publisher_only: "只有发布者可以发布和回滚。",
    compared: "回放订单数", changed: "价格变化的订单", before: "之前", after: "之后",
    largest: "变化最大的订单", order: "订单",
    from: "从", to: "到", load: "查看", export_csv: "导出 CSV", orders: "订单数", revenue: "收入",
    uses: "使用次数", budget_left: "剩余预算", points: "积分", issued: "发放", redeemed: "兑换",
    expired: "过期", per_day: "每日订单", discount_by_promo: "各促销优惠金额",
    loyalty_by_tier: "各等级积分（按下单时的等级；过期按当前等级）", no_tier: "无等级",
    days_in: "日期按店铺时区 {z} 计算。",
    actor: "操作人", action: "操作", detail: "详情", nothing: "暂无记录",
    discount_before: "之前优惠", discount_after: "之后优惠",
    role_viewer: "查看者", role_editor: "编辑者", role_publisher: "发布者",
    coupons_page: "优惠券", customers: "顾客", outbox: "事件外发",
    times_in: "时间按 {z} 显示", campaigns: "券活动", campaign: "活动", left: "可用", revoked: "已作废",
    show_codes: "券码", codes_of: "{c} 的券码", download_csv: "下载 CSV", first_n: "只显示前 {n} 个；CSV 包含全部。",
    code: "券码", status: "状态", expires: "到期", revoked_why: "作废人：原因", never: "永不",
    look_up_code: "查询券码", look_up: "查询", typo: "像是生成的券码但校验位不对：输错了？",
    generate_batch: "批量生成", how_many: "数量", prefix: "前缀（可选）", valid_days: "有效天数",
    uses_per_code: "每码可用次数（0 = 不限）", generate: "生成", generated: "已为 {c} 生成 {n} 个券码。",
    issue_code: "发券给顾客", issue: "发放", issued_to: "券码 {code} 已发给 {c}。",
    already_issued: "券码 {code} 之前已发给 {c}。",
    change_codes_title: "修改券码（延期、改次数）", change_codes: "修改", or_one_code: "或单个券码",
    valid_through: "有效至（店铺时区）", never_ends: "永不过期", uses_per_customer: "每人可用次数（0 = 不限）",
    unchanged: "不变", changed_codes: "已修改 {c} 的 {n} 个券码（{k} 个已作废的未改）。",
    revoke_code: "作废券码", reason: "原因", revoke: "作废", revoked_code: "券码 {code} 已作废。",
    publisher_only_coupons: "只有发布者可以生成、发放和作废券码。",
    st_valid: "可用", st_unknown: "无此券码", st_expired: "已过期", st_used_up: "已用完",
    st_not_for_customer: "不属于该顾客", st_revoked: "已作废", st_not_yet_valid: "尚未生效",
    balance: "可用积分", pending: "待入账", expiring_soon: "30 天内过期", next_expiry: "最近到期",
    debt: "退款欠分", ledger: "积分流水", wallet: "券包", kind: "类型", available_at: "可用时间",
    uses_left: "剩余次数", previous: "上一页", next: "下一页",
    kind_earn: "获得", kind_redeem: "抵扣", kind_expire: "过期", kind_adjust: "调整", kind_reverse: "退回",
    webhooks: "Webhook 端点", events: "事件", url: "URL", position: "已送达至", backlog: "积压",
    last_error: "最近错误", next_retry: "下次重试", event: "事件", id: "编号", type: "类型",
    no_webhook: "未配置 webhook（perk serve --webhook URL --webhook-secret-file FILE）。",
    language: "English",
  },
};

export function pickLanguage() {
  const saved = localStorage.getItem("perk.lang");
  if (saved === "en" || saved === "zh") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}

let lang = pickLanguage();

export function language() {
  return lang;
}

export function setLanguage(l) {
  lang = l;
  localStorage.setItem("perk.lang", l);
  document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
}

// t("compiles", {n: 3}) -> "Compiles: 3 promotions"
export function t(key, args) {
  let s = (words[lang] && words[lang][key]) || words.en[key] || key;
  if (args) for (const k of Object.keys(args)) s = s.replace("{" + k + "}", String(args[k]));
  return s;
}

const symbols = { CNY: "¥", JPY: "¥", USD: "$", EUR: "€", GBP: "£", HKD: "HK$", TWD: "NT$", KRW: "₩" };

// An amount as the API gives it ("26.40", "-1.05": major units, exact) with the currency's symbol.
// The digits are shown as they are: no floating point on money.
export function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  const s = String(amount);
  const neg = s.startsWith("-");
  const sym = symbols[currency] || (currency ? currency + " " : "");
  return (neg ? "-" : "") + sym + (neg ? s.slice(1) : s);
}

// An instant (epoch seconds) as "2026-12-08 20:15" in the rule set's zone (the browser's when
// unknown): year first in every language, as the CLI prints it, so 08/12 is never read as August.
export function when(seconds, zone) {
  if (seconds === null || seconds === undefined) return "—";
  const opts = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    const parts = {};
    for (const p of new Intl.DateTimeFormat("en-US", zone ? { ...opts, timeZone: zone } : opts).formatToParts(new Date(seconds * 1000)))
      parts[p.type] = p.value;
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
  } catch (e) {
    return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
}

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
    no_active: "Nothing is published yet", compiles: "Compiles: {n} promotions", errors: "{n} errors, {w} warnings",
    checking: "Checking…", hint: "hint", line: "line",
    lines: "Cart lines", add_line: "Add a line", sku: "SKU", category: "Category", price: "Price", qty: "Qty",
    tags: "Tags", customer: "Customer", customer_id: "Customer id", tier: "Tier", birthday: "Birthday",
    coupons: "Coupons (comma separated)", time: "Order time", shipping: "Shipping", run_simulation: "Simulate",
    subtotal: "Subtotal", discount: "Discount", payable: "Payable", points_earned: "Points earned",
    promotion: "Promotion", applied: "Applied", why: "Why", hints: "Near misses", explanation: "Explanation",
    remove: "Remove",
    test_file: "Rule tests (.test) of the draft", run_tests: "Run the tests", passed: "passed", failed: "failed",
    diff: "Changes against the active version", whatif: "Replay recent orders", message: "Message",
    publish_btn: "Publish", published: "Published version {v}", history: "History", version: "Version",
    author: "Author", when: "When", active: "active", rollback: "Roll back", rolled_back: "Rolled back to version {v}",
    publisher_only: "Only a publisher can publish and roll back.",
    compared: "Orders replayed", changed: "Orders whose price changes", before: "Before", after: "After",
    largest: "Largest changes", order: "Order",
    from: "From", to: "To", load: "Show", export_csv: "Export CSV", orders: "Orders", revenue: "Revenue",
    uses: "Times applied", budget_left: "Budget left", points: "Points", issued: "Issued", redeemed: "Redeemed",
    expired: "Expired", per_day: "Orders per day", discount_by_promo: "Discount by promotion",
    actor: "Who", action: "What", detail: "Detail", nothing: "Nothing yet",
    discount_before: "Discount before", discount_after: "Discount after",
    role_viewer: "viewer", role_editor: "editor", role_publisher: "publisher",
    language: "中文",
  },
  zh: {
    title: "Perk 控制台",
    signin: "登录", signout: "退出", name: "用户名", password: "密码",
    signin_failed: "登录失败",
    rules: "规则", simulate: "模拟", tests: "测试", publish: "发布", results: "看板", audit: "审计日志",
    role: "角色",
    format: "格式化", reload_active: "载入当前版本", active_version: "当前版本",
    no_active: "尚未发布任何版本", compiles: "编译通过：{n} 个促销", errors: "{n} 个错误，{w} 个警告",
    checking: "检查中…", hint: "提示", line: "行",
    lines: "购物车商品", add_line: "添加商品", sku: "SKU", category: "类目", price: "单价", qty: "数量",
    tags: "标签", customer: "顾客", customer_id: "顾客 ID", tier: "等级", birthday: "生日",
    coupons: "优惠券（逗号分隔）", time: "下单时间", shipping: "运费", run_simulation: "模拟计算",
    subtotal: "小计", discount: "优惠", payable: "应付", points_earned: "获得积分",
    promotion: "促销", applied: "已生效", why: "原因", hints: "差一点就能享受", explanation: "计算说明",
    remove: "删除",
    test_file: "草稿的规则测试（.test）", run_tests: "运行测试", passed: "通过", failed: "失败",
    diff: "与当前版本的差异", whatif: "用近期订单回放", message: "说明",
    publish_btn: "发布", published: "已发布版本 {v}", history: "历史", version: "版本",
    author: "作者", when: "时间", active: "生效中", rollback: "回滚", rolled_back: "已回滚到版本 {v}",
    publisher_only: "只有发布者可以发布和回滚。",
    compared: "回放订单数", changed: "价格变化的订单", before: "之前", after: "之后",
    largest: "变化最大的订单", order: "订单",
    from: "从", to: "到", load: "查看", export_csv: "导出 CSV", orders: "订单数", revenue: "收入",
    uses: "使用次数", budget_left: "剩余预算", points: "积分", issued: "发放", redeemed: "兑换",
    expired: "过期", per_day: "每日订单", discount_by_promo: "各促销优惠金额",
    actor: "操作人", action: "操作", detail: "详情", nothing: "暂无记录",
    discount_before: "之前优惠", discount_after: "之后优惠",
    role_viewer: "查看者", role_editor: "编辑者", role_publisher: "发布者",
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

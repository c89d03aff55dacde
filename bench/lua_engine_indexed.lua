-- lua_engine_indexed.lua - the benchmark's Lua engine as an experienced Lua engineer would write
-- it for this workload: the same semantics as bench/lua_engine.lua (and Perk), with the kind of
-- rule index Perk has, and no table allocated per evaluation once warm.
--
-- Same interface as lua_engine.lua: M.load(data) (the data bench/gen.c writes in rules_N.lua),
-- M.cart(c), M.evaluate(prog, cart [, trace]) -> discount, shipping, points, gifts, the lines'
-- final amounts in prog.cur. One source for Lua 5.4 and LuaJIT: a line ending in `--jit: CODE`
-- is replaced by CODE under LuaJIT (bench/lua_boot.lua).
--
-- What differs from the scan engine (bench/README.md, "The indexed Lua engine"):
--  * Each promotion is listed under the keys a cart must hold for it to possibly apply: its
--    required coupon code, else the category / brand / tag / sku keys its action's item set needs
--    (an `or` is listed under both sides' keys, an `and` under one side's), else those of a
--    `sum(S) >= X` / `count(S) >= X` condition with X > 0. A promotion with none of these is
--    "free" (order-wide offers, gifts, shipping) and always visited. Skipping a listed promotion
--    whose keys the cart lacks changes nothing: its set is empty, so it could discount nothing.
--  * Per day (the order's local date), the promotions whose `valid` window and `every` weekdays
--    allow that day, built on first use and cached (a few days at a time): per key, the list of
--    those promotions in evaluation order, and the free ones. `hours` are still tested per visit.
--  * Per evaluation: walk the cart's keys (each line's category prefixes, brand, sku and tags,
--    each coupon code), mark the promotions listed under them (a generation number per
--    promotion, so nothing is cleared), then visit the free and the marked ones in evaluation
--    order: when the marked ones are few, their positions are sorted (integers, table.sort),
--    otherwise the day's list is walked and the unmarked keyed ones skipped.
--  * Earn rules are listed by key the same way (their order does not matter: points add up);
--    each earn rule keeps the list of multipliers that target it.
--  * Scratch arrays (current amounts, shares, remainder and run keys, candidates) live in the
--    program and are reused; category prefixes are computed once per category string.

local floor, sort = math.floor, table.sort
local idiv = nil --jit: local function idiv(a, b) local q = floor(a / b) if q * b > a then q = q - 1 end return q end

local M = {}

local A_PCT, A_AMT, A_TIERS, A_EVERY, A_BXGY, A_FIXED, A_GIFT, A_SHIP = 1, 2, 3, 4, 5, 6, 7, 8
local ACTIONS = {pct = A_PCT, amt = A_AMT, tiers = A_TIERS, every = A_EVERY, bxgy = A_BXGY,
                 fixed = A_FIXED, gift = A_GIFT, ship = A_SHIP}
local C_SUM, C_COUNT, C_SUBTOTAL, C_TIER, C_CHANNEL, C_FIRST, C_BIRTHDAY = 1, 2, 3, 4, 5, 6, 7
local CONDITIONS = {sum = C_SUM, count = C_COUNT, subtotal = C_SUBTOTAL, tier = C_TIER,
                    channel = C_CHANNEL, first_order = C_FIRST, birthday = C_BIRTHDAY}
local K_CAT, K_BRAND, K_TAG, K_SKU, K_COUPON = 1, 2, 3, 4, 5 -- key kinds: one index table each
local DAYS_CACHED = 16 -- per-day indexes kept before the cache is emptied

---------------------------------------------------------------------------- loading

local function compile_pred(p)
  local op, v = p[1], p[2]
  if op == "all" then return function() return true end
  elseif op == "cat" then return function(l) return l.cats[v] == true end
  elseif op == "catis" then return function(l) return l.category == v end
  elseif op == "brand" then return function(l) return l.brand == v end
  elseif op == "tag" then
    return function(l)
      local tl = l.taglist
      for t = 1, l.nt do if tl[t] == v then return true end end
      return false
    end
  elseif op == "sku" then return function(l) return v[l.sku] == true end
  elseif op == "margin_ge" then return function(l) return l.margin >= v end
  elseif op == "price_ge" then return function(l) return l.price >= v end
  elseif op == "not" then
    local a = compile_pred(v)
    return function(l) return not a(l) end
  elseif op == "and" or op == "or" then
    local a, b = compile_pred(v), compile_pred(p[3])
    if op == "and" then return function(l) return a(l) and b(l) end end
    return function(l) return a(l) or b(l) end
  end
  error("unknown item predicate " .. tostring(op))
end

-- The keys one of which every member of predicate p holds, as a flat list {kind, value, kind,
-- value, ...}; nil when there are none (the predicate can hold without any key).
local function pred_keys(p)
  local op, v = p[1], p[2]
  if op == "cat" or op == "catis" then return {K_CAT, v} -- a line's prefixes include its category
  elseif op == "brand" then return {K_BRAND, v}
  elseif op == "tag" then return {K_TAG, v}
  elseif op == "sku" then
    local ks = {}
    for sku in pairs(v) do ks[#ks + 1] = K_SKU; ks[#ks + 1] = sku end
    return ks
  elseif op == "and" then return pred_keys(v) or pred_keys(p[3])
  elseif op == "or" then
    local a, b = pred_keys(v), pred_keys(p[3])
    if a == nil or b == nil then return nil end
    local ks = {}
    for i = 1, #a do ks[i] = a[i] end
    for i = 1, #b do ks[#a + i] = b[i] end
    return ks
  end
  return nil -- all, not, margin_ge, price_ge
end

-- A set is prepared once: its predicate as a closure, its keys, and how its members are found
-- per cart: `all` = every line; one key (cat, brand, tag, or an `and` with such a side) = the
-- cart's lines holding that key, gathered by the key walk of evaluate() (s.exact: all of them,
-- else those passing the predicate); otherwise the predicate on every line.
local every_set = {}
local function prepare_set(s)
  if s.fn == nil then
    s.fn, s.gen, s.n = compile_pred(s), 0, 0
    s.own = {}
    s.list = s.own
    local ks = pred_keys(s)
    s.keys = ks or false
    s.all = s[1] == "all"
    if ks and #ks == 2 and ks[1] ~= K_SKU then
      s.kk, s.kv = ks[1], ks[2]
      s.exact = s[1] == "cat" or s[1] == "brand" or s[1] == "tag"
    end
    every_set[#every_set + 1] = s
  end
  return s
end

local function prepare_conds(cs)
  if cs == nil then return nil end
  for _, c in ipairs(cs) do
    local kind = CONDITIONS[c[1]]
    if kind == nil then error("unknown condition " .. tostring(c[1])) end
    c.kind = kind
    if kind == C_SUM or kind == C_COUNT then prepare_set(c[2]) end
  end
  return cs
end

-- The keys a rule is listed under, or nil (always visited).
local function rule_keys(set, conds)
  if set and set.keys then return set.keys end
  if conds then
    for _, c in ipairs(conds) do
      if (c.kind == C_SUM or c.kind == C_COUNT) and c[3] > 0 and c[2].keys then return c[2].keys end
    end
  end
  return nil
end

-- An index entry: what is listed under one key (promotions' positions l[1..n], earn rules l.e),
-- and per evaluation (l.g == the evaluation's number) the cart's lines holding the key.
local function new_entry() return {g = 0, n = 0, ln = {}, nl = 0} end

function M.load(data)
  every_set = {}
  local prog = {tz_offset = data.tz_offset, earns = data.earns, mults = data.mults, gen = 0,
                cur = {}, groups = {}, active = {}, share = {}, rq = {}, rr = {}, rsum = {},
                keys = {}, mark = {}, cand = {}, emark = {}, ecand = {}, days = {}, ndays = 0}
  prepare_set(data.sets.all)
  for _, p in ipairs(data.promos) do
    p.kind = ACTIONS[p.act] or error("unknown action " .. tostring(p.act))
    if p.set then prepare_set(p.set) end
    p.conds = prepare_conds(p.conds)
    if p.days then
      local d = {}
      for _, wd in ipairs(p.days) do d[wd] = true end
      p.dayset = d
    end
    if p.steps then
      p.thr, p.val, p.pct = {}, {}, {}
      for k, s in ipairs(p.steps) do p.thr[k], p.val[k], p.pct[k] = s[1], s[2], s[3] end
      p.nsteps = #p.steps
    end
    if p.coupon then p.keys = {K_COUPON, p.coupon}
    elseif p.kind ~= A_GIFT and p.kind ~= A_SHIP then p.keys = rule_keys(p.set, p.conds)
    else p.keys = rule_keys(nil, p.conds) end
  end
  -- evaluation order: stage, then the order written; p.ord is the position in it
  local order = {}
  for i, p in ipairs(data.promos) do p.seq = i; order[i] = p end
  sort(order, function(a, b)
    if a.stage ~= b.stage then return a.stage < b.stage end
    return a.seq < b.seq
  end)
  for i, p in ipairs(order) do p.ord = i; prog.mark[i] = 0 end
  prog.promos, prog.np = order, #order

  -- multipliers, and per earn rule the ones that may raise it
  for _, m in ipairs(data.mults) do m.conds = prepare_conds(m.conds) end
  local efree, eidx = {}, {{}, {}, {}, {}, {}}
  for e, er in ipairs(data.earns) do
    prepare_set(er.set)
    er.conds = prepare_conds(er.conds)
    er.cap = er.cap or -1
    er.idx = e
    prog.emark[e] = 0
    local ms = {}
    for m, mu in ipairs(data.mults) do
      local targeted = mu.all
      if not targeted and mu.targets then
        for _, t in ipairs(mu.targets) do if t == e then targeted = true end end
      end
      if targeted then ms[#ms + 1] = m end
    end
    er.ml, er.nml = ms, #ms
    local ks = rule_keys(er.set, er.conds)
    if ks == nil then
      efree[#efree + 1] = er
    else
      for k = 1, #ks, 2 do
        local t = eidx[ks[k]]
        local l = t[ks[k + 1]]
        if l == nil then l = {n = 0}; t[ks[k + 1]] = l end
        l.n = l.n + 1
        l[l.n] = er
      end
    end
  end
  prog.efree, prog.nefree, prog.eidx = efree, #efree, eidx
  prog.sets, prog.iota = every_set, {}
  prog.ne, prog.nm = #data.earns, #data.mults
  return prog
end

-- The promotions a day allows, indexed by key (built on first use of the day, then cached).
local function day_index(prog, today, weekday)
  local d = prog.days[today]
  if d ~= nil then return d end
  if prog.ndays >= DAYS_CACHED then prog.days, prog.ndays = {}, 0 end
  d = {idx = {{}, {}, {}, {}, {}}, free = {}, all = {}}
  local nfree, nall = 0, 0
  local promos = prog.promos
  for r = 1, prog.np do
    local p = promos[r]
    if (p.from == nil or (today >= p.from and today <= p.to))
        and (p.dayset == nil or p.dayset[weekday]) then
      nall = nall + 1
      d.all[nall] = p
      local ks = p.keys
      if ks == nil then
        nfree = nfree + 1
        d.free[nfree] = r
      else
        for k = 1, #ks, 2 do
          local t = d.idx[ks[k]]
          local l = t[ks[k + 1]]
          if l == nil then l = new_entry(); t[ks[k + 1]] = l end
          l.n = l.n + 1
          l[l.n] = r
        end
      end
    end
  end
  -- the earn rules listed under each key ride on the same entries: one lookup per cart key
  for kind = 1, 5 do
    local t = d.idx[kind]
    for v, el in pairs(prog.eidx[kind]) do
      local l = t[v]
      if l == nil then l = new_entry(); t[v] = l end
      l.e = el
    end
  end
  -- an entry for every single-key set, listed under or not: the key walk gathers its lines
  for _, set in ipairs(prog.sets) do
    if set.kk then
      local t = d.idx[set.kk]
      if t[set.kv] == nil then t[set.kv] = new_entry() end
    end
  end
  d.nfree, d.nall = nfree, nall
  prog.days[today] = d
  prog.ndays = prog.ndays + 1
  return d
end

-- Category prefixes per category string, shared by every cart ("c017/s2" -> c017, c017/s2).
local catcache = {}
local function catinfo(path)
  local ci = catcache[path]
  if ci ~= nil then return ci end
  local set, list, pos = {}, {}, 1
  while true do
    local slash = path:find("/", pos, true)
    if slash == nil then set[path] = true; list[#list + 1] = path break end
    local pre = path:sub(1, slash - 1)
    set[pre] = true
    list[#list + 1] = pre
    pos = slash + 1
  end
  ci = {set = set, list = list, n = #list}
  catcache[path] = ci
  return ci
end
local NO_CATEGORY = {set = {}, list = {}, n = 0}
local EMPTY = {}

-- Prepares a cart for evaluation. Works on a fresh table or on one refilled in place (the
-- harness's checkout path reuses its tables: c.n, l.nt and c.nc then give the counts).
function M.cart(c)
  local lines = c.lines
  local n = c.n
  if n == nil then n = #lines; c.n = n end
  for i = 1, n do
    local l = lines[i]
    local ci = l.category and catinfo(l.category) or NO_CATEGORY
    l.cats, l.catlist, l.ncats = ci.set, ci.list, ci.n
    if l.nt == nil then
      local tl = l.taglist or EMPTY
      l.taglist, l.nt = tl, #tl
    end
    l.orig = l.price * l.qty
  end
  local coupons = c.coupons
  if coupons == nil then coupons = {}; c.coupons = coupons
  else for k in pairs(coupons) do coupons[k] = nil end end
  local cl = c.couponlist or EMPTY
  c.couponlist = cl
  local nc = c.nc
  if nc == nil then nc = #cl; c.nc = nc end
  for k = 1, nc do coupons[cl[k]] = true end
  return c
end

---------------------------------------------------------------------------- evaluation helpers

-- The members of set s in this cart (line numbers, ascending), computed once per evaluation.
-- E_idx is the day's index, whose entries the key walk filled with the cart's lines (x.ln,
-- x.nl); E_iota holds 1..n. Both are set by evaluate().
local E_idx, E_iota
local function members(s, lines, n, gen)
  if s.gen == gen then return s.list, s.n end
  s.gen = gen
  if s.all then
    s.list, s.n = E_iota, n
    return E_iota, n
  end
  local own, k = s.own, 0
  local kk = s.kk
  if kk ~= nil then
    local x = E_idx[kk][s.kv]
    if x.g == gen then
      if s.exact then
        s.list, s.n = x.ln, x.nl
        return x.ln, x.nl
      end
      local fn, ln = s.fn, x.ln
      for j = 1, x.nl do
        local i = ln[j]
        if fn(lines[i]) then k = k + 1; own[k] = i end
      end
    end -- else no line holds the key
  else
    local fn = s.fn
    for i = 1, n do
      if fn(lines[i]) then k = k + 1; own[k] = i end
    end
  end
  s.list, s.n = own, k
  return own, k
end

local function total_of(cur, list, k)
  local t = 0
  for j = 1, k do t = t + cur[list[j]] end
  return t
end

local function percent(amount, ppm)
  return (amount * ppm + 500000) // 1000000 --jit: return idiv(amount * ppm + 500000, 1000000)
end

-- Takes d (0 < d <= total) off the k lines of list in proportion to their current amounts,
-- largest remainder, ties to the earlier line (as lua_engine.lua; keys is reused scratch).
local function allocate(cur, list, k, total, d, share, keys)
  if d == total then
    for j = 1, k do cur[list[j]] = 0 end
    return
  end
  local assigned, m, k1 = 0, 0, k + 1
  for j = 1, k do
    local prod = d * cur[list[j]]
    local s = prod // total --jit: local s = idiv(prod, total)
    share[j] = s
    assigned = assigned + s
    local rem = prod - s * total
    if rem > 0 then m = m + 1; keys[m] = rem * k1 + (k - j) end
  end
  local left = d - assigned
  if left > 0 then
    sort(keys)
    for t = m, m - left + 1, -1 do
      local j = k - keys[t] % k1
      share[j] = share[j] + 1
    end
  end
  for t = 1, m do keys[t] = nil end
  for j = 1, k do
    local i = list[j]
    cur[i] = cur[i] - share[j]
  end
end

local function buy_get(prog, p, cur, lines, n, list, k)
  local rq, rr, rsum, keys = prog.rq, prog.rr, prog.rsum, prog.keys
  local m, units, n1 = 0, 0, n + 1
  for j = 1, k do
    local i = list[j]
    local a, qty = cur[i], lines[i].qty
    local q = a // qty --jit: local q = idiv(a, qty)
    local r = a - q * qty
    rq[i], rr[i], rsum[i] = q, r, 0
    if r > 0 then m = m + 1; keys[m] = (q + 1) * n1 + (n - i) end
    if qty > r then m = m + 1; keys[m] = q * n1 + (n - i) end
    units = units + qty
  end
  local left = units // (p.x + p.y) * p.y --jit: local left = idiv(units, p.x + p.y) * p.y
  if left > 0 then
    sort(keys)
    for t = 1, m do
      local key = keys[t]
      local back = key % n1
      local i = n - back
      local price = (key - back) // n1 --jit: local price = idiv(key - back, n1)
      local count = rr[i]
      if price == rq[i] then count = lines[i].qty - count end
      local take = count < left and count or left
      rsum[i] = rsum[i] + take * price
      left = left - take
      if left == 0 then break end
    end
  end
  for t = 1, m do keys[t] = nil end
  local ppm, goods = p.ppm, 0
  for j = 1, k do
    local i = list[j]
    local s = rsum[i]
    if s > 0 then
      local d = percent(s, ppm)
      if d > s then d = s end
      if d > 0 then
        cur[i] = cur[i] - d
        goods = goods + d
      end
    end
  end
  return goods
end

local function month_day(z)
  z = z + 719468
  local era = z // 146097 --jit: local era = idiv(z, 146097)
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365 --jit: local yoe = idiv(doe - idiv(doe, 1460) + idiv(doe, 36524) - idiv(doe, 146096), 365)
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100) --jit: local doy = doe - (365 * yoe + idiv(yoe, 4) - idiv(yoe, 100))
  local mp = (5 * doy + 2) // 153 --jit: local mp = idiv(5 * doy + 2, 153)
  local d = doy - (153 * mp + 2) // 5 + 1 --jit: local d = doy - idiv(153 * mp + 2, 5) + 1
  if mp < 10 then return mp + 3, d end
  return mp - 9, d
end

local function conds_hold(cs, cart, cur, lines, n, gen, subtotal, birthday)
  for c = 1, #cs do
    local cond = cs[c]
    local kind = cond.kind
    if kind == C_SUM then
      local list, k = members(cond[2], lines, n, gen)
      if total_of(cur, list, k) < cond[3] then return false end
    elseif kind == C_COUNT then
      local list, k = members(cond[2], lines, n, gen)
      local units = 0
      for j = 1, k do units = units + lines[list[j]].qty end
      if units < cond[3] then return false end
    elseif kind == C_SUBTOTAL then
      if subtotal < cond[2] then return false end
    elseif kind == C_TIER then
      if cart.tier < cond[2] then return false end
    elseif kind == C_CHANNEL then
      if not cond[2][cart.channel] then return false end
    elseif kind == C_FIRST then
      if not cart.first_order then return false end
    elseif kind == C_BIRTHDAY then
      if not birthday then return false end
    end
  end
  return true
end

-- Marks what an index entry lists and is not yet marked: promotions (their positions, into
-- cand) and earn rules (into ecand). Returns the new counts. The caller has checked l.g ~= gen.
local function take(l, gen, mark, cand, nc, emark, ecand, ne)
  l.g = gen
  for j = 1, l.n do
    local r = l[j]
    if mark[r] ~= gen then
      mark[r] = gen
      nc = nc + 1
      cand[nc] = r
    end
  end
  local el = l.e
  if el ~= nil then
    for j = 1, el.n do
      local er = el[j]
      local e = er.idx
      if emark[e] ~= gen then
        emark[e] = gen
        ne = ne + 1
        ecand[ne] = er
      end
    end
  end
  return nc, ne
end

---------------------------------------------------------------------------- evaluate

-- The key walk: marks the promotions and earn rules listed under the cart's keys and gathers,
-- per key entry met, the cart's lines holding the key (for members()). Returns the counts of
-- marked promotions (prog.cand) and of earn rules to run, the free ones included (prog.ecand).
-- (evaluate() is split into these functions so that LuaJIT compiles each: one function with all
-- of their live values made it abort its traces, "register coalescing too complex".)
local function gather(prog, cart, lines, n, day, gen)
  local idx, mark, cand = day.idx, prog.mark, prog.cand
  local emark, ecand = prog.emark, prog.ecand
  local icat, ibrand, itag, isku = idx[K_CAT], idx[K_BRAND], idx[K_TAG], idx[K_SKU]
  local nc, ne = 0, prog.nefree
  local efree = prog.efree
  for j = 1, ne do ecand[j] = efree[j] end
  -- each entry met also gathers the cart's lines holding its key (for members())
  for i = 1, n do
    local l = lines[i]
    local cl = l.catlist
    for c = 1, l.ncats do
      local x = icat[cl[c]]
      if x ~= nil then
        if x.g ~= gen then nc, ne = take(x, gen, mark, cand, nc, emark, ecand, ne); x.nl = 0 end
        local nl = x.nl + 1
        x.nl = nl; x.ln[nl] = i
      end
    end
    local x = ibrand[l.brand]
    if x ~= nil then
      if x.g ~= gen then nc, ne = take(x, gen, mark, cand, nc, emark, ecand, ne); x.nl = 0 end
      local nl = x.nl + 1
      x.nl = nl; x.ln[nl] = i
    end
    x = isku[l.sku]
    if x ~= nil and x.g ~= gen then nc, ne = take(x, gen, mark, cand, nc, emark, ecand, ne) end
    local tl = l.taglist
    for t = 1, l.nt do
      x = itag[tl[t]]
      if x ~= nil then
        if x.g ~= gen then nc, ne = take(x, gen, mark, cand, nc, emark, ecand, ne); x.nl = 0 end
        local nl = x.nl + 1
        x.nl = nl; x.ln[nl] = i
      end
    end
  end
  local clist, icoupon = cart.couponlist, idx[K_COUPON]
  for k = 1, cart.nc do
    local x = icoupon[clist[k]]
    if x ~= nil and x.g ~= gen then nc, ne = take(x, gen, mark, cand, nc, emark, ecand, ne) end
  end
  return nc, ne
end

-- The promotions to visit, positions in evaluation order into prog.cand: the marked ones and
-- the day's free ones. Returns their number.
local function order_visits(prog, day, nc, gen)
  local mark, cand = prog.mark, prog.cand
  local nv = 0
  if nc * 16 <= day.nall then
    -- few: add the free ones and sort the positions
    local free = day.free
    for j = 1, day.nfree do cand[nc + j] = free[j] end
    nv = nc + day.nfree
    for j = nv + 1, #cand do cand[j] = nil end
    sort(cand)
  else
    -- many: walk the day's list, skipping keyed promotions not marked
    local all = day.all
    nv = 0
    for j = 1, day.nall do
      local p = all[j]
      local r = p.ord
      if p.keys == nil or mark[r] == gen then nv = nv + 1; cand[nv] = r end
    end
  end

  return nv
end

-- Visits the promotions prog.cand[1..nv] in order. Returns the subtotal, shipping and gifts.
local function run_promos(prog, cart, lines, n, gen, nv, minute, birthday, subtotal, shipping, trace)
  local promos, visit, cur, share, groups, keys = prog.promos, prog.cand, prog.cur, prog.share, prog.groups, prog.keys
  local coupons, gifts = cart.coupons, 0
  for v = 1, nv do
    local p = promos[visit[v]]
    local group = p.group
    if (group == nil or groups[group] ~= gen)
      and (p.coupon == nil or coupons[p.coupon])
      and (p.hfrom == nil or (minute >= p.hfrom and minute < p.hto))
      and (p.conds == nil or conds_hold(p.conds, cart, cur, lines, n, gen, subtotal, birthday)) then
      local kind, goods, ship, applied = p.kind, 0, 0, false
      if kind == A_GIFT then
        gifts = gifts + 1
        applied = true
      elseif kind == A_SHIP then
        if shipping > 0 then
          ship, shipping, applied = shipping, 0, true
        end
      else
        local list, k = members(p.set, lines, n, gen)
        if kind == A_FIXED then
          local price = p.price
          for j = 1, k do
            local i = list[j]
            local c = cur[i]
            local d = c - price * lines[i].qty
            if d > 0 then
              cur[i] = c - d
              goods = goods + d
            end
          end
        elseif kind == A_BXGY then
          goods = buy_get(prog, p, cur, lines, n, list, k)
        else
          local total = total_of(cur, list, k)
          if total > 0 then
            local d = 0
            if kind == A_PCT then
              d = percent(total, p.ppm)
            elseif kind == A_AMT then
              d = p.amount
            elseif kind == A_TIERS then
              local thr = p.thr
              for s = p.nsteps, 1, -1 do
                if thr[s] <= total then
                  if p.pct[s] then d = percent(total, p.val[s]) else d = p.val[s] end
                  break
                end
              end
            elseif kind == A_EVERY then
              d = total // p.step * p.off --jit: d = idiv(total, p.step) * p.off
              local cap = p.cap
              if cap and d > cap then d = cap end
            end
            if d > total then d = total end
            if d > 0 then
              allocate(cur, list, k, total, d, share, keys)
              goods = d
            end
          end
        end
        applied = goods > 0
      end
      if applied then
        subtotal = subtotal - goods
        if trace then trace[#trace + 1] = {p.id, goods, ship} end
        if group then groups[group] = gen end
        if p.stop then break end
      end
    end
  end

  return subtotal, shipping, gifts
end

-- Loyalty: the active multipliers, then the earn rules prog.ecand[1..ne] (the ones listed under
-- the cart's keys and the free ones, in any order: the points add up). Returns the points.
local function earn_points(prog, cart, lines, n, gen, ne, subtotal, birthday)
  local cur, ecand = prog.cur, prog.ecand
  local active, mults = prog.active, prog.mults
  for m = 1, prog.nm do
    local mu = mults[m]
    active[m] = mu.conds == nil or conds_hold(mu.conds, cart, cur, lines, n, gen, subtotal, birthday)
  end
  local points = 0
  for j = 1, ne do
    local er = ecand[j]
    if er.conds == nil or conds_hold(er.conds, cart, cur, lines, n, gen, subtotal, birthday) then
      local list, k = members(er.set, lines, n, gen)
      local base = total_of(cur, list, k)
      if base > 0 then
        local num, den = 1, 1
        local ml = er.ml
        for x = 1, er.nml do
          local m = ml[x]
          if active[m] then
            local mu = mults[m]
            if mu.num * den > num * mu.den then num, den = mu.num, mu.den end
          end
        end
        local pts = base * er.points * num // (er.per * den) --jit: local pts = idiv(base * er.points * num, er.per * den)
        if er.cap >= 0 and pts > er.cap then pts = er.cap end
        points = points + pts
      end
    end
  end
  return points
end

function M.evaluate(prog, cart, trace)
  local gen = prog.gen + 1
  prog.gen = gen
  local lines, n = cart.lines, cart.n
  local cur = prog.cur
  local subtotal = 0
  for i = 1, n do
    local o = lines[i].orig
    cur[i] = o
    subtotal = subtotal + o
  end
  local original = subtotal
  local shipping = cart.shipping

  local secs = cart.time + prog.tz_offset
  local today = secs // 86400 --jit: local today = idiv(secs, 86400)
  local minute = (secs - today * 86400) // 60 --jit: local minute = idiv(secs - today * 86400, 60)
  local weekday = (today + 3) % 7 -- 1970-01-01 was a Thursday; 0 = Monday
  local birthday = false
  if cart.bmonth > 0 then
    local mo, d = month_day(today)
    birthday = mo == cart.bmonth and d == cart.bday
  end

  -- the candidates: the promotions and earn rules listed under the cart's keys (marked), then
  -- the free ones
  local day = day_index(prog, today, weekday)
  local iota = prog.iota
  for i = #iota + 1, n do iota[i] = i end
  E_idx, E_iota = day.idx, iota
  local nc, ne = gather(prog, cart, lines, n, day, gen)
  local nv = order_visits(prog, day, nc, gen)
  local gifts
  subtotal, shipping, gifts = run_promos(prog, cart, lines, n, gen, nv, minute, birthday, subtotal, shipping, trace)
  local points = earn_points(prog, cart, lines, n, gen, ne, subtotal, birthday)
  return original - subtotal, shipping, points, gifts
end

return M

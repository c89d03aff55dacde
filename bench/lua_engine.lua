-- lua_engine.lua - Perk's evaluation semantics written by hand in Lua, for the benchmark.
--
-- The comparison point for Perk's VM: the same promotions as a competent Lua programmer would run
-- them inside a checkout. The ruleset is data (bench/gen.c writes rules_N.lua); M.load() turns
-- its item predicates into closures once, M.evaluate() runs one cart. Money is integer minor
-- units (fen), percentages parts per million, exactly as in Perk (runtime/perk.h).
--
-- One source for two runtimes. Lua 5.4 has integers and `//`; LuaJIT has neither (numbers are
-- doubles, exact for integers below 2^53, which the generator guarantees for every product this
-- code forms: see bench/README.md). A line ending in `--jit: CODE` is replaced by CODE when the
-- harness loads this file into LuaJIT (bench/lua_boot.lua); everything else is shared.
--
-- Semantics (docs/semantics.md; the subset the generator uses):
--  * promotions in stages (single-item offers, order offers, coupons, shipping: the `stage` gen.c
--    writes), in priority order within a stage, each sees the cart as the earlier ones left it;
--  * gates: `stop` of an earlier applied promotion, exclusive group already applied, required
--    coupon entered, `valid` (inclusive dates), `every` (weekday), `hours` (from <= t < to), and
--    `when` conditions (thresholds on current amounts);
--  * a discount on a set is computed once on the set's current total (percent: round half up),
--    capped at that total, and allocated to the lines in proportion to their current amounts by
--    the largest remainder method, ties to the earlier line;
--  * tiers: the highest threshold <= the set's current total; every: floor(total / step) * off,
--    at most the cap; fixed price: each line max(0, current - price * qty);
--  * buy X get Y: the set's units priced from the current amounts (current = q * qty + r: r units
--    at q + 1, the rest at q), floor(units / (X + Y)) * Y cheapest units rewarded (ties: the later
--    line first, as the VM orders runs), the percent off rounded once per line;
--  * a promotion applies when it changed something (a discount, shipping, or a gift); only then
--    does it claim its exclusive group and stop later ones;
--  * earn after the promotions: base = sum of final amounts of the eligible lines,
--    floor(base * points * num / (per * den)) with the largest active multiplier, then the cap.

local floor, sort = math.floor, table.sort
local idiv = nil --jit: local function idiv(a, b) local q = floor(a / b) if q * b > a then q = q - 1 end return q end

local M = {}

-- action and condition kinds, as small integers for the dispatch in evaluate()
local A_PCT, A_AMT, A_TIERS, A_EVERY, A_BXGY, A_FIXED, A_GIFT, A_SHIP = 1, 2, 3, 4, 5, 6, 7, 8
local ACTIONS = {pct = A_PCT, amt = A_AMT, tiers = A_TIERS, every = A_EVERY, bxgy = A_BXGY,
                 fixed = A_FIXED, gift = A_GIFT, ship = A_SHIP}
local C_SUM, C_COUNT, C_SUBTOTAL, C_TIER, C_CHANNEL, C_FIRST, C_BIRTHDAY = 1, 2, 3, 4, 5, 6, 7
local CONDITIONS = {sum = C_SUM, count = C_COUNT, subtotal = C_SUBTOTAL, tier = C_TIER,
                    channel = C_CHANNEL, first_order = C_FIRST, birthday = C_BIRTHDAY}

---------------------------------------------------------------------------- loading

-- An item predicate {"cat", "c017"}, {"and", a, b}, ... as a closure over a line table.
local function compile_pred(p)
  local op, v = p[1], p[2]
  if op == "all" then return function() return true end
  elseif op == "cat" then return function(l) return l.cats[v] == true end
  elseif op == "catis" then return function(l) return l.category == v end
  elseif op == "brand" then return function(l) return l.brand == v end
  elseif op == "tag" then return function(l) return l.tags[v] == true end
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

-- Item sets are shared by the rules that name them; each memoizes its members per evaluation.
local function prepare_set(s)
  if s.fn == nil then
    s.fn, s.gen, s.list, s.n = compile_pred(s), 0, {}, 0
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

-- Returns a program: the ruleset data made ready to evaluate, plus reusable scratch space.
function M.load(data)
  local prog = {tz_offset = data.tz_offset, promos = data.promos, earns = data.earns,
                mults = data.mults, gen = 0, cur = {}, groups = {}, active = {},
                share = {}, rq = {}, rr = {}, rsum = {}}
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
  end
  for _, e in ipairs(data.earns) do
    prepare_set(e.set)
    e.conds = prepare_conds(e.conds)
    e.cap = e.cap or -1
  end
  for _, m in ipairs(data.mults) do
    m.conds = prepare_conds(m.conds)
    if m.targets then
      local t = {}
      for _, k in ipairs(m.targets) do t[k] = true end
      m.targetset = t
    end
  end
  -- evaluation order: stage, then the order written (priority order; stable, as Perk's)
  local order = {}
  for i, p in ipairs(data.promos) do
    p.seq = i
    order[i] = p
  end
  sort(order, function(a, b)
    if a.stage ~= b.stage then return a.stage < b.stage end
    return a.seq < b.seq
  end)
  prog.promos = order
  prog.np, prog.ne, prog.nm = #data.promos, #data.earns, #data.mults
  return prog
end

-- A cart as the harness builds it once, before timing: lines carry their category prefixes and
-- tags as sets (what a checkout's own cart model would index), coupons as a set.
function M.cart(c)
  for _, l in ipairs(c.lines) do
    local cats, path = {}, l.category
    if path then
      local pos = 1
      while true do
        local slash = path:find("/", pos, true)
        if slash == nil then cats[path] = true break end
        cats[path:sub(1, slash - 1)] = true
        pos = slash + 1
      end
    end
    l.cats = cats
    local tags = {}
    for _, t in ipairs(l.taglist or {}) do tags[t] = true end
    l.tags = tags
    l.orig = l.price * l.qty
  end
  local coupons = {}
  for _, code in ipairs(c.couponlist or {}) do coupons[code] = true end
  c.coupons = coupons
  c.n = #c.lines
  return c
end

---------------------------------------------------------------------------- evaluation helpers

local function members(s, lines, n, gen)
  if s.gen == gen then return s.list, s.n end
  local fn, list, k = s.fn, s.list, 0
  for i = 1, n do
    if fn(lines[i]) then k = k + 1; list[k] = i end
  end
  s.gen, s.n = gen, k
  return list, k
end

local function total_of(cur, list, k)
  local t = 0
  for j = 1, k do t = t + cur[list[j]] end
  return t
end

-- amount * ppm / 10^6 rounded half up (amount >= 0)
local function percent(amount, ppm)
  return (amount * ppm + 500000) // 1000000 --jit: return idiv(amount * ppm + 500000, 1000000)
end

-- Takes discount d (0 < d <= total) off the k lines of list, in proportion to their current
-- amounts; the units left by the floors go to the largest remainders, ties to the earlier line.
local function allocate(cur, list, k, total, d, share)
  if d == total then
    for j = 1, k do cur[list[j]] = 0 end
    return
  end
  local assigned, keys, m, k1 = 0, nil, 0, k + 1
  for j = 1, k do
    local prod = d * cur[list[j]]
    local s = prod // total --jit: local s = idiv(prod, total)
    share[j] = s
    assigned = assigned + s
    local rem = prod - s * total
    if rem > 0 then
      -- one integer key orders by remainder, then by position: (k - j) favours earlier lines
      if keys == nil then keys = {} end
      m = m + 1
      keys[m] = rem * k1 + (k - j)
    end
  end
  local left = d - assigned
  if left > 0 then
    sort(keys)
    for t = m, m - left + 1, -1 do
      local j = k - keys[t] % k1
      share[j] = share[j] + 1
    end
  end
  for j = 1, k do
    local i = list[j]
    cur[i] = cur[i] - share[j]
  end
end

-- Buy X get Y on one set: returns the discount taken off the lines.
local function buy_get(prog, p, cur, lines, n, list, k)
  local rq, rr, rsum = prog.rq, prog.rr, prog.rsum
  local keys, m, units, n1 = {}, 0, 0, n + 1
  for j = 1, k do
    local i = list[j]
    local a, qty = cur[i], lines[i].qty
    local q = a // qty --jit: local q = idiv(a, qty)
    local r = a - q * qty
    rq[i], rr[i], rsum[i] = q, r, 0
    -- a run key orders by unit price, then the later line first: price * (n + 1) + (n - i)
    if r > 0 then m = m + 1; keys[m] = (q + 1) * n1 + (n - i) end
    if qty > r then m = m + 1; keys[m] = q * n1 + (n - i) end
    units = units + qty
  end
  local left = units // (p.x + p.y) * p.y --jit: local left = idiv(units, p.x + p.y) * p.y
  if left == 0 then return 0 end
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

-- Month and day of a day number (days since 1970-01-01), for birthdays.
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

-- The `when` conditions of a rule, all of which must hold.
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

---------------------------------------------------------------------------- evaluate

-- Evaluates one cart. Returns the total discount, the shipping left to pay, the points earned
-- and the number of gifts. The lines' final amounts are left in prog.cur. With a table `trace`,
-- appends {promotion id, goods discount, shipping discount} for each applied promotion.
function M.evaluate(prog, cart, trace)
  local gen = prog.gen + 1
  prog.gen = gen
  local lines, n = cart.lines, cart.n
  local cur, share, groups = prog.cur, prog.share, prog.groups
  local subtotal = 0
  for i = 1, n do
    local o = lines[i].orig
    cur[i] = o
    subtotal = subtotal + o
  end
  local original = subtotal
  local shipping, gifts = cart.shipping, 0

  -- the facts of the order's local time
  local secs = cart.time + prog.tz_offset
  local today = secs // 86400 --jit: local today = idiv(secs, 86400)
  local minute = (secs - today * 86400) // 60 --jit: local minute = idiv(secs - today * 86400, 60)
  local weekday = (today + 3) % 7 -- 1970-01-01 was a Thursday; 0 = Monday
  local birthday = false
  if cart.bmonth > 0 then
    local mo, d = month_day(today)
    birthday = mo == cart.bmonth and d == cart.bday
  end
  local coupons = cart.coupons

  local promos = prog.promos
  for r = 1, prog.np do
    local p = promos[r]
    local group = p.group
    if (group == nil or groups[group] ~= gen)
      and (p.coupon == nil or coupons[p.coupon])
      and (p.from == nil or (today >= p.from and today <= p.to))
      and (p.dayset == nil or p.dayset[weekday])
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
              allocate(cur, list, k, total, d, share)
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
        if p.stop then break end -- every later promotion is stopped
      end
    end
  end

  -- loyalty: multipliers, then earn rules on the final amounts
  local active, mults = prog.active, prog.mults
  for m = 1, prog.nm do
    local mu = mults[m]
    active[m] = mu.conds == nil or conds_hold(mu.conds, cart, cur, lines, n, gen, subtotal, birthday)
  end
  local points, earns = 0, prog.earns
  for e = 1, prog.ne do
    local er = earns[e]
    if er.conds == nil or conds_hold(er.conds, cart, cur, lines, n, gen, subtotal, birthday) then
      local list, k = members(er.set, lines, n, gen)
      local base = total_of(cur, list, k)
      local num, den = 1, 1
      for m = 1, prog.nm do
        local mu = mults[m]
        if active[m] and (mu.all or mu.targetset[e]) and mu.num * den > num * mu.den then
          num, den = mu.num, mu.den
        end
      end
      local pts = base * er.points * num // (er.per * den) --jit: local pts = idiv(base * er.points * num, er.per * den)
      if er.cap >= 0 and pts > er.cap then pts = er.cap end
      points = points + pts
    end
  end
  return original - subtotal, shipping, points, gifts
end

return M

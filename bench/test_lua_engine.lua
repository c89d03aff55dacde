-- test_lua_engine.lua - hand-checked cases for the benchmark's Lua engines, run by both runtimes
-- on both engines (bench/run.sh: bench_lua54 --lua-test bench/test_lua_engine.lua [ENGINE]; the
-- global bench_engine names the engine file, default bench/lua_engine.lua; the indexed engine is
-- bench/lua_engine_indexed.lua), from the repository root. Every expected amount is worked out in
-- the comments.

local boot = dofile("bench/lua_boot.lua")
local engine_path = bench_engine or "bench/lua_engine.lua"
local engine = boot(engine_path)

local failures = 0
local function check(name, got, want)
  if got ~= want then
    failures = failures + 1
    print(string.format("FAIL %s: got %s, want %s", name, tostring(got), tostring(want)))
  end
end

local function line(sku, category, price, qty, tags)
  return {sku = sku, category = category, brand = "B1", taglist = tags or {}, price = price,
          qty = qty, margin = 300000}
end

-- 2027-03-06 10:15:30 +08:00, a Saturday (day 20883, minute 615)
local SAT_1015 = 1804299330

local function cart(lines, t)
  t = t or {}
  return engine.cart({lines = lines, tier = t.tier or 0, first_order = false, bmonth = t.bmonth or 0,
                      bday = t.bday or 0, time = t.time or SAT_1015, channel = "app",
                      shipping = t.shipping or 0, couponlist = t.coupons})
end

local function run(name, data, c, want)
  local S = data.sets
  S.all = S.all or {"all"}
  data.tz_offset, data.earns, data.mults = 28800, data.earns or {}, data.mults or {}
  local prog = engine.load(data)
  local discount, shipping, points, gifts = engine.evaluate(prog, c)
  check(name .. " discount", discount, want.discount)
  check(name .. " shipping", shipping, want.shipping)
  check(name .. " points", points, want.points)
  check(name .. " gifts", gifts, want.gifts)
  for i, v in ipairs(want.finals) do check(name .. " line " .. i, prog.cur[i], v) end
  -- a second evaluation of the same cart gives the same answer (no state leaks)
  local d2, s2, p2, g2 = engine.evaluate(prog, c)
  check(name .. " repeat", d2 .. "/" .. s2 .. "/" .. p2 .. "/" .. g2,
        discount .. "/" .. shipping .. "/" .. points .. "/" .. gifts)
end

-- Case A: allocation by largest remainder, tiers, exclusive groups, shipping, gifts, earn caps.
do
  local S = {all = {"all"}}
  S[1] = {"cat", "c001"}
  S[2] = {"cat", "c002"}
  run("A", {
    sets = S,
    promos = {
      -- ¥8 off c001 (15.00 + 12.00 + 11.00 = 38.00): 800 * 1500/3800 = 315.79, * 1200/3800 =
      -- 252.63, * 1100/3800 = 231.58; floors 315 + 252 + 231 = 798, the 2 left go to the largest
      -- remainders (.79, .63): 316 / 253 / 231 -> lines 1184, 947, 869
      {id = "a1", act = "amt", set = S[1], amount = 800},
      -- order now 1184 + 947 + 869 + 900 = 3900 >= 3500: 10% = 390. 390 * w / 3900:
      -- 118.4, 94.7, 86.9, 90.0 -> floors 388, +1 to .9 (line 3) and .7 (line 2): 118/95/87/90
      -- -> lines 1066, 852, 782, 810
      {id = "a2", act = "tiers", set = S.all, steps = {{3000, 300, false}, {3500, 100000, true}}},
      -- c002 is 810 < 10000: not applied, so it does not claim group g
      {id = "a3", act = "pct", set = S[2], ppm = 500000, group = "g", conds = {{"sum", S[2], 10000}}},
      -- 10% of 810 = 81 -> line 4 = 729; claims g
      {id = "a4", act = "pct", set = S[2], ppm = 100000, group = "g"},
      -- g is taken
      {id = "a5", act = "pct", set = S.all, ppm = 500000, group = "g"},
      -- subtotal 1066 + 852 + 782 + 729 = 3429 >= 3000: shipping 800 -> 0
      {id = "a6", act = "ship", conds = {{"subtotal", 3000}}},
      -- c001 is 2700 >= 2000: a gift
      {id = "a7", act = "gift", conds = {{"sum", S[1], 2000}}},
      -- coupon not entered
      {id = "a8", act = "amt", set = S.all, amount = 100, coupon = "C1"},
    },
    -- base floor(3429 * 1 * 2 / 100) = 68 (gold: x2 on all);
    -- bonus floor(2700 * 3 * 2 / 100) = 162 -> cap 50; 68 + 50 = 118
    earns = {{id = "base", set = S.all, points = 1, per = 100},
             {id = "bonus", set = S[1], points = 3, per = 100, cap = 50}},
    mults = {{id = "gold", num = 2, den = 1, all = true, conds = {{"tier", 2}}}},
  }, cart({line("A", "c001/s1", 1500, 1), line("B", "c001/s2", 1200, 1), line("C", "c001/s1", 1100, 1),
           line("D", "c002/s0", 900, 1)}, {tier = 2, shipping = 800}),
  {discount = 800 + 390 + 81, shipping = 0, points = 118, gifts = 1, finals = {1066, 852, 782, 729}})
end

-- Case B: fixed price, buy X get Y on uneven unit prices, every-N with a cap.
do
  local S = {all = {"all"}}
  S[1] = {"cat", "c003"}
  S[2] = {"sku", {X = true, Y = true}}
  S[3] = {"sku", {Z = true}}
  run("B", {
    sets = S,
    promos = {
      -- 10% of 999 = 99.9 -> 100: line 1 = 899 = 3 x 299 + 2 (2 units at 300, 1 at 299)
      {id = "b1", act = "pct", set = S[1], ppm = 100000},
      -- member price 15.00: 4000 - 2 x 1500 = 1000 off line 3 -> 3000
      {id = "b2", act = "fixed", set = S[3], price = 1500, conds = {{"tier", 1}}},
      -- buy 1 get 1 at 50% off over X (299, 300, 300) and Y (300, 300): 5 units -> 2 rewarded:
      -- 299 (line 1), then a 300: the later line first, so line 2. Line 1: 50% of 299 = 149.5
      -- -> 150; line 2: 50% of 300 = 150. Lines 749, 450
      {id = "b3", act = "bxgy", set = S[2], x = 1, y = 1, ppm = 500000},
      -- every ¥5 on order ¥1 off up to ¥1.50: 749 + 450 + 3000 = 4199 -> 8 x 100 -> cap 150;
      -- 150 * w / 4199: 26.76, 16.08, 107.17 -> floors 149, +1 to line 1: 27/16/107
      {id = "b4", act = "every", set = S.all, step = 500, off = 100, cap = 150},
    },
    -- base floor(4049 / 100) = 40
    earns = {{id = "base", set = S.all, points = 1, per = 100}},
  }, cart({line("X", "c003/s1", 333, 3), line("Y", "c004/s1", 300, 2), line("Z", "c009/s1", 2000, 2)},
          {tier = 1}),
  {discount = 100 + 1000 + 300 + 150, shipping = 0, points = 40, gifts = 0, finals = {722, 434, 2893}})
end

-- Case C: schedules, coupons, stop, a birthday multiplier of x1.5.
do
  local S = {all = {"all"}}
  run("C", {
    sets = S,
    promos = {
      {id = "c1", act = "pct", set = S.all, ppm = 100000, from = 20878, to = 20883}, -- 1000 off -> 9000
      {id = "c2", act = "amt", set = S.all, amount = 500, from = 20884, to = 20887}, -- not yet
      {id = "c3", act = "amt", set = S.all, amount = 300, days = {5}},               -- Saturday -> 8700
      {id = "c4", act = "amt", set = S.all, amount = 200, hfrom = 600, hto = 615},   -- ended at 10:15
      {id = "c5", act = "amt", set = S.all, amount = 100, hfrom = 615, hto = 660},   -- -> 8600
      {id = "c6", act = "amt", set = S.all, amount = 100, coupon = "C1", stop = true}, -- -> 8500
      {id = "c7", act = "amt", set = S.all, amount = 100},                           -- stopped
    },
    -- birthday today: floor(8500 * 1 * 3 / (100 * 2)) = floor(127.5) = 127
    earns = {{id = "base", set = S.all, points = 1, per = 100}},
    mults = {{id = "bday", num = 3, den = 2, targets = {1}, conds = {{"birthday"}}},
             {id = "plat", num = 2, den = 1, all = true, conds = {{"tier", 3}}}},
  }, cart({line("Q", "c005/s1", 10000, 1)}, {tier = 2, bmonth = 3, bday = 6, coupons = {"C1", "NOPE"}}),
  {discount = 1500, shipping = 0, points = 127, gifts = 0, finals = {8500}})
end

local runtime = jit and jit.version or _VERSION
if failures > 0 then
  print(runtime .. ": " .. engine_path .. ": " .. failures .. " failure(s)")
  os.exit(1)
end
print(runtime .. ": " .. engine_path .. ": hand-checked cases pass")

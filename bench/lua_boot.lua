-- lua_boot.lua - loads bench/lua_engine.lua into Lua 5.4 or LuaJIT.
--
-- Lua 5.4 runs the engine as written. Under LuaJIT (no integers, no `//`) a code line ending in
-- `--jit: CODE` is replaced by CODE first; comment lines are left alone, and the line count is
-- kept so error messages point at the right line. Usage: local engine = dofile(boot)(path)
return function(path)
  local f = assert(io.open(path, "rb"))
  local src = f:read("*a")
  f:close()
  if jit then
    local out = {}
    for line in (src .. "\n"):gmatch("(.-)\n") do
      if not line:match("^%s*%-%-") then
        local alt = line:match("%-%-jit: (.*)$")
        if alt then line = line:match("^(%s*)") .. alt end
      end
      out[#out + 1] = line
    end
    src = table.concat(out, "\n")
  end
  local chunk = assert((loadstring or load)(src, "@" .. path))
  return chunk()
end

-- The sandbox seen from a script: every escape hatch is absent or refuses with a clear
-- message (io, debug, package, os.execute & co, dofile/loadfile, binary chunks, C modules,
-- paths in require, secret variables, globals, __gc, string-metatable tricks).
local spec = require "spec"
local it, eq, ok, raises = spec.it, spec.eq, spec.ok, spec.raises

local SECRETS = { "KRAKEN_API_KEY", "KRAKEN_SECRET", "SUPABASE_KEY", "OPENAI_API_KEY", "GROQ_API_KEY",
  "GEMINI_API_KEY" }

spec.describe("sandbox", function()
  it("has no io, debug or package library", function()
    eq(io, nil)
    eq(debug, nil)
    eq(package, nil)
    eq(rawget(_G, "io"), nil)
    eq(_G.debug, nil)
    eq(_ENV.package, nil)
    -- nor old or foreign escape hatches
    eq(loadstring, nil)
    eq(setfenv, nil)
    eq(getfenv, nil)
    eq(newproxy, nil)
    eq(module, nil)
  end)

  it("cannot require the libraries that were left out", function()
    for _, name in ipairs({ "io", "debug", "package", "os.execute" }) do
      raises(function() require(name) end, "module '" .. name .. "' not found")
    end
  end)

  it("denies os.execute, os.exit, os.remove, os.rename, os.tmpname, os.setlocale", function()
    raises(function() os.execute("echo pwned") end, "os.execute is not available in the titan-host sandbox")
    raises(function() os.execute() end, "os.execute is not available")
    raises(function() os.exit(0) end, "os.exit is not available in the titan-host sandbox")
    raises(function() os.remove("/tmp/x") end, "os.remove is not available in the titan-host sandbox")
    raises(function() os.rename("/tmp/x", "/tmp/y") end, "os.rename is not available in the titan-host sandbox")
    raises(function() os.tmpname() end, "os.tmpname is not available in the titan-host sandbox")
    raises(function() os.setlocale("C") end, "os.setlocale is not available in the titan-host sandbox")
  end)

  it("keeps the harmless os functions", function()
    eq(math.type(os.time()), "integer")
    eq(type(os.clock()), "number")
    eq(os.date("!%Y-%m-%dT%H:%M:%SZ", 0), "1970-01-01T00:00:00Z")
    eq(os.date("%H", 0), "00", "the process runs in UTC")
  end)

  it("denies dofile and loadfile", function()
    raises(function() dofile("/etc/passwd") end, "dofile is not available in the titan-host sandbox")
    raises(function() dofile() end, "dofile is not available")
    raises(function() loadfile("/etc/passwd") end, "loadfile is not available in the titan-host sandbox")
  end)

  it("load accepts text and refuses binary chunks, whatever the mode", function()
    eq(load("return 1 + 1")(), 2)
    local binary = string.char(27) .. "Lua" .. string.char(0x54, 0) .. "binary"
    for _, mode in ipairs({ "b", "bt", "t" }) do
      local f, err = load(binary, "chunk", mode)
      eq(f, nil, "mode " .. mode)
      ok(tostring(err):find("attempt to load a binary chunk", 1, true), "message: " .. tostring(err))
    end
    local f, err = load(binary)
    eq(f, nil)
    ok(err:find("binary chunk", 1, true))
    -- a reader function that hands over a binary chunk piece by piece
    local pieces = { string.char(27), "Lua", "\84\0" }
    local i = 0
    f, err = load(function() i = i + 1; return pieces[i] end, "reader", "b")
    eq(f, nil)
    ok(err:find("binary chunk", 1, true))
    -- load with an explicit environment cannot see the globals
    eq(load("return os", "env", "t", {})(), nil)
  end)

  it("has no string.dump, not even through the string metatable", function()
    eq(string.dump, nil)
    eq(("").dump, nil)
    eq(getmetatable("").__index.dump, nil)
    raises(function() return ("x"):dump() end, "attempt to call a nil value")
  end)

  it("string metatable tricks reach nothing but the string library", function()
    local mt = getmetatable("")
    eq(mt.__index, string)
    local allowed = { byte = 1, char = 1, find = 1, format = 1, gmatch = 1, gsub = 1, len = 1, lower = 1,
      match = 1, rep = 1, reverse = 1, sub = 1, upper = 1, pack = 1, packsize = 1, unpack = 1 }
    for k, v in pairs(string) do
      ok(allowed[k], "unexpected string." .. tostring(k))
      eq(type(v), "function")
    end
    for k in pairs(mt) do
      ok(k == "__index" or k:match("^__%a+$"), "metatable key " .. tostring(k))
    end
    -- whatever a script puts there stays inside its own state
    mt.__index = function(_, key) return "hijacked " .. key end
    eq(("s").anything, "hijacked anything")
    mt.__index = string
    eq(("abc"):upper(), "ABC")
  end)

  it("require refuses C modules, paths and relative names", function()
    for _, name in ipairs({ "socket", "lfs", "posix", "ffi", "cjson.safe" }) do
      raises(function() require(name) end, "module '" .. name .. "' not found")
    end
    for _, name in ipairs({ "../evil", "lib/../../etc/passwd", "/etc/passwd", "./spec", ".spec", "lib..x",
      "a/b" }) do
      raises(function() require(name) end, "module names are dotted paths")
    end
    -- a missing module names the folders it searched (the current directory is tested end to end)
    local err = raises(function() require "no_such_module_xyz" end, "module 'no_such_module_xyz' not found")
    ok(err:find("strategies/lib/no_such_module_xyz.lua", 1, true), "lists strategies/lib: " .. err)
  end)

  it("require loads a module once, returns built-ins, and ignores extra arguments", function()
    eq(require("spec"), spec)
    eq(require("titan.time"), titan.time)
    eq(require("titan.json", "extra"), titan.json)
    raises(function() require("rep", "") end, "module 'rep' not found")
    raises(function() require() end, "bad argument #1")
  end)

  it("os.getenv returns nil for every secret variable and works for the others", function()
    for _, name in ipairs(SECRETS) do eq(os.getenv(name), nil, name) end
    ok(os.getenv("PATH"), "PATH is visible")
    ok(os.getenv("HOME") or os.getenv("PWD") or os.getenv("PATH"), "HOME is visible")
    eq(os.getenv("TITAN_SPEC_SURELY_UNSET_VARIABLE"), nil)
    raises(function() os.getenv() end, "bad argument #1")
  end)

  it("assigning an undeclared global raises", function()
    raises(function() undeclared_global_xyz = 1 end, "assignment to undeclared global 'undeclared_global_xyz'")
    raises(function() _G.another_global = 1 end, "assignment to undeclared global 'another_global'")
    raises(function() load("made_in_load = 1")() end, "assignment to undeclared global 'made_in_load'")
    eq(rawget(_G, "undeclared_global_xyz"), nil)
  end)

  it("refuses __gc metamethods (finalizers run outside the CPU budget)", function()
    raises(function() setmetatable({}, { __gc = function() end }) end, "__gc metamethods are not allowed")
    raises(function() setmetatable({}, { __gc = false }) end, "__gc metamethods are not allowed")
    local t = setmetatable({}, { __index = { x = 1 } })
    eq(t.x, 1)
    eq(getmetatable(setmetatable({}, nil)), nil)
    raises(function() setmetatable({}, 1) end, "bad argument #2")
  end)

  it("xpcall behaves like Lua's (its handler is only skipped after a budget kill)", function()
    local ok_, msg = xpcall(function() error("plain", 0) end, function(e) return "handled " .. e end)
    eq(ok_, false)
    eq(msg, "handled plain")
    eq(select("#", xpcall(function(a, b) return a, b, 3 end, print, 1, 2)), 4)
    eq(select(4, xpcall(function(a, b) return a, b, 3 end, print, 1, 2)), 3)
    local co = coroutine.wrap(function()
      return xpcall(function() return coroutine.yield("yielded") end, print)
    end)
    eq(co(), "yielded", "yield inside xpcall")
    local r1, r2 = co("resumed")
    eq(r1, true)
    eq(r2, "resumed")
    raises(function() xpcall(print) end, "bad argument #2")
  end)

  it("coroutine.resume, wrap and close behave like Lua's (they are wrapped to track the running thread)", function()
    local co = coroutine.create(function(a, b)
      local c = coroutine.yield(a + b)
      return c * 2, "done"
    end)
    eq(select("#", coroutine.resume(co, 1, 2)), 2)
    eq(select(2, coroutine.resume(co, 21)), 42)
    eq(coroutine.status(co), "dead")
    local r1, r2 = coroutine.resume(co)
    eq(r1, false)
    eq(r2, "cannot resume dead coroutine")
    local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end return "end" end)
    eq(gen(), 1); eq(gen(), 2); eq(gen(), 3); eq(gen(), "end")
    raises(gen, "cannot resume dead coroutine")
    local bad = coroutine.wrap(function() error("inside") end)
    local err = raises(bad, "inside")
    ok(err:find("sandbox_spec", 1, true), "error keeps its position: " .. err)
    local tbl = coroutine.wrap(function() error({ code = 7 }) end)
    local okk, e = pcall(tbl)
    eq(okk, false)
    eq(e.code, 7, "non-string errors pass through unchanged")
    local closed = false
    local c2 = coroutine.create(function()
      local x <close> = setmetatable({}, { __close = function() closed = true end })
      coroutine.yield()
    end)
    coroutine.resume(c2)
    eq(coroutine.close(c2), true)
    eq(closed, true, "__close ran")
    eq(coroutine.status(c2), "dead")
    raises(function() coroutine.wrap(1) end, "bad argument #1 to 'wrap'")
    raises(function() coroutine.resume(1) end, "bad argument #1 to 'resume'")
    raises(function() coroutine.close(coroutine.running()) end, "cannot close a running coroutine")
    local main_ok, main_err = coroutine.resume(coroutine.running())
    eq(main_ok, false)
    ok(main_err:find("non%-suspended"), main_err)
  end)

  it("load does not echo a long chunk in error messages (a secret fragment could slip out)", function()
    local f = load("local k = '" .. string.rep("S", 80) .. "' error('boom')")
    local err = raises(f, "boom")
    ok(not err:find("SSSS", 1, true), "chunk text in message: " .. err)
    eq(select(2, pcall(load("error('x')", "=short"))), "short:1: x")
    local g = load("error('x')", "=" .. string.rep("N", 80))
    ok(not select(2, pcall(g)):find("NNNN", 1, true), "long chunk names are replaced")
  end)
end)

spec.finish("sandbox_spec")

-- A tiny spec library for Lua tests run by `titan-host script`.
-- spec.it(name, fn) records one test; spec.finish() prints "file: N passed, N failed" and
-- raises when anything failed, so the process exits 1.
local spec = {}

local passed, failed, prefix = 0, 0, ""

function spec.describe(name, fn)
  local saved = prefix
  prefix = prefix .. name .. " "
  fn()
  prefix = saved
end

function spec.it(name, fn)
  local ok, err = xpcall(fn, debug and debug.traceback or function(e) return e end)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    print("FAIL " .. prefix .. name .. "\n  " .. tostring(err))
  end
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function spec.eq(got, want, what)
  if got ~= want then
    error((what or "value") .. ": got " .. show(got) .. ", want " .. show(want), 2)
  end
end

function spec.near(got, want, tol, what)
  if type(got) ~= "number" or math.abs(got - want) > (tol or 1e-9) then
    error((what or "value") .. ": got " .. show(got) .. ", want " .. show(want) .. " +/- " .. tostring(tol), 2)
  end
end

function spec.ok(v, what)
  if not v then error((what or "expected a true value") .. " (got " .. show(v) .. ")", 2) end
  return v
end

-- Asserts fn raises an error whose message contains `pattern` (plain text).
function spec.raises(fn, pattern)
  local ok, err = pcall(fn)
  if ok then error("expected an error containing " .. show(pattern) .. ", got none", 2) end
  if pattern and not tostring(err):find(pattern, 1, true) then
    error("error " .. show(tostring(err)) .. " does not contain " .. show(pattern), 2)
  end
  return err
end

-- Asserts a `nil, err` return with err.code == code; returns err.
function spec.fails(code, v, err)
  if v ~= nil then error("expected nil, err{code=" .. code .. "}, got " .. show(v), 2) end
  if type(err) ~= "table" then error("expected an error table, got " .. show(err), 2) end
  if err.code ~= code then
    error("expected err.code " .. show(code) .. ", got " .. show(err.code) .. " (" .. tostring(err.message) .. ")", 2)
  end
  if type(err.message) ~= "string" or err.message == "" then error("err.message is empty", 2) end
  return err
end

function spec.finish(name)
  print(string.format("%s: %d passed, %d failed", name or "spec", passed, failed))
  if failed > 0 then error(failed .. " spec(s) failed", 0) end
end

return spec

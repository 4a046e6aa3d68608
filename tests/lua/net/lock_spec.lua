-- titan.lock against the active store (SQLite file or the PostgREST fake), through the real C
-- store. Run by tests/e2e/test_store_sqlite.sh and test_store_supabase.sh with the store set in
-- the environment; they plant "taken" (another holder, long lease) and "stale" (another holder,
-- lease ended) first. Usage: lock_spec.lua NAME normal|unavailable
local spec = require "spec"   -- the e2e script copies tests/lua/spec.lua beside this file

local NAME, MODE = arg[1], arg[2]
assert(NAME and MODE, "usage: lock_spec.lua NAME normal|unavailable")
local lock = titan.lock

if MODE == "unavailable" then
  spec.it("a store that cannot be opened is nil, err (not a raise, not a lock)", function()
    local ok, err = lock.acquire("x", 10)
    spec.fails("lock.store_unavailable", ok, err)
    spec.eq(err.retryable, false, "retryable")
    local r, err2 = lock.release("x")
    spec.fails("lock.store_unavailable", r, err2)
  end)
  spec.finish(NAME)
  return
end

spec.describe("titan.lock", function()
  spec.it("is the same module as require 'titan.lock'", function()
    spec.eq(require("titan.lock"), lock)
  end)

  spec.it("acquires a free lock, re-acquires its own, releases once", function()
    spec.eq(lock.acquire("free", 30), true, "first acquire")
    spec.eq(lock.acquire("free", 60), true, "our own lock is extended")
    spec.eq(lock.release("free"), true, "release")
    spec.eq(lock.release("free"), false, "second release: not ours any more")
    spec.eq(lock.acquire("free", 30), true, "free again")
    spec.eq(lock.release("free"), true)
  end)

  spec.it("reports the holder of a live lock and does not take it", function()
    local ok, holder = lock.acquire("taken", 30)
    spec.eq(ok, false, "acquire")
    spec.eq(holder, "other-runner:1", "holder")
    spec.eq(lock.release("taken"), false, "cannot release someone else's lock")
    local again, holder2 = lock.acquire("taken", 30)
    spec.eq(again, false, "still held after our release attempt")
    spec.eq(holder2, "other-runner:1")
  end)

  spec.it("takes over a lock whose lease has ended", function()
    spec.eq(lock.acquire("stale", 30), true, "expired lease taken")
    spec.eq(lock.release("stale"), true)
  end)

  spec.it("holder() names this process", function()
    local h = lock.holder()
    spec.ok(type(h) == "string" and h:find(":", 1, true), "host:pid form")
  end)

  spec.it("raises on misuse", function()
    spec.raises(function() lock.acquire("", 10) end, "bad argument #1")
    spec.raises(function() lock.acquire(string.rep("n", 201), 10) end, "bad argument #1")
    spec.raises(function() lock.acquire("x") end, "bad argument #2")
    spec.raises(function() lock.acquire("x", 0) end, "ttl_s")
    spec.raises(function() lock.acquire("x", 1.5) end, "bad argument #2")
    spec.raises(function() lock.acquire("x", 604801) end, "ttl_s")
    spec.raises(function() lock.release({}) end, "bad argument #1")
  end)
end)

spec.finish(NAME)

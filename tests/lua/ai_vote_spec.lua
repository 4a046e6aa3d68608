-- lib.ai.vote: the full truth table of the default rule for 1, 2 and 3 providers (every
-- multiset of buy/sell/hold/abstain, checked in every order), confidence thresholds, custom
-- rules and misuse.
local spec = require "spec"
local vote = require "lib.ai.vote"

local HIGH, LOW = 0.8, 0.3

local function result(kind, conf)
  if kind == "x" then return { provider = "p", abstain_reason = "timeout" } end
  local action = ({ b = "buy", s = "sell", h = "hold" })[kind]
  return { provider = "p", decision = { action = action, confidence = conf or HIGH, reason = "r" } }
end

-- every ordering of a string of kinds ("bbx" -> bbx, bxb, xbb, ...)
local function permutations(s)
  if #s <= 1 then return { s } end
  local out, seen = {}, {}
  for i = 1, #s do
    local rest = s:sub(1, i - 1) .. s:sub(i + 1)
    for _, p in ipairs(permutations(rest)) do
      local w = s:sub(i, i) .. p
      if not seen[w] then seen[w] = true; out[#out + 1] = w end
    end
  end
  return out
end

-- Truth table, default rule (quorum 2 capped at the number of providers, min confidence 0.6),
-- all confidences HIGH. b=buy s=sell h=hold x=abstain.
local TABLE = {
  -- one provider: it decides alone
  { "b", "buy", "agreed" }, { "s", "sell", "agreed" }, { "h", "hold", "all_hold" }, { "x", "hold", "no_votes" },
  -- two providers: both must agree on a side
  { "bb", "buy", "agreed" }, { "ss", "sell", "agreed" }, { "bs", "hold", "conflict" },
  { "bh", "hold", "no_quorum" }, { "sh", "hold", "no_quorum" }, { "bx", "hold", "no_quorum" },
  { "sx", "hold", "no_quorum" }, { "hh", "hold", "all_hold" }, { "hx", "hold", "all_hold" },
  { "xx", "hold", "no_votes" },
  -- three providers: two agree and none opposes
  { "bbb", "buy", "agreed" }, { "bbh", "buy", "agreed" }, { "bbx", "buy", "agreed" }, { "bbs", "hold", "conflict" },
  { "sss", "sell", "agreed" }, { "ssh", "sell", "agreed" }, { "ssx", "sell", "agreed" }, { "ssb", "hold", "conflict" },
  { "bsh", "hold", "conflict" }, { "bsx", "hold", "conflict" },
  { "bhh", "hold", "no_quorum" }, { "bhx", "hold", "no_quorum" }, { "bxx", "hold", "no_quorum" },
  { "shh", "hold", "no_quorum" }, { "shx", "hold", "no_quorum" }, { "sxx", "hold", "no_quorum" },
  { "hhh", "hold", "all_hold" }, { "hhx", "hold", "all_hold" }, { "hxx", "hold", "all_hold" },
  { "xxx", "hold", "no_votes" },
}

spec.describe("default rule truth table", function()
  spec.it("covers every multiset for 1, 2 and 3 providers", function()
    -- 4 + 10 + 20 multisets of {b, s, h, x}
    spec.eq(#TABLE, 34, "rows")
    local seen = {}
    for _, row in ipairs(TABLE) do
      local key = {}
      for c in row[1]:gmatch(".") do key[#key + 1] = c end
      table.sort(key)
      key = table.concat(key)
      spec.eq(seen[key], nil, "duplicate row " .. key)
      seen[key] = true
    end
  end)
  for _, row in ipairs(TABLE) do
    spec.it(row[1] .. " -> " .. row[2] .. " (" .. row[3] .. ")", function()
      for _, order in ipairs(permutations(row[1])) do
        local results = {}
        for c in order:gmatch(".") do results[#results + 1] = result(c) end
        local out = vote.decide(results)
        spec.eq(out.action, row[2], order .. " action")
        spec.eq(out.reason, row[3], order .. " reason")
        if out.action ~= "hold" then spec.near(out.confidence, HIGH, 1e-12, order .. " confidence") end
      end
    end)
  end
  spec.it("no results at all -> hold", function()
    local out = vote.decide({})
    spec.eq(out.action, "hold"); spec.eq(out.reason, "no_votes")
  end)
  spec.it("counts every kind", function()
    local out = vote.decide({ result("b"), result("h"), result("x") })
    spec.eq(out.counts.buy, 1); spec.eq(out.counts.hold, 1); spec.eq(out.counts.abstain, 1); spec.eq(out.counts.sell, 0)
    spec.eq(out.quorum, 2)
  end)
end)

spec.describe("confidence", function()
  spec.it("mean below the threshold -> hold low_confidence", function()
    local out = vote.decide({ result("b", LOW), result("b", LOW), result("x") })
    spec.eq(out.action, "hold"); spec.eq(out.reason, "low_confidence")
  end)
  spec.it("the mean decides, not each vote", function()
    local out = vote.decide({ result("s", 0.5), result("s", 0.9) })
    spec.eq(out.action, "sell"); spec.near(out.confidence, 0.7, 1e-12)
    out = vote.decide({ result("s", 0.3), result("s", 0.8) })
    spec.eq(out.action, "hold"); spec.eq(out.reason, "low_confidence")
  end)
  spec.it("exactly the threshold passes", function()
    local out = vote.decide({ result("b", 0.6), result("b", 0.6) })
    spec.eq(out.action, "buy")
  end)
  spec.it("hold votes do not dilute the side's confidence", function()
    local out = vote.decide({ result("b", 0.7), result("b", 0.7), result("h", 0.0) })
    spec.eq(out.action, "buy"); spec.near(out.confidence, 0.7, 1e-12)
  end)
  spec.it("a malformed decision counts as an abstention", function()
    local out = vote.decide({
      { decision = { action = "buy", confidence = 1.5 } },
      { decision = { action = "BUY", confidence = 0.9 } },
      { decision = { action = "buy", confidence = "0.9" } },
      { decision = "buy" },
      "junk",
    })
    spec.eq(out.action, "hold"); spec.eq(out.reason, "no_votes"); spec.eq(out.counts.abstain, 5)
  end)
end)

spec.describe("custom rules", function()
  spec.it("quorum 3 needs all three", function()
    spec.eq(vote.decide({ result("b"), result("b"), result("h") }, { quorum = 3 }).reason, "no_quorum")
    spec.eq(vote.decide({ result("b"), result("b"), result("b") }, { quorum = 3 }).action, "buy")
  end)
  spec.it("quorum 1 lets one vote act when nobody opposes", function()
    spec.eq(vote.decide({ result("b"), result("x"), result("x") }, { quorum = 1 }).action, "buy")
    spec.eq(vote.decide({ result("b"), result("s"), result("x") }, { quorum = 1 }).reason, "conflict")
  end)
  spec.it("min_confidence 0.9", function()
    spec.eq(vote.decide({ result("b", 0.85), result("b", 0.85) }, { min_confidence = 0.9 }).reason, "low_confidence")
  end)
  spec.it("misuse raises", function()
    spec.raises(function() vote.decide({}, { quorum = 0 }) end, "quorum")
    spec.raises(function() vote.decide({}, { quorum = 1.5 }) end, "quorum")
    spec.raises(function() vote.decide({}, { min_confidence = 2 }) end, "min_confidence")
    spec.raises(function() vote.decide(nil) end, "results")
  end)
end)

spec.finish("ai_vote_spec")

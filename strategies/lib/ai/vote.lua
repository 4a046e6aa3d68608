-- The vote that combines AI answers into one action. Pure; the full truth table is tested in
-- tests/lua/ai_vote_spec.lua. Abstentions never count as votes, and anything unclear is hold.
--
-- Default rule (vote.DEFAULT_RULE), applied to the results of ai.ask_all (one per configured
-- provider, abstaining or not):
--   1. No provider voted (all abstained, or none configured)      -> hold  "no_votes"
--   2. At least one buy AND at least one sell                       -> hold  "conflict"
--   3. Only holds                                                   -> hold  "all_hold"
--   4. Fewer than Q votes for the side, Q = min(rule.quorum, number of results)
--                                                                   -> hold  "no_quorum"
--   5. Mean confidence of the side's votes < rule.min_confidence    -> hold  "low_confidence"
--   6. Otherwise                                                    -> the side ("buy"/"sell") "agreed"
-- With the defaults (quorum 2, min_confidence 0.6): of three providers two must agree and
-- none may oppose; a single configured provider decides alone; holds do not block a side.
local vote = {}

vote.DEFAULT_RULE = { quorum = 2, min_confidence = 0.6 }

local function check_rule(rule)
  rule = rule or vote.DEFAULT_RULE
  assert(type(rule) == "table", "vote: rule must be a table")
  local quorum = rule.quorum == nil and vote.DEFAULT_RULE.quorum or rule.quorum
  local min_conf = rule.min_confidence == nil and vote.DEFAULT_RULE.min_confidence or rule.min_confidence
  assert(math.type(quorum) == "integer" and quorum >= 1, "vote: rule.quorum must be an integer >= 1")
  assert(type(min_conf) == "number" and min_conf >= 0 and min_conf <= 1,
    "vote: rule.min_confidence must be a number between 0 and 1")
  return quorum, min_conf
end

-- decide(results, rule) -> { action, confidence, reason, counts = {buy, sell, hold, abstain}, quorum }
function vote.decide(results, rule)
  local quorum, min_conf = check_rule(rule)
  assert(type(results) == "table", "vote: results must be a list")
  local counts = { buy = 0, sell = 0, hold = 0, abstain = 0 }
  local conf_sum = { buy = 0, sell = 0, hold = 0 }
  for _, r in ipairs(results) do
    local d = type(r) == "table" and r.decision or nil
    local action = type(d) == "table" and d.action or nil
    local conf = type(d) == "table" and d.confidence or nil
    if (action == "buy" or action == "sell" or action == "hold") and type(conf) == "number"
        and conf >= 0 and conf <= 1 then
      counts[action] = counts[action] + 1
      conf_sum[action] = conf_sum[action] + conf
    else
      counts.abstain = counts.abstain + 1
    end
  end
  local q = math.min(quorum, #results)
  local out = { action = "hold", confidence = 0, counts = counts, quorum = q }
  local voters = counts.buy + counts.sell + counts.hold
  if voters == 0 then out.reason = "no_votes"; return out end
  if counts.buy > 0 and counts.sell > 0 then out.reason = "conflict"; return out end
  local side = counts.buy > 0 and "buy" or (counts.sell > 0 and "sell" or nil)
  if not side then
    out.reason = "all_hold"
    out.confidence = conf_sum.hold / counts.hold
    return out
  end
  local mean = conf_sum[side] / counts[side]
  if counts[side] < q then out.reason = "no_quorum"; return out end
  if mean < min_conf then out.reason = "low_confidence"; return out end
  out.action, out.confidence, out.reason = side, mean, "agreed"
  return out
end

return vote

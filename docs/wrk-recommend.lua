-- wrk script for the serve load test: GET /recommend for a random user of 1..USERS (ML-100k has 943), one in
-- twenty of them a user the model never saw, k 10 or (one in five) 100. HISTORY=1 (a history model) also sends a
-- history of three random items with one request in four.
local users = tonumber(os.getenv("USERS") or "943")
local items = tonumber(os.getenv("ITEMS") or "1682")
local history = os.getenv("HISTORY") == "1"
math.randomseed(42)
request = function()
  local user = math.random(1, 20) == 1 and ("new-" .. math.random(1, 100000)) or tostring(math.random(1, users))
  local k = math.random(1, 5) == 1 and 100 or 10
  local path = "/recommend?user=" .. user .. "&k=" .. k
  if history and math.random(1, 4) == 1 then
    path = path .. "&history=" .. math.random(1, items) .. "," .. math.random(1, items) .. "," .. math.random(1, items)
  end
  return wrk.format("GET", path)
end

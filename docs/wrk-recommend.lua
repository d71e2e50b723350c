-- wrk script for the serve load test: GET /recommend for a random user of 1..USERS (ML-100k has 943), k=10.
local users = tonumber(os.getenv("USERS") or "943")
math.randomseed(42)
request = function()
  return wrk.format("GET", "/recommend?user=" .. math.random(1, users) .. "&k=10")
end

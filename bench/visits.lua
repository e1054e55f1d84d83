-- wrk script for `make bench`: visits that rotate addresses and readers' cookies, every
-- response checked for its page's own content.
--
-- bench/run.py writes the visits in front of this file as
--   visits = { {path, cookie or "", {texts it must contain}, text it must not or ""}, ... }
--   headers = { ["Name"] = "value", ... }
-- Each wrk thread holds one connection (run.py passes as many threads as connections), so a
-- response always answers the thread's last request: the check knows which page it is for.
-- A response that is not a 200, or lacks its page's text, or holds text its reader must not
-- get, is an error; done() prints the counts on one line that run.py reads.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  -- Threads start far apart in the rotation, so they do not visit the same page together.
  n = tonumber(id) * 7919
  checked, not_ok, wrong, hits = 0, 0, 0, 0
  for name, value in pairs(headers) do
    wrk.headers[name] = value
  end
end

function request()
  n = n + 1
  current = visits[(n % #visits) + 1]
  local sent = {}
  for name, value in pairs(wrk.headers) do
    sent[name] = value
  end
  if current[2] ~= "" then
    sent["Cookie"] = current[2]
  end
  return wrk.format("GET", current[1], sent)
end

function response(status, headers, body)
  checked = checked + 1
  if headers["X-Cache"] == "HIT" then
    hits = hits + 1  -- answered from nginx's micro-cache (make bench FRONT=1)
  end
  if status ~= 200 then
    not_ok = not_ok + 1
  else
    local ok = current[4] == "" or not string.find(body, current[4], 1, true)
    for _, text in ipairs(current[3]) do
      ok = ok and string.find(body, text, 1, true) ~= nil
    end
    if not ok then
      wrong = wrong + 1
    end
  end
end

function done(summary, latency, requests)
  local c, s, w, h = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("checked")
    s = s + thread:get("not_ok")
    w = w + thread:get("wrong")
    h = h + thread:get("hits")
  end
  io.write(string.format("checked %d not_200 %d wrong_content %d cache_hits %d\n", c, s, w, h))
end

-- wrk script: GET small ostree objects (.dirtree, .dirmeta, small .filez) picked
-- at random from a list of real object paths of the benchmark repository.
-- usage: wrk ... -s bench/small-objects.lua URL -- LISTFILE [SEED]
--   LISTFILE: one "<url path> <size>" per line (bench/out/<mode>/lists/small-objects.txt)
-- Keep-alive (wrk's default). At the end prints one line
--   BENCH-JSON {...}
-- with requests, bytes, errors and latency percentiles (microseconds).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

local reqs = {}
local n = 0

function init(args)
   local list = args[1]
   local seed = tonumber(args[2] or "1")
   math.randomseed(seed * 7919 + (id or 0))
   local host = wrk.headers["Host"] or (wrk.host .. ":" .. wrk.port)
   for line in io.lines(list) do
      local path = line:match("^(%S+)")
      if path then
         n = n + 1
         -- prebuilt request bytes: the Lua side costs next to nothing per request
         reqs[n] = "GET " .. path .. " HTTP/1.1\r\nHost: " .. host ..
                   "\r\nUser-Agent: wrk-bench\r\n\r\n"
      end
   end
   if n == 0 then error("no paths in " .. list) end
end

function request()
   return reqs[math.random(n)]
end

-- done(): the shared BENCH-JSON report line
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-report.lua")

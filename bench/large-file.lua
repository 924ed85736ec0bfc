-- wrk script: GET one large file, whole or by random Range requests.
-- usage: wrk ... -s bench/large-file.lua URL -- PATH SIZE RANGE_BYTES [SEED]
--   RANGE_BYTES = 0: plain GET of the whole file (200)
--   RANGE_BYTES > 0: "Range: bytes=A-B" of exactly RANGE_BYTES at a random
--                    offset (206), like a resumed or segmented download
-- At the end prints one line BENCH-JSON {...} (see small-objects.lua).

local counter = 0
function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
end

local path, size, rbytes, plain

function init(args)
   path = args[1]
   size = tonumber(args[2])
   rbytes = tonumber(args[3])
   math.randomseed(tonumber(args[4] or "1") * 7919 + (id or 0))
   wrk.headers["User-Agent"] = "wrk-bench"
   plain = wrk.format("GET", path)
end

function request()
   if rbytes == 0 then return plain end
   -- offsets in 4 KiB steps, as segmented downloaders use
   local first = math.random(0, math.floor((size - rbytes) / 4096)) * 4096
   return wrk.format("GET", path, { Range = string.format("bytes=%d-%d", first, first + rbytes - 1) })
end

-- done(): the shared BENCH-JSON report line
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-report.lua")

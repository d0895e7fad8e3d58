-- 3. Payload cost: syscall.sendEvent to itself (the payload is copied out of
-- the sender's Lua state and rebuilt in the target's) against
-- syscall.queueEvent of the same table (kept in the computer's own state, no
-- copy) and native os.queueEvent. Events go in bursts of 50 (send 50, pull
-- 50); per event, send and pull are also timed apart.

local send, queue, native_queue, pull = syscall.sendEvent, syscall.queueEvent, os.queueEvent, os.pullEvent
local me = os.getComputerID()
local BURST = 50

local fields = {}
for i = 1, 100 do
    if i % 2 == 0 then
        fields["field" .. i] = ("value number %d"):format(i)
    else
        fields["field" .. i] = i * 1.5
    end
end
local big = { s = string.rep("0123456789abcdef", 4096) } -- 64 KiB
assert(#big.s == 65536)

-- Time spent sending and pulling, accumulated over one timed run.
local split = { send = 0, pull = 0, n = 0 }

local function variant(put, name, params)
    return function(n)
        local done = 0
        while done < n do
            local k = math.min(BURST, n - done)
            local t0 = bench.now()
            for _ = 1, k do
                if put(name, params) == false then error("event refused", 0) end
            end
            local t1 = bench.now()
            for _ = 1, k do pull(name) end
            split.send = split.send + bench.since(t0, t1)
            split.pull = split.pull + bench.since(t1)
            split.n = split.n + k
            done = done + k
        end
    end
end

local function to_self(name, params) return send(me, name, params) end

local function case(label, params, with_scale)
    print(("payload: %s"):format(label))
    local splits = {}
    local vs = {
        { "sendEvent to self", variant(to_self, "remote_event", params) },
        { "syscall.queueEvent (no copy)", variant(queue, "bench", params) },
        { "os.queueEvent (no copy)", variant(native_queue, "bench", params) },
    }
    -- Wrap each variant to keep its own send/pull split.
    for _, v in ipairs(vs) do
        local fn, key = v[2], v[1]
        splits[key] = { send = 0, pull = 0, n = 0 }
        v[2] = function(n)
            split = splits[key]
            fn(n)
        end
    end
    local r = bench.compare(vs, { hint = BURST })
    for _, v in ipairs(vs) do
        local s = splits[v[1]]
        print(("    %-42s send %8.3f us + pull %8.3f us per event (all runs)"):format(
            v[1], s.send / s.n / 1e3, s.pull / s.n / 1e3))
    end
    -- For scale: what copying the same table costs in plain Lua (only for the
    -- many-field table; a string would only be copied by reference).
    if with_scale then
        local function lua_copy(t)
            local c = {}
            for k, v in pairs(t) do c[k] = v end
            return c
        end
        bench.compare({ { "for scale: copy in Lua (pairs loop)", function(n)
            for _ = 1, n do lua_copy(params) end
        end } })
    end
    bench.report("payload " .. label .. ", send + pull", "us/event",
        r["sendEvent to self"] / 1e3, r["syscall.queueEvent (no copy)"] / 1e3,
        "syscall.queueEvent")
    return r
end

bench.run(function()
    case("table of 100 string/number fields", fields, true)
    case("64 KiB string", big)
end)

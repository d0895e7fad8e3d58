-- Shared helpers of the benchmarks in lua/bench/. `ci/bench` runs each
-- benchmark as one script: this file, then the benchmark file (the host has
-- no `require`/`dofile`), so everything here is a global table `bench`.
--
-- Output protocol (parsed by ci/bench):
--   "BENCH|<metric>|<syscall>|<baseline>|<ratio>"  one summary row
--   anything else                                  detail lines, shown as is
-- The ratio is always syscall / baseline of the two figures shown.

bench = {}

local TWO53 = 2 ^ 53
local epoch = os.epoch

-- Wall clock in nanoseconds. The host's os.epoch("nano") is the Unix time in
-- ns masked to 53 bits (os.clock() only has ms resolution).
local function now()
    return epoch("nano")
end
bench.now = now

-- Nanoseconds from t0 to now (t1), across the 53-bit wrap.
local function since(t0, t1)
    local d = (t1 or now()) - t0
    if d < 0 then d = d + TWO53 end
    return d
end
bench.since = since

-- Settings (ci/bench may override them by defining BENCH_* globals first).
bench.window = BENCH_WINDOW or 0.2 -- seconds per timed run
bench.rounds = BENCH_ROUNDS or 5    -- timed runs per variant (median taken)

function bench.median(list)
    local s = {}
    for i = 1, #list do s[i] = list[i] end
    table.sort(s)
    local n = #s
    if n == 0 then return 0 / 0 end
    if n % 2 == 1 then return s[(n + 1) / 2] end
    return (s[n / 2] + s[n / 2 + 1]) / 2
end

-- Nearest-rank percentile, p in (0, 100].
function bench.percentile(list, p)
    local s = {}
    for i = 1, #list do s[i] = list[i] end
    table.sort(s)
    local k = math.max(1, math.ceil(p / 100 * #s))
    return s[k]
end

-- Runs fn(n) once and returns the ns it took.
local function timed(fn, n)
    collectgarbage("collect")
    local t0 = now()
    fn(n)
    return since(t0)
end

-- How many iterations of fn fill one window (fn(n) must do n operations).
local function calibrate(fn, hint)
    local n = hint or 16
    while true do
        local ns = timed(fn, n)
        if ns >= bench.window * 1e9 / 4 or n >= 2 ^ 24 then
            local per = ns / n
            return math.max(1, math.floor(bench.window * 1e9 / per))
        end
        n = n * 4
    end
end

-- Measures the variants (list of {name, fn}) interleaved, A B A B ..., so
-- that drift of the machine hits all of them alike. Returns, per variant
-- name, the median ns per operation over bench.rounds runs, and the list.
function bench.compare(variants, opts)
    opts = opts or {}
    local counts = {}
    for _, v in ipairs(variants) do
        counts[v[1]] = opts.iterations or calibrate(v[2], opts.hint)
    end
    local samples = {}
    for _, v in ipairs(variants) do samples[v[1]] = {} end
    for _ = 1, opts.rounds or bench.rounds do
        for _, v in ipairs(variants) do
            local n = counts[v[1]]
            table.insert(samples[v[1]], timed(v[2], n) / n)
        end
    end
    local result = {}
    for _, v in ipairs(variants) do
        local s = samples[v[1]]
        result[v[1]] = bench.median(s)
        local lo, hi = math.huge, 0
        for _, x in ipairs(s) do
            lo, hi = math.min(lo, x), math.max(hi, x)
        end
        print(("  %-44s %10.3f us/op  (min %.3f, max %.3f, %d ops x %d runs)"):format(
            v[1], result[v[1]] / 1e3, lo / 1e3, hi / 1e3, counts[v[1]], #s))
    end
    return result
end

local function fmt(x)
    if x ~= x then return "n/a" end
    local a = math.abs(x)
    if a >= 1e6 then return ("%.3g M"):format(x / 1e6) end
    if a >= 1e4 then return ("%.0f"):format(x) end
    if a >= 100 then return ("%.1f"):format(x) end
    if a >= 10 then return ("%.2f"):format(x) end
    return ("%.3f"):format(x)
end
bench.fmt = fmt

-- One summary row. `unit` is appended to the metric name.
function bench.report(metric, unit, syscall_value, baseline_value, baseline_name)
    local ratio = syscall_value / baseline_value
    local name = metric .. " (" .. unit .. ")"
    if baseline_name then name = name .. " [baseline: " .. baseline_name .. "]" end
    if BENCH_TAG then name = name .. " " .. BENCH_TAG end -- a variant of the same run
    print(("BENCH|%s|%s|%s|%s"):format(name, fmt(syscall_value), fmt(baseline_value),
        ratio == ratio and ("%.2fx"):format(ratio) or "n/a"))
end

-- VmRSS/VmHWM of this host process in kB, if /proc and io are available.
function bench.rss()
    if type(io) ~= "table" then return nil end
    local f = io.open("/proc/self/status", "r")
    if not f then return nil end
    local rss, hwm
    for line in f:lines() do
        rss = rss or tonumber(line:match("^VmRSS:%s*(%d+)"))
        hwm = hwm or tonumber(line:match("^VmHWM:%s*(%d+)"))
    end
    f:close()
    return rss, hwm
end

-- Runs main(), then powers off with 0 (or prints the error, calls
-- bench.cleanup if set, e.g. to stop the other computer, and exits 1).
function bench.run(main)
    local ok, err = pcall(main)
    if not ok then
        print("BENCH-ERROR " .. tostring(err))
        if bench.cleanup then pcall(bench.cleanup) end
        os.shutdown(1)
    end
    os.shutdown(0)
end

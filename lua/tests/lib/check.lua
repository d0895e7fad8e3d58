-- A tiny test library, prepended by the test runner to every program.
-- Each check prints `ok <name>` or `not ok <name>: <why>`; a program ends
-- with check.done(), which prints `done`. The runner fails a test on any
-- `not ok`, on a missing `done`, or on too few checks.
check = {}

local function show(value)
    if type(value) == "string" then return ("%q"):format(value) end
    return tostring(value)
end

function check.ok(condition, name, why)
    if condition then
        print("ok " .. name)
    else
        print("not ok " .. name .. ": " .. tostring(why or "condition is false"))
    end
    return condition
end

function check.eq(actual, expected, name)
    return check.ok(actual == expected, name,
        ("expected %s, got %s"):format(show(expected), show(actual)))
end

-- `fn(...)` must raise an error whose message ends with `suffix`.
function check.raises(suffix, name, fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then return check.ok(false, name, "no error raised") end
    err = tostring(err)
    return check.ok(err:sub(-#suffix) == suffix, name,
        ("error %s does not end with %s"):format(show(err), show(suffix)))
end

-- Events that a helper pulled but did not want, oldest first: check.await
-- looks here before pulling, so helpers never lose an event a test awaits.
local kept = {}

-- Pulls events until `accept(name, params)` is true or `seconds` pass.
-- Returns the accepted event, or nil on time-out (default 30 s: a guard for
-- a busy machine, not a schedule). Other events are kept.
function check.await(accept, seconds)
    for i, event in ipairs(kept) do
        if accept(table.unpack(event, 1, event.n)) then
            table.remove(kept, i)
            return table.unpack(event, 1, event.n)
        end
    end
    local timeout = os.startTimer(seconds or 30)
    while true do
        local event = table.pack(os.pullEventRaw())
        if event[1] == "timer" and event[2] == timeout then return nil end
        if accept(table.unpack(event, 1, event.n)) then
            os.cancelTimer(timeout)
            return table.unpack(event, 1, event.n)
        end
        kept[#kept + 1] = event
    end
end

-- Like sleep, but keeps the events that arrive meanwhile for check.await.
function check.sleep(seconds)
    local timer = os.startTimer(seconds)
    check.await(function(name, id) return name == "timer" and id == timer end, seconds + 5)
end

-- Waits for a remote event of `kind` (its `type`), returning its params.
function check.await_remote(kind, seconds)
    local _, params = check.await(function(name, params)
        return name == "remote_event" and type(params) == "table" and params.type == kind
    end, seconds)
    return params
end

-- Sends a remote event of `kind` to `pid` as soon as that process exists
-- (sendEvent returns true); false if it does not appear within `seconds`.
local function send_when_up(pid, kind, seconds)
    local deadline = os.clock() + (seconds or 30)
    while not syscall.sendEvent(pid, kind, {}) do
        if os.clock() > deadline then return false end
        check.sleep(0.02)
    end
    return true
end

-- Two computers meet: each sends one hello as soon as the other's process
-- exists, then waits for the other's hello.
function check.meet(other, seconds)
    return send_when_up(other, "__hello", seconds)
        and check.await_remote("__hello", seconds or 30) ~= nil
end

function check.done()
    print("done")
end

-- Waits until process `pid` exists (a sendEvent to it succeeds).
function check.wait_up(pid, seconds)
    return send_when_up(pid, "__up", seconds)
end

-- Additions for the event, timer and receiving tests -------------------------

-- Busy-waits `seconds` of os.clock() without yielding, so that whatever
-- arrives meanwhile waits in the queues (and is later handed over at once).
function check.busy(seconds)
    local stop = os.clock() + seconds
    while os.clock() < stop do end
end

-- The next event (any kind, packed with its value count `n`), or nil when
-- none arrives within `seconds`. Uses a native os.startTimer for the limit.
function check.next_event(seconds)
    local timeout = os.startTimer(seconds or 5)
    local event = table.pack(os.pullEventRaw())
    if event[1] == "timer" and event[2] == timeout then return nil end
    os.cancelTimer(timeout)
    return event
end

-- Every event that arrives within `seconds` (packed), in arrival order.
function check.collect(seconds)
    local events = {}
    local timeout = os.startTimer(seconds)
    while true do
        local event = table.pack(os.pullEventRaw())
        if event[1] == "timer" and event[2] == timeout then return events end
        events[#events + 1] = event
    end
end

-- The error message of `fn(...)`, or nil when it does not raise.
function check.error_of(fn, ...)
    local ok, err = pcall(fn, ...)
    if ok then return nil end
    return tostring(err)
end

-- `fn(...)` must raise an error containing every string of `parts`
-- (plain text, not patterns).
function check.raises_containing(parts, name, fn, ...)
    local err = check.error_of(fn, ...)
    if err == nil then return check.ok(false, name, "no error raised") end
    for _, part in ipairs(parts) do
        if not err:find(part, 1, true) then
            return check.ok(false, name, ("error %q does not mention %q"):format(err, part))
        end
    end
    return check.ok(true, name)
end

-- `fn(...)` must not raise.
function check.no_error(name, fn, ...)
    local err = check.error_of(fn, ...)
    return check.ok(err == nil, name, "raised " .. tostring(err))
end

-- A short description of an event for failure messages.
function check.show_event(event)
    if event == nil then return "no event" end
    local parts = {}
    for i = 1, event.n or #event do
        local v = event[i]
        if type(v) == "table" then
            local fields = {}
            for k, x in pairs(v) do
                if type(x) == "table" then x = "{...}" end
                fields[#fields + 1] = tostring(k) .. "=" .. tostring(x)
            end
            table.sort(fields)
            v = "{" .. table.concat(fields, ", ") .. "}"
        elseif type(v) == "string" then
            v = ("%q"):format(v)
        end
        parts[#parts + 1] = tostring(v)
    end
    return "(" .. table.concat(parts, ", ") .. ")"
end

-- A string with every byte outside printable ASCII escaped as \ddd.
function check.escape(s)
    if type(s) ~= "string" then return tostring(s) end
    return (s:gsub("[^\32-\126]", function(c) return ("\\%d"):format(c:byte()) end))
end

-- Waiting for a condition without yielding ----------------------------------

-- Computes without yielding until `condition()` holds, or `seconds` (a
-- generous guard, default 10) pass. Returns whether it held. For tests that
-- need something queued before the program next waits: wait for it to be
-- visible (peekEvent), never for a fixed time.
function check.busy_until(condition, seconds)
    local stop = os.clock() + (seconds or 10)
    while not condition() do
        if os.clock() > stop then return false end
    end
    return true
end

-- Busy until timer `id` expired and its event is the next one waiting.
function check.until_expired(id)
    return check.ok(check.busy_until(function()
        local name, params = syscall.peekEvent()
        return name == "timer" and type(params) == "table" and params.id == id
    end), "timer " .. tostring(id) .. " expired and waits")
end

-- Busy until the next syscall event waiting is named `name` and, for a
-- remote event, of type `kind`.
function check.until_next(name, kind)
    return check.ok(check.busy_until(function()
        local got, params = syscall.peekEvent()
        return got == name and (kind == nil or (type(params) == "table" and params.type == kind))
    end), "a " .. name .. (kind and (" " .. kind) or "") .. " event waits")
end

-- Busy, without yielding, until the one timer or alarm this computer has
-- pending has fired (its event then waits behind whatever was queued
-- before). A fired timer no longer counts against the limit of pending
-- timers (4096): fill the limit with long timers, then probe for the slot
-- it frees. The fillers are cancelled again.
function check.until_fired(seconds)
    local limit = 4096
    local fillers = {}
    while #fillers < limit do
        local ok, id = pcall(syscall.timer, 3600)
        if not ok then break end
        fillers[#fillers + 1] = id
    end
    local fired = #fillers == limit or check.busy_until(function()
        local ok, id = pcall(syscall.timer, 3600)
        if ok then fillers[#fillers + 1] = id end
        return ok
    end, seconds)
    for _, id in ipairs(fillers) do syscall.cancel(id) end
    return check.ok(fired, "the pending timer fired")
end

-- Mini BIOS of the craftos-host test emulator.
--
-- Written for this project: it provides the small part of the CraftOS
-- environment that programs under test rely on (event pulling, sleep,
-- parallel, output), with CraftOS semantics, then runs the computer's
-- program like a startup script. The host's natives (os.*, term.write) are
-- installed before the plugins' openers run; everything here runs after.

local nativeShutdown = os.shutdown
local nativeReboot = os.reboot
local nativeWrite = term.write

-- Events ---------------------------------------------------------------------

-- `coroutine.yield` is looked up at call time: a plugin may wrap it.
function os.pullEventRaw(filter)
    return coroutine.yield(filter)
end

function os.pullEvent(filter)
    local event = table.pack(os.pullEventRaw(filter))
    if event[1] == "terminate" then
        error("Terminated", 0)
    end
    return table.unpack(event, 1, event.n)
end

function sleep(time)
    if time ~= nil and type(time) ~= "number" then
        error("bad argument #1 to 'sleep' (number expected, got " .. type(time) .. ")", 2)
    end
    local timer = os.startTimer(time or 0)
    repeat
        local _, id = os.pullEvent("timer")
    until id == timer
end
os.sleep = sleep

function os.shutdown(...)
    nativeShutdown(...)
    while true do
        coroutine.yield()
    end
end

function os.reboot()
    nativeReboot()
    while true do
        coroutine.yield()
    end
end

function os.version()
    return "CraftOS 1.9"
end

-- Output -----------------------------------------------------------------------

local termApi = term
function term.native()
    return termApi
end
term.current = term.native
function term.getSize() return 51, 19 end
function term.isColor() return false end
term.isColour = term.isColor
function term.setCursorPos() end
function term.getCursorPos() return 1, 1 end
function term.setCursorBlink() end
function term.clear() end
function term.clearLine() end
function term.scroll() end
function term.setTextColor() end
term.setTextColour = term.setTextColor
function term.setBackgroundColor() end
term.setBackgroundColour = term.setBackgroundColor
function term.getTextColor() return 1 end
term.getTextColour = term.getTextColor
function term.getBackgroundColor() return 32768 end
term.getBackgroundColour = term.getBackgroundColor

function write(text)
    text = tostring(text)
    nativeWrite(text)
    local lines = 0
    for _ in string.gmatch(text, "\n") do
        lines = lines + 1
    end
    return lines
end

function print(...)
    local parts = {}
    for i = 1, select("#", ...) do
        parts[i] = tostring((select(i, ...)))
    end
    return write(table.concat(parts, "\t") .. "\n")
end

function printError(...)
    return print(...)
end

-- parallel ---------------------------------------------------------------------

local function runRoutines(functions, limit)
    local routines, filters = {}, {}
    local count = #functions
    for i = 1, count do
        local f = functions[i]
        if type(f) ~= "function" then
            error("bad argument #" .. i .. " (function expected, got " .. type(f) .. ")", 3)
        end
        routines[i] = coroutine.create(f)
    end
    local living = count
    local event = { n = 0 }
    while true do
        for i = 1, count do
            local r = routines[i]
            if r and (filters[r] == nil or filters[r] == event[1] or event[1] == "terminate") then
                local ok, param = coroutine.resume(r, table.unpack(event, 1, event.n))
                if not ok then
                    error(param, 0)
                end
                filters[r] = param
                if coroutine.status(r) == "dead" then
                    routines[i] = nil
                    living = living - 1
                    if living <= limit then
                        return i
                    end
                end
            end
        end
        event = table.pack(os.pullEventRaw())
    end
end

parallel = {}

function parallel.waitForAny(...)
    return runRoutines(table.pack(...), (select("#", ...)) - 1)
end

function parallel.waitForAll(...)
    runRoutines(table.pack(...), 0)
end

-- textutils --------------------------------------------------------------------

textutils = {}

local function serializeValue(value, indent, seen)
    local t = type(value)
    if t == "string" then
        return string.format("%q", value)
    elseif t == "number" or t == "boolean" or t == "nil" then
        return tostring(value)
    elseif t == "table" then
        if seen[value] then
            error("Cannot serialize table with recursive entries", 0)
        end
        seen[value] = true
        if next(value) == nil then
            seen[value] = nil
            return "{}"
        end
        local inner = indent .. "  "
        local out = { "{\n" }
        local done = {}
        for i, v in ipairs(value) do
            done[i] = true
            out[#out + 1] = inner .. serializeValue(v, inner, seen) .. ",\n"
        end
        for k, v in pairs(value) do
            if not done[k] then
                local key
                if type(k) == "string" and k:match("^[%a_][%w_]*$") then
                    key = k .. " = "
                else
                    key = "[ " .. serializeValue(k, inner, seen) .. " ] = "
                end
                out[#out + 1] = inner .. key .. serializeValue(v, inner, seen) .. ",\n"
            end
        end
        out[#out + 1] = indent .. "}"
        seen[value] = nil
        return table.concat(out)
    end
    error("Cannot serialize type " .. t, 0)
end

function textutils.serialize(value)
    return serializeValue(value, "", {})
end
textutils.serialise = textutils.serialize

-- The program --------------------------------------------------------------------

local program = _CCPC_STARTUP_SCRIPT
_CCPC_STARTUP_SCRIPT = nil
if type(program) == "string" and program ~= "" then
    local fn, err = load(program, "@startup.lua", "t", _G)
    if not fn then
        printError(err)
    else
        local ok, perr = pcall(fn)
        if not ok then
            printError(perr)
        end
    end
end

-- Like the shell at its prompt: stay on, handling events, until shut down.
while true do
    os.pullEventRaw()
end

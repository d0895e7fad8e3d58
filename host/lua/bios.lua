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

-- fs and require ------------------------------------------------------------------
-- A read-only file system made of what plugins mounted (addVirtualMount),
-- with CraftOS's `fs` functions and a CraftOS-style `require` over it.

local vfs = _HOST_VFS
_HOST_VFS = nil

local function checkString(fname, index, value)
    if type(value) ~= "string" then
        error(("bad argument #%d to '%s' (string expected, got %s)"):format(index, fname, type(value)), 3)
    end
end

local function components(path)
    local parts = {}
    for part in path:gmatch("[^/\\]+") do
        if part == ".." then
            if #parts == 0 then error("/" .. path .. ": Invalid Path", 3) end
            parts[#parts] = nil
        elseif not part:match("^%.+$") then
            parts[#parts + 1] = part
        end
    end
    return parts
end

fs = {}

function fs.combine(...)
    local parts = {}
    for i = 1, select("#", ...) do
        local part = select(i, ...)
        checkString("combine", i, part)
        parts[#parts + 1] = part
    end
    return table.concat(components(table.concat(parts, "/")), "/")
end

function fs.getName(path)
    checkString("getName", 1, path)
    local parts = components(path)
    return parts[#parts] or "root"
end

function fs.getDir(path)
    checkString("getDir", 1, path)
    local parts = components(path)
    if #parts == 0 then return ".." end
    parts[#parts] = nil
    return table.concat(parts, "/")
end

function fs.exists(path)
    checkString("exists", 1, path)
    return #components(path) == 0 or vfs.stat(path) ~= nil
end

function fs.isDir(path)
    checkString("isDir", 1, path)
    return #components(path) == 0 or vfs.stat(path) == "dir"
end

function fs.isReadOnly(path)
    checkString("isReadOnly", 1, path)
    return true
end

function fs.list(path)
    checkString("list", 1, path)
    local names = vfs.list(path)
    if names == nil then
        if #components(path) == 0 then return {} end
        error("/" .. fs.combine(path) .. ": Not a directory", 2)
    end
    return names
end

-- A read handle over `contents` (text: "r", binary: "rb").
local function readHandle(contents, binary)
    local position, closed = 1, false
    local handle = {}
    local function open(fname)
        if closed then error("attempt to use a closed file", 3) end
    end
    function handle.readAll()
        open("readAll")
        local rest = contents:sub(position)
        position = #contents + 1
        return rest
    end
    function handle.readLine(withTrailing)
        open("readLine")
        if position > #contents then return nil end
        local line, stop = contents:match("^([^\n]*)\n?()", position)
        local text = withTrailing and contents:sub(position, stop - 1) or line
        position = stop
        return text
    end
    function handle.read(count)
        open("read")
        if count ~= nil and type(count) ~= "number" then
            error("bad argument #1 to 'read' (number expected, got " .. type(count) .. ")", 2)
        end
        if position > #contents then return nil end
        if count == nil and binary then
            position = position + 1
            return contents:byte(position - 1)
        end
        local text = contents:sub(position, position + (count or 1) - 1)
        position = position + #text
        return text
    end
    function handle.close()
        open("close")
        closed = true
    end
    return handle
end

function fs.open(path, mode)
    checkString("open", 1, path)
    checkString("open", 2, mode)
    local full = "/" .. fs.combine(path)
    if mode ~= "r" and mode ~= "rb" then
        if mode:match("^[wa]b?$") then return nil, full .. ": Access denied" end
        error("Unsupported mode", 2)
    end
    local kind, contents = vfs.stat(path)
    if kind == "dir" then return nil, full .. ": No such file" end
    if kind ~= "file" then return nil, full .. ": No such file" end
    return readHandle(contents, mode == "rb")
end

-- `require` as CraftOS's shell gives every program: package.path searched
-- through fs, package.preload first, results cached in package.loaded.
local stdlibs = { "_G", "bit32", "coroutine", "math", "string", "table" }
local loaded = {}
for _, name in ipairs(stdlibs) do loaded[name] = _G[name] end
package = {
    loaded = loaded,
    preload = {},
    config = "/\n;\n?\n!\n-",
    path = "?;?.lua;?/init.lua;/rom/modules/main/?;/rom/modules/main/?.lua;/rom/modules/main/?/init.lua",
}
loaded.package = package

local function fromPath(name)
    local fileName = name:gsub("%.", "/")
    local tried = {}
    for pattern in package.path:gmatch("[^;]+") do
        local candidate = pattern:gsub("%?", fileName)
        if fs.exists(candidate) and not fs.isDir(candidate) then
            local handle = fs.open(candidate, "r")
            local source = handle.readAll()
            handle.close()
            local fn, err = load(source, "@/" .. fs.combine(candidate), "t", _G)
            if not fn then error(err, 0) end
            return fn, candidate
        end
        tried[#tried + 1] = "  no file '" .. candidate .. "'"
    end
    return nil, table.concat(tried, "\n")
end

local loading = {}
function require(name)
    checkString("require", 1, name)
    if loaded[name] == loading then
        error("loop or previous error loading module '" .. name .. "'", 2)
    end
    if loaded[name] ~= nil then return loaded[name] end
    local loader, where = package.preload[name], ":preload:"
    if loader == nil then
        local fn, found = fromPath(name)
        if fn == nil then
            error("module '" .. name .. "' not found:\n  no field package.preload['" .. name .. "']\n"
                .. found, 2)
        end
        loader, where = fn, found
    end
    loaded[name] = loading
    local ok, result = pcall(loader, name, where)
    if not ok then
        loaded[name] = nil
        error(result, 0)
    end
    if result == nil then result = true end
    loaded[name] = result
    return result
end

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

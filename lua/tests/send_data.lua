-- sendEvent's data: nil, booleans, numbers, strings and tables to any depth,
-- copied with their shape into the other computer's Lua state.
local me = syscall.getpid()
local other = 1 - me
check.ok(check.meet(other), "both computers are up")

if me == 1 then
    -- Build the values here and send them to computer 0.
    local shared = { tag = "shared" }
    local cycle = { name = "cycle" }
    cycle.self = cycle
    local a, b = { name = "a" }, { name = "b" }
    a.b, b.a = b, a
    local deep = {}
    local node = deep
    for i = 1, 5000 do node.next = { depth = i }; node = node.next end
    local bytes = {}
    for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
    local key_table = { key = true }
    local with_mt = setmetatable({ real = 1 }, { __index = { ghost = 2 }, __metatable = "locked" })
    local values = {
        t_true = true, t_false = false,
        int = 3, float = 3.5, big = 2 ^ 53, negzero = -0.0, inf = 1 / 0, neginf = -1 / 0,
        nan = 0 / 0, minint = -2 ^ 63, tiny = 5e-324, third = 1 / 3,
        bytes = table.concat(bytes), zeros = "a\0b\0\0c\0", empty = "",
        two = { shared, shared }, refs = { x = shared, y = { z = shared } },
        cycle = cycle, pair = a,
        deep = deep,
        keys = { [key_table] = "table key", [true] = "true key", [false] = "false key",
            [1.5] = "float key", [-7] = "negative key", [2 ^ 53] = "big key", ["\0k"] = "binary key" },
        key_table = key_table,
        with_mt = with_mt,
        array = { 10, 20, nil, 40 },
    }
    syscall.sendEvent(0, "values", values)
    -- Scalars as the whole payload.
    syscall.sendEvent(0, "scalar", 42)
    syscall.sendEvent(0, "scalar", 0.25)
    syscall.sendEvent(0, "scalar", "just a string")
    syscall.sendEvent(0, "scalar", false)
    syscall.sendEvent(0, "scalar", true)
    syscall.sendEvent(0, "scalar", -0.0)
    syscall.sendEvent(0, "scalar", 0 / 0)
    syscall.sendEvent(0, "scalar", setmetatable({ 1 }, { __index = function() return "meta" end }))
    check.await_remote("thanks", 30)
    check.done()
    return
end

local v = check.await_remote("values", 30)
check.ok(v ~= nil and v.sender == 1 and type(v.data) == "table", "a table payload arrives")
local d = v.data
check.ok(d.t_true == true and d.t_false == false, "booleans keep their values")
check.ok(d.int == 3 and d.float == 3.5, "3 and 3.5 keep their values")
check.ok(d.int == math.floor(d.int) and tostring(d.int) == "3", "an integer stays an integer")
check.ok(d.float ~= math.floor(d.float) and tostring(d.float) == "3.5", "a float stays a float")
check.eq(d.big, 2 ^ 53, "2^53 keeps its value")
check.ok(d.negzero == 0 and 1 / d.negzero == -math.huge, "-0.0 keeps its sign", tostring(d.negzero))
check.ok(d.inf == math.huge and d.neginf == -math.huge, "1/0 and -1/0 keep their values")
check.ok(type(d.nan) == "number" and d.nan ~= d.nan, "NaN arrives as NaN", tostring(d.nan))
check.eq(d.minint, -2 ^ 63, "-2^63 keeps its value")
check.eq(d.tiny, 5e-324, "the smallest subnormal keeps its value")
check.eq(d.third, 1 / 3, "1/3 keeps every bit")
local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
check.ok(d.bytes == table.concat(bytes) and #d.bytes == 256, "a string of all 256 byte values arrives intact")
check.ok(d.zeros == "a\0b\0\0c\0" and #d.zeros == 7, "embedded zero bytes arrive intact")
check.eq(d.empty, "", "the empty string arrives")
check.ok(type(d.two) == "table" and type(d.two[1]) == "table" and d.two[1] == d.two[2]
    and d.two[1].tag == "shared", "a table referenced twice arrives as one table referenced twice")
check.ok(d.refs.x == d.refs.y.z and d.refs.x == d.two[1],
    "a table shared across the whole payload stays one table")
check.ok(d.cycle.self == d.cycle and d.cycle.name == "cycle", "a one-table cycle stays a cycle")
check.ok(d.pair.b.a == d.pair and d.pair.b.name == "b", "a two-table cycle stays a cycle")
local node, depth = d.deep, 0
while node.next do node = node.next; depth = depth + 1 end
check.ok(depth == 5000 and node.depth == 5000, "a table nested 5000 deep arrives whole", depth)
local k = d.keys
local tkey, tval
for key, value in pairs(k) do
    if type(key) == "table" then tkey, tval = key, value end
end
check.ok(tkey ~= nil and tval == "table key" and tkey.key == true, "a table key arrives as a table key")
check.ok(tkey == d.key_table, "a table used as key and value stays one table")
check.ok(k[true] == "true key" and k[false] == "false key", "boolean keys arrive")
check.ok(k[1.5] == "float key" and k[-7] == "negative key" and k[2 ^ 53] == "big key",
    "number keys (float, negative, 2^53) arrive")
check.eq(k["\0k"], "binary key", "a binary string key arrives")
check.ok(getmetatable(d.with_mt) == nil, "a metatable does not travel")
check.ok(d.with_mt.real == 1 and rawget(d.with_mt, "ghost") == nil and d.with_mt.ghost == nil,
    "only the table's own contents travel, not what __index would give")
check.ok(d.array[1] == 10 and d.array[2] == 20 and d.array[3] == nil and d.array[4] == 40,
    "an array with a hole arrives with its hole")

local scalars = {}
for i = 1, 8 do
    local s = check.await_remote("scalar", 30)
    scalars[i] = s and s.data
end
check.eq(scalars[1], 42, "a number alone is a payload")
check.eq(scalars[2], 0.25, "a float alone is a payload")
check.eq(scalars[3], "just a string", "a string alone is a payload")
check.eq(scalars[4], false, "false alone is a payload")
check.eq(scalars[5], true, "true alone is a payload")
check.ok(scalars[6] == 0 and 1 / scalars[6] == -math.huge, "-0.0 alone keeps its sign")
check.ok(scalars[7] ~= scalars[7], "NaN alone arrives as NaN")
check.ok(type(scalars[8]) == "table" and getmetatable(scalars[8]) == nil and scalars[8][1] == 1
    and scalars[8].missing == nil, "a table with a metatable arrives without it")
syscall.sendEvent(other, "thanks", {})
check.done()

---@meta syscall
-- LuaLS declarations for the global `syscall` table that the phoenix-events
-- plugin gives every CraftOS-PC computer. Not run: point your editor's Lua
-- language server at this folder (see docs/src/guide/editor.md).

---Parameters of a `remote_event` (from `syscall.sendEvent`).
---@class RemoteEventParams
---@field sender integer pid of the sender: its computer ID, or node * 2^32 + ID for a computer of another emulator (cluster mode)
---@field type string the event name the sender gave
---@field data any a copy of the sender's params (nil, booleans, numbers, strings, tables)

---Parameters of a `signal` event (a signal without a handler).
---@class SignalEventParams
---@field signal integer the signal number

---Parameters of a `timer` event from `syscall.timer`. (Native `os.startTimer`
---events are also called `timer`, with a plain number instead.)
---@class TimerEventParams
---@field id integer the ID `syscall.timer` returned

---Parameters of an `alarm` event from `syscall.alarm`. (Native
---`os.setAlarm` events are also called `alarm`, with a plain number.)
---@class AlarmEventParams
---@field id integer the ID `syscall.alarm` returned (bit 31 set)

---A signal handler: runs on this computer with the signal number.
---@alias SignalHandler fun(signal: integer)

---The Phoenix event syscalls of this computer.
---@class syscall
syscall = {}

---This computer's pid (its computer ID, in cluster mode too).
---@return integer pid
function syscall.getpid() end

---This computer's user name (from the emulator's config/phoenix-events.json).
---@return string user
function syscall.getuser() end

---Sends `signal` to process `pid`. 9 (SIGKILL) shuts the target down; other
---signals run the target's handler or arrive as a `signal` event.
---Errors: `No such process`, `Permission denied`.
---@param pid integer a computer ID, or node * 2^32 + ID (cluster mode)
---@param signal integer 0 to 2^31 - 1
function syscall.kill(pid, signal) end

---Installs `handler` for `signal` (replacing a default action); `nil`
---removes it, so the signal arrives as a `signal` event.
---@param signal integer
---@param handler SignalHandler|nil
function syscall.signal(signal, handler) end

---Queues `name, params` for this computer itself. Raises `Queue full`.
---@param name string
---@param params table
function syscall.queueEvent(name, params) end

---The next event of these syscalls not yet received, as a copy; nil if none.
---@return string|nil name
---@return table|nil params
function syscall.peekEvent() end

---Queues `"remote_event", {sender = <my pid>, type = name, data = params}`
---for `pid`. False when there is no such process, its queue is full or the
---payload is too large.
---@param pid integer
---@param name string
---@param params any plain data: nil, booleans, numbers, strings, tables of these
---@return boolean sent
function syscall.sendEvent(pid, name, params) end

---Queues `"timer", {id = id}` after `timeout` seconds.
---@param timeout number seconds (finite; 0 or less: as soon as possible)
---@return integer id positive, below 2^31
function syscall.timer(timeout) end

---Queues `"alarm", {id = id}` when the in-game clock (`os.time()`) next
---reaches `time`. Raises `Number out of range` outside 0 <= time < 24.
---@param time number
---@return integer id with bit 31 set
function syscall.alarm(time) end

---Cancels a pending timer or alarm of this computer; its event is never
---received afterwards. Unknown IDs are ignored.
---@param id integer
function syscall.cancel(id) end

---Makes this process the owner of service `name`. False if a live process
---(this one included) already owns it. Released when this computer shuts
---down, reboots or is killed.
---@param name string
---@return boolean registered
function syscall.register(name) end

---The pid of the live owner of service `name`, or nil (in cluster mode, node * 2^32 + ID for an owner on another emulator).
---@param name string
---@return integer|nil pid
function syscall.lookup(name) end

---What `getpinfo` tells of a process.
---@class ProcessInfo
---@field id integer its pid (computer ID)
---@field user string its user
---@field state "running"|"stopped" stopped by SIGSTOP, SIGTTIN or SIGTTOU until SIGCONT
---@field events integer events and signals queued for it, not received yet
---@field timers integer its pending timers and alarms
---@field services string[] the service names it owns, sorted

---The pid of every process (running computer), ascending.
---@return integer[] pids
function syscall.getplist() end

---What this process may see of process `pid`: everything for a process it
---may signal (same user, or it is root); otherwise `nil, "Permission
---denied"`; `nil, "No such process"` when there is none. Does not throw.
---@param pid integer
---@return ProcessInfo|nil info
---@return string|nil error
function syscall.getpinfo(pid) end

return syscall

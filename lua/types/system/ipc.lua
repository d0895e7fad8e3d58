---@meta system.ipc
-- LuaLS declarations for `require "system.ipc"` (Phoenix's libsystem IPC
-- module, mounted by the phoenix-events plugin on every computer).

---@class system.ipc
local ipc = {}

---Signal numbers, as in Phoenix.
---@class system.ipc.signals
---@field SIGHUP 1
---@field SIGINT 2
---@field SIGQUIT 3
---@field SIGTRAP 5
---@field SIGABRT 6
---@field SIGKILL 9
---@field SIGPIPE 13
---@field SIGTERM 15
---@field SIGCONT 18
---@field SIGSTOP 19
---@field SIGTTIN 21
---@field SIGTTOU 22
ipc.signal = {}

---Sends a signal to a process (see `syscall.kill`).
---Errors: `No such process`, `Permission denied`.
---@param pid integer
---@param signal integer
function ipc.kill(pid, signal) end

---Sets (or, with nil, removes) the handler for a signal.
---@param signal integer
---@param fn fun(signal: integer)|nil
function ipc.sigaction(signal, fn) end

---Sends a remote event to a process; false if it was not queued.
---@param pid integer
---@param event string
---@param param table
---@return boolean sent
function ipc.sendEvent(pid, event, param) end

---Registers this process as the owner of a service name.
---@param name string
---@return boolean registered false if a live process already owns it
function ipc.register(name) end

---The pid of the process that owns a service name, or nil.
---@param name string
---@return integer|nil pid
function ipc.lookup(name) end

---Sends an event to the owner of a service; false if nobody owns it (or it
---was not queued).
---@param name string
---@param event string
---@param param table
---@return boolean sent
function ipc.sendServiceEvent(name, event, param) end

---Waits for a remote event from `pid` (any if nil) named `event` (any if
---nil). Returns its type and data, or nil after `timeout` seconds. Other
---events are discarded meanwhile; `terminate` raises `Terminated`.
---@param pid? integer
---@param event? string
---@param timeout? number seconds; nil or math.huge: no limit
---@return string|nil event
---@return any data
function ipc.receiveEvent(pid, event, timeout) end

---A named channel to one other process, over remote events
---(`libsystem.socket_message.<name>` with `{data = ...}`).
---@class system.ipc.socket
---@field pid integer the process at the other end
---@field name string the socket's name
---@field closed boolean|nil
local socket = {}

---"open" or "closed".
---@return "open"|"closed"
function socket:status() end

---Closes the socket: it then reads nil and writes nothing.
function socket:close() end

---Waits for the next message(s) from the other end, one per format:
---nil/"a"/"*a" the data as sent, "l"/"L" its first line without/with the
---newline, "n" a number, a count: the first characters.
---@param fmt? "a"|"*a"|"l"|"*l"|"L"|"*L"|"n"|"*n"|integer
---@param ... "a"|"*a"|"l"|"*l"|"L"|"*L"|"n"|"*n"|integer
---@return any ...
function socket:read(fmt, ...) end

---Sends each value as one message.
---@param obj any
---@param ... any
function socket:write(obj, ...) end

---Connects to process `pid` on socket `name`, or (without `pid`) waits for
---a process to connect (`libsystem.socket_connect.<name>` with `{pid = ...}`).
---@param name string the same on both ends
---@param pid? integer
---@return system.ipc.socket
function ipc.socket(name, pid) end

return ipc

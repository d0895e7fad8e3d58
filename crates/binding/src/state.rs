//! What the binding keeps per computer incarnation, as mlua app data of that
//! computer's Lua state (so it is freed when the state closes).

use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;
use std::rc::Rc;
use std::sync::Arc;

use mlua::{Function, Lua, Table};

use super::fast::Fast;
use phoenix_events_core::kernel::Kernel;
use phoenix_events_core::queue::TimerId;
use phoenix_events_core::signals::default_action;
use phoenix_events_core::Ticket;

/// How a signal is handled right now.
pub enum Disposition {
    Handler(Function),
    Default(phoenix_events_core::signals::DefaultAction),
    /// No handler: the signal arrives as a `signal` event.
    Event,
}

/// An event handed to the emulator but not yet received by the program.
pub struct Handed {
    pub name: Vec<u8>,
    pub params: Table,
    pub timer: Option<TimerId>,
    /// A `queueEvent`/`sendEvent` event, counted against the queue limit
    /// until received.
    pub data: bool,
    pub cancelled: bool,
}

pub struct ProcessState {
    pub kernel: Arc<Kernel>,
    pub ticket: Ticket,
    /// `signal()` replacements: `Some` a handler, `None` removed.
    handlers: HashMap<i32, Option<Function>>,
    /// Oldest first, exactly as the emulator queued them. Its length is
    /// mirrored in `fast.handed`.
    pub handed: VecDeque<Handed>,
    pub fast: Rc<Fast>,
    /// Parameter tables of `queueEvent` events still in the kernel queue.
    locals: HashMap<u64, Table>,
    next_local: u64,
    /// Lua helpers from the prelude.
    pub run_handler: Function,
    pub show_error: Function,
    /// The computer's own `os.time`, captured before any program runs.
    pub os_time: Option<Function>,
}

impl ProcessState {
    pub fn new(
        kernel: Arc<Kernel>,
        ticket: Ticket,
        run_handler: Function,
        show_error: Function,
        os_time: Option<Function>,
        fast: Rc<Fast>,
    ) -> ProcessState {
        ProcessState {
            kernel,
            ticket,
            handlers: HashMap::new(),
            handed: VecDeque::new(),
            fast,
            locals: HashMap::new(),
            next_local: 0,
            run_handler,
            show_error,
            os_time,
        }
    }

    pub fn set_handler(&mut self, signal: i32, handler: Option<Function>) {
        self.handlers.insert(signal, handler);
    }

    pub fn disposition(&self, signal: i32) -> Disposition {
        match self.handlers.get(&signal) {
            Some(Some(handler)) => Disposition::Handler(handler.clone()),
            Some(None) => Disposition::Event,
            None => default_action(signal).map_or(Disposition::Event, Disposition::Default),
        }
    }

    /// Whether signal `n` would arrive as an event if delivered now.
    pub fn becomes_event(&self, signal: i32) -> bool {
        matches!(self.disposition(signal), Disposition::Event)
    }

    pub fn keep_local(&mut self, params: Table) -> u64 {
        self.next_local += 1;
        self.locals.insert(self.next_local, params);
        self.next_local
    }

    pub fn take_local(&mut self, handle: u64) -> Option<Table> {
        self.locals.remove(&handle)
    }

    pub fn local(&self, handle: u64) -> Option<&Table> {
        self.locals.get(&handle)
    }

    /// Marks every handed event of timer `id` so the program never sees it.
    pub fn cancel_handed(&mut self, id: TimerId) {
        for event in self.handed.iter_mut().filter(|e| e.timer == Some(id)) {
            event.cancelled = true;
        }
    }

    /// An event was handed to the emulator.
    pub fn hand(&mut self, event: Handed) {
        self.handed.push_back(event);
        self.fast.handed.set(self.handed.len());
    }

    /// The program received the table at `params`: it and everything handed
    /// before it are gone. Returns whether the program may see it (false
    /// when it was cancelled) and how many data events left the handed
    /// list, or `None` when it is not one of ours.
    pub fn receive(&mut self, params: *const c_void) -> Option<(bool, usize)> {
        let position = self
            .handed
            .iter()
            .position(|e| e.params.to_pointer() == params)?;
        let (mut visible, mut data) = (true, 0);
        for event in self.handed.drain(..=position) {
            data += usize::from(event.data);
            visible = !event.cancelled; // the last one is the one received
        }
        self.fast.handed.set(self.handed.len());
        // Everything handed over before it has left the emulator's queue,
        // those counted as received at hand-over too (`Fast::unsure`).
        self.fast.unsure.set(false);
        Some((visible, data))
    }

    #[cfg(wait_in_lua)]
    /// An untracked wait: every handed event counts as received now (see
    /// `fast/lua_wait.rs`). Returns how many were data events.
    pub fn settle(&mut self) -> usize {
        if self.handed.is_empty() {
            return 0;
        }
        self.fast.unsure.set(true);
        let data = self.handed.drain(..).filter(|e| e.data).count();
        self.fast.handed.set(0);
        data
    }
}

/// Runs `f` on the computer's state. `f` must not call into Lua (a handler
/// could re-enter and find the state borrowed).
pub fn with_state<R>(lua: &Lua, f: impl FnOnce(&mut ProcessState) -> R) -> mlua::Result<R> {
    let mut state = lua
        .app_data_mut::<ProcessState>()
        .ok_or_else(|| mlua::Error::runtime("syscall is not set up on this computer"))?;
    Ok(f(&mut state))
}

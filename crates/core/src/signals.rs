//! Signal numbers and the built-in default actions of the contract.

/// Signal 0: `kill` only checks that the target exists and may be signalled.
pub const CHECK_ONLY: i32 = 0;
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGQUIT: i32 = 3;
pub const SIGABRT: i32 = 6;
pub const SIGKILL: i32 = 9;
pub const SIGPIPE: i32 = 13;
pub const SIGTERM: i32 = 15;
pub const SIGCONT: i32 = 18;
pub const SIGSTOP: i32 = 19;
pub const SIGTTIN: i32 = 21;
pub const SIGTTOU: i32 = 22;

/// A signal number from Lua: an integer from 0 to 2^31 - 1. Negative,
/// fractional, NaN or infinite numbers are not signals.
pub fn from_number(number: f64) -> Option<i32> {
    (number.fract() == 0.0 && (0.0..=f64::from(i32::MAX)).contains(&number))
        .then_some(number as i32)
}

/// What a signal does on a computer when no handler replaced its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// The computer shuts down.
    Terminate,
    /// A CraftOS `terminate` event is delivered, as Ctrl+T does.
    Interrupt,
    /// A message is printed on the computer, then it shuts down.
    Quit,
    /// The abort message is printed on the computer, then it shuts down.
    Abort,
    /// The computer receives no events until SIGCONT or SIGKILL.
    Stop,
}

/// The default action of `signal`, or `None` when it has no default handler
/// (it then arrives as a `signal` event).
pub fn default_action(signal: i32) -> Option<DefaultAction> {
    match signal {
        SIGHUP | SIGPIPE | SIGTERM => Some(DefaultAction::Terminate),
        SIGINT => Some(DefaultAction::Interrupt),
        SIGQUIT => Some(DefaultAction::Quit),
        SIGABRT => Some(DefaultAction::Abort),
        s if is_stop(s) => Some(DefaultAction::Stop),
        _ => None,
    }
}

/// The stop signals: SIGSTOP, SIGTTIN and SIGTTOU.
pub fn is_stop(signal: i32) -> bool {
    matches!(signal, SIGSTOP | SIGTTIN | SIGTTOU)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_numbers_are_integers_from_0_to_2_pow_31_minus_1() {
        assert_eq!(from_number(0.0), Some(0));
        assert_eq!(from_number(-0.0), Some(0));
        assert_eq!(from_number(15.0), Some(15));
        assert_eq!(from_number(2147483647.0), Some(i32::MAX));
        for bad in [
            -1.0,
            -0.5,
            1.5,
            2147483648.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
        ] {
            assert_eq!(from_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn defaults_follow_the_contract_table() {
        for s in [SIGHUP, SIGPIPE, SIGTERM] {
            assert_eq!(default_action(s), Some(DefaultAction::Terminate));
        }
        assert_eq!(default_action(SIGINT), Some(DefaultAction::Interrupt));
        assert_eq!(default_action(SIGQUIT), Some(DefaultAction::Quit));
        assert_eq!(default_action(SIGABRT), Some(DefaultAction::Abort));
        for s in [SIGSTOP, SIGTTIN, SIGTTOU] {
            assert_eq!(default_action(s), Some(DefaultAction::Stop));
        }
        for s in [10, 12, SIGCONT, 0, 64, -1, SIGKILL] {
            assert_eq!(default_action(s), None, "signal {s}");
        }
    }
}

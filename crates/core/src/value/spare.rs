//! Spare string arenas of large payloads, kept for the next ones.
//!
//! A payload's string arena is allocated on the sending computer's thread and
//! freed on the receiving one. For large strings that is costly in a way
//! copying is not: the allocator gives freed memory back to the system
//! between bursts and the next arena faults every page in again (sending a
//! 64 KiB string to itself, perf counted about 4.7 page faults per event,
//! 87% of them writing the sender's arena). So arenas of at least
//! [`MIN_SPARE`] bytes go back here when their payload is dropped and are
//! reused, up to [`SPARE_BYTES`] in all; smaller ones are left to the
//! allocator, which reuses them well.

use std::sync::Mutex;

/// Arenas smaller than this are not kept.
const MIN_SPARE: usize = 16 << 10;
/// The most bytes of spare arenas kept, in all computers together.
const SPARE_BYTES: usize = 8 << 20;
/// A single arena larger than this is not kept (it would crowd out the rest).
const MAX_SPARE: usize = SPARE_BYTES / 4;

/// Spare arenas and their total capacity.
struct Spares {
    arenas: Vec<Vec<u8>>,
    bytes: usize,
}

impl Spares {
    const fn new() -> Spares {
        Spares {
            arenas: Vec::new(),
            bytes: 0,
        }
    }

    /// A spare arena of at least `capacity` bytes, if one is kept.
    fn take(&mut self, capacity: usize) -> Option<Vec<u8>> {
        let i = self.arenas.iter().position(|a| a.capacity() >= capacity)?;
        let arena = self.arenas.swap_remove(i);
        self.bytes -= arena.capacity();
        Some(arena)
    }

    /// Keeps `arena` (already empty) if it is large and there is room.
    fn keep(&mut self, arena: Vec<u8>) {
        let capacity = arena.capacity();
        if (MIN_SPARE..=MAX_SPARE).contains(&capacity) && self.bytes + capacity <= SPARE_BYTES {
            self.bytes += capacity;
            self.arenas.push(arena);
        }
    }
}

static SPARES: Mutex<Spares> = Mutex::new(Spares::new());

fn spares() -> std::sync::MutexGuard<'static, Spares> {
    SPARES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes room in `arena` for `more` bytes, from a spare arena when the
/// result is large enough to be worth one.
pub fn grow(arena: &mut Vec<u8>, more: usize) {
    let needed = arena.len() + more;
    if needed < MIN_SPARE {
        arena.reserve(more);
        return;
    }
    let spare = spares().take(needed);
    match spare {
        Some(mut spare) => {
            spare.extend_from_slice(arena);
            give_back(std::mem::replace(arena, spare));
        }
        // To the size needed, not doubled: a large string is usually the
        // payload's last big piece.
        None => arena.reserve_exact(more),
    }
}

/// Keeps `arena` for reuse if it is large and there is room.
pub fn give_back(mut arena: Vec<u8>) {
    if arena.capacity() >= MIN_SPARE {
        arena.clear();
        spares().keep(arena);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_arena_kept_is_the_next_one_taken() {
        let mut spares = Spares::new();
        let arena = Vec::<u8>::with_capacity(MIN_SPARE);
        let address = arena.as_ptr();
        spares.keep(arena);
        assert_eq!(spares.bytes, MIN_SPARE);
        assert!(spares.take(MIN_SPARE + 1).is_none(), "too small for that");
        let again = spares.take(100).expect("kept");
        assert_eq!(again.as_ptr(), address);
        assert_eq!(spares.bytes, 0);
    }

    #[test]
    fn small_huge_and_excess_arenas_are_not_kept() {
        let mut spares = Spares::new();
        spares.keep(Vec::with_capacity(MIN_SPARE - 1));
        spares.keep(Vec::with_capacity(MAX_SPARE + 1));
        assert_eq!(spares.bytes, 0);
        for _ in 0..SPARE_BYTES / MAX_SPARE + 2 {
            spares.keep(Vec::with_capacity(MAX_SPARE));
        }
        assert_eq!(spares.bytes, SPARE_BYTES);
        assert_eq!(spares.arenas.len(), SPARE_BYTES / MAX_SPARE);
    }

    #[test]
    fn growing_keeps_the_contents() {
        for head in [&b""[..], b"head"] {
            let mut arena = head.to_vec();
            grow(&mut arena, MIN_SPARE);
            assert!(arena.capacity() >= head.len() + MIN_SPARE);
            assert_eq!(arena, head);
            give_back(arena);
        }
        let mut small = b"x".to_vec();
        grow(&mut small, 10);
        assert!(small.capacity() >= 11);
        assert_eq!(small, b"x");
    }
}

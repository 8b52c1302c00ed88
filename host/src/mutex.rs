//! Locking a mutex whose holder panicked: devloop's mutexes guard plain data (queues,
//! counters, the last error seen) that a panicking holder leaves whole, so the lock is taken
//! anyway rather than spreading the panic to every later caller.

use std::sync::{Mutex, MutexGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

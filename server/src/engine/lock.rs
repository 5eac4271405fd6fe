//! Locks that outlive a panic. ferrio's critical sections are short and leave their data
//! consistent at each step, while handlers run application code that may panic: a poisoned
//! lock is taken over rather than turning one panic into a panic for every later user of the
//! session, socket or namespace. Both layers lock through these.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks `mutex`, taking it over if a panic poisoned it.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Read-locks `rwlock`, taking it over if a panic poisoned it.
pub(crate) fn read<T: ?Sized>(rwlock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    rwlock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Write-locks `rwlock`, taking it over if a panic poisoned it.
pub(crate) fn write<T: ?Sized>(rwlock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    rwlock.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

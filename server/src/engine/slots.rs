//! The bound on how many sessions the engine holds: in all, and per client address.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dashmap::DashMap;

/// Why a new session could not get a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// `max_sessions` are open.
    Total,
    /// `max_sessions_per_ip` are open from this address.
    PerAddress,
}

/// Counts open sessions against the configured bounds.
#[derive(Debug, Default)]
pub(crate) struct SessionSlots {
    open: AtomicUsize,
    per_address: DashMap<IpAddr, usize>,
}

/// One session's place in the count, given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<SessionSlots>,
    address: Option<IpAddr>,
}

impl SessionSlots {
    /// Takes a slot for a session from `address` (when known), unless `max` sessions in all,
    /// or `max_per_address` from that address, are open.
    pub(crate) fn take(
        self: &Arc<Self>,
        address: Option<IpAddr>,
        max: usize,
        max_per_address: Option<usize>,
    ) -> Result<Slot, Full> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= max {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Total);
        }
        let counted = match (address, max_per_address) {
            (Some(ip), Some(max)) => {
                let mut count = self.per_address.entry(ip).or_insert(0);
                if *count >= max {
                    drop(count);
                    self.open.fetch_sub(1, Ordering::AcqRel);
                    return Err(Full::PerAddress);
                }
                *count += 1;
                Some(ip)
            }
            _ => None,
        };
        Ok(Slot { slots: self.clone(), address: counted })
    }

    /// Sessions holding a slot.
    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.open.fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.address {
            self.slots.per_address.remove_if_mut(&ip, |_, count| {
                *count -= 1;
                *count == 0
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_in_all_and_per_address_and_given_back() {
        let slots = Arc::new(SessionSlots::default());
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let first = slots.take(Some(a), 3, Some(2)).expect("a slot");
        let second = slots.take(Some(a), 3, Some(2)).expect("a slot");
        assert_eq!(slots.take(Some(a), 3, Some(2)).map(drop), Err(Full::PerAddress));
        let third = slots.take(Some(b), 3, Some(2)).expect("another address");
        assert_eq!(slots.take(None, 3, Some(2)).map(drop), Err(Full::Total));
        assert_eq!(slots.open(), 3);
        drop((first, second, third));
        assert_eq!(slots.open(), 0);
        assert!(slots.per_address.is_empty(), "no entry left per address");
    }
}

//! The cap on open device WebSockets, in total and per client address.
//!
//! An upgraded connection leaves the listener's `max_connections`, so without this cap one
//! client could open sockets until the process runs out of file descriptors. A slot is taken
//! before the upgrade and held by a [`SocketPermit`] until the socket's task ends, pairing and
//! the wait for `hello` included.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use super::DeviceService;
use crate::security::LimitKey;

/// Open sockets, in total and per address key.
#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<LimitKey, usize>,
}

/// The socket cap of one device service.
#[derive(Debug, Clone)]
pub(crate) struct SocketSlots {
    max_total: usize,
    max_per_address: usize,
    counts: Arc<Mutex<Counts>>,
}

/// A full cap: the upgrade is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketLimit {
    /// The server has `max_sockets` device sockets open.
    Total(usize),
    /// The client's address has `max_sockets_per_address` device sockets open.
    PerAddress(usize),
}

/// One open device socket's slot, given back when dropped.
#[derive(Debug)]
pub struct SocketPermit {
    counts: Arc<Mutex<Counts>>,
    address: Option<LimitKey>,
}

impl SocketSlots {
    pub(crate) fn new(max_total: usize, max_per_address: usize) -> Self {
        Self {
            max_total,
            max_per_address,
            counts: Arc::default(),
        }
    }

    /// Takes a slot for a socket from `ip`, or returns the cap that is full.
    pub(crate) fn acquire(&self, ip: Option<IpAddr>) -> Result<SocketPermit, SocketLimit> {
        let address = ip.map(LimitKey::client);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.max_total {
            return Err(SocketLimit::Total(self.max_total));
        }
        if let Some(address) = &address {
            let open = counts.per_address.entry(address.clone()).or_default();
            if *open >= self.max_per_address {
                return Err(SocketLimit::PerAddress(self.max_per_address));
            }
            *open += 1;
        }
        counts.total += 1;
        Ok(SocketPermit {
            counts: self.counts.clone(),
            address,
        })
    }

    /// Returns the number of open sockets.
    pub(crate) fn open(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl DeviceService {
    /// Takes a device socket's slot for a client at `ip`, before the upgrade. The socket's task
    /// holds the permit until it ends.
    pub fn acquire_socket(&self, ip: Option<IpAddr>) -> Result<SocketPermit, SocketLimit> {
        self.sockets.acquire(ip)
    }

    /// Returns the number of open device sockets, pairing ones included.
    pub fn open_sockets(&self) -> usize {
        self.sockets.open()
    }
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(address) = &self.address
            && let Some(open) = counts.per_address.get_mut(address)
        {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.per_address.remove(address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn caps_apply_and_permits_give_slots_back() {
        let slots = SocketSlots::new(3, 2);
        let first: IpAddr = "192.0.2.1".parse().unwrap();
        let second: IpAddr = "192.0.2.2".parse().unwrap();

        let a = slots.acquire(Some(first)).unwrap();
        let _b = slots.acquire(Some(first)).unwrap();
        assert_eq!(
            slots.acquire(Some(first)).unwrap_err(),
            SocketLimit::PerAddress(2)
        );
        let _c = slots.acquire(Some(second)).unwrap();
        assert_eq!(slots.acquire(None).unwrap_err(), SocketLimit::Total(3));

        drop(a);
        assert_eq!(slots.open(), 2);
        assert!(slots.acquire(Some(first)).is_ok());
    }
}

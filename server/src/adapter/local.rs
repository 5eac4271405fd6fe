//! The in-memory adapter.

use std::collections::HashSet;

use dashmap::DashMap;

use super::{Adapter, BroadcastOptions, Room};
use crate::engine::Sid;

/// Room membership in memory, for a single process. Both directions are indexed (room →
/// sockets, socket → rooms) in sharded maps. Each socket is also in the room named after its
/// id (so `io.to(id)` reaches it), without storing it.
#[derive(Debug, Default)]
pub struct LocalAdapter {
    rooms: DashMap<Room, HashSet<Sid>>,
    sockets: DashMap<Sid, HashSet<Room>>,
}

impl LocalAdapter {
    /// An empty adapter.
    pub fn new() -> Self {
        Self::default()
    }

    fn in_any(&self, sid: &Sid, rooms: &[Room]) -> bool {
        self.sockets.get(sid).is_some_and(|mine| rooms.iter().any(|r| mine.contains(r)))
    }
}

impl Adapter for LocalAdapter {
    fn add_socket(&self, sid: &Sid) {
        self.sockets.entry(sid.clone()).or_default();
    }

    fn join(&self, sid: &Sid, rooms: &[Room]) {
        let Some(mut mine) = self.sockets.get_mut(sid) else { return };
        for room in rooms {
            if mine.insert(room.clone()) {
                self.rooms.entry(room.clone()).or_default().insert(sid.clone());
            }
        }
    }

    fn leave(&self, sid: &Sid, rooms: &[Room]) {
        let Some(mut mine) = self.sockets.get_mut(sid) else { return };
        for room in rooms {
            if mine.remove(room) {
                self.rooms.remove_if_mut(room, |_, members| {
                    members.remove(sid);
                    members.is_empty()
                });
            }
        }
    }

    fn remove_socket(&self, sid: &Sid) {
        let Some((_, mine)) = self.sockets.remove(sid) else { return };
        for room in mine {
            self.rooms.remove_if_mut(&room, |_, members| {
                members.remove(sid);
                members.is_empty()
            });
        }
    }

    fn socket_rooms(&self, sid: &Sid) -> Vec<Room> {
        let Some(rooms) = self.sockets.get(sid) else { return Vec::new() };
        let mut out = Vec::with_capacity(rooms.len() + 1);
        out.push(Room::from(sid.as_str()));
        out.extend(rooms.iter().cloned());
        out
    }

    fn rooms(&self) -> Vec<Room> {
        self.rooms.iter().map(|e| e.key().clone()).collect()
    }

    fn select(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let keep = |sid: &Sid| {
            opts.except_socket.as_ref() != Some(sid)
                && (opts.except.is_empty() || !self.in_any(sid, &opts.except))
        };
        if opts.rooms.is_empty() {
            return self.sockets.iter().map(|e| e.key().clone()).filter(|sid| keep(sid)).collect();
        }
        let mut seen = HashSet::new();
        for room in &opts.rooms {
            // Copy the members out first: `keep` reads the other index, and holding one shard
            // while locking another could deadlock against a concurrent join.
            let members: Vec<Sid> =
                self.rooms.get(room).map(|m| m.iter().cloned().collect()).unwrap_or_default();
            seen.extend(members);
            // Every socket is in the room named after its id, as in Socket.IO; it is implied
            // rather than stored, so it costs no memory per socket.
            if let Some(own) = self.sockets.get(&**room) {
                seen.insert(own.key().clone());
            }
        }
        seen.into_iter().filter(|sid| keep(sid)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> Room {
        Room::from(name)
    }

    #[test]
    fn select_by_rooms_except_and_sender() {
        let a = LocalAdapter::new();
        let (s1, s2, s3) = (Sid::random(), Sid::random(), Sid::random());
        for s in [&s1, &s2, &s3] {
            a.add_socket(s);
        }
        a.join(&s1, &[room("x")]);
        a.join(&s2, &[room("x"), room("y")]);
        let mut opts = BroadcastOptions { rooms: vec![room("x")], ..Default::default() };
        assert_eq!(a.select(&opts).len(), 2);
        opts.except = vec![room("y")];
        assert_eq!(a.select(&opts), vec![s1.clone()]);
        let all_but_s1 = BroadcastOptions { except_socket: Some(s1.clone()), ..Default::default() };
        assert_eq!(a.select(&all_but_s1).len(), 2);
    }

    #[test]
    fn each_socket_is_in_the_room_of_its_id() {
        let a = LocalAdapter::new();
        let s = Sid::random();
        a.add_socket(&s);
        let opts = BroadcastOptions { rooms: vec![room(s.as_str())], ..Default::default() };
        assert_eq!(a.select(&opts), vec![s.clone()]);
        assert_eq!(a.socket_rooms(&s), vec![room(s.as_str())]);
    }

    #[test]
    fn removing_a_socket_empties_its_rooms() {
        let a = LocalAdapter::new();
        let s = Sid::random();
        a.add_socket(&s);
        a.join(&s, &[room("x"), room("y")]);
        a.leave(&s, &[room("x")]);
        assert_eq!(a.rooms(), vec![room("y")]);
        a.remove_socket(&s);
        assert!(a.rooms().is_empty());
        assert!(a.socket_rooms(&s).is_empty());
    }
}

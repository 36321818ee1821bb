//! The duplicate-row index: which line first had each key (e-mail) of a file.
//!
//! It is the one thing a file's reader must remember for every row, since a repeated e-mail is
//! reported with the line that first had it. Issue 12 asks that an import's memory stay flat
//! whatever the file's length, so the index keeps little per key (96 bits of its SHA-256 and
//! the line as 32 bits) and, past [`IN_MEMORY`] keys, moves to an unnamed scratch file: an
//! open-addressing hash table read and written in place. The process then holds a few hundred
//! bytes for the index however long the file is; the table's pages live in the kernel's page
//! cache, which gives them back under pressure. This scratch file is the crate's only I/O of
//! its own (it is created here so that every caller of the readers gets it).
//!
//! Two different e-mails share 96 bits of SHA-256 with a chance of about 10^-17 in a file of
//! a million rows. Lines past 2^32 (a file of more than four billion rows) are remembered as
//! the last line 32 bits can hold.

use crate::error::{RowError, RowErrors, Rule};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Keys kept in memory before the index moves to disk: about 4 MiB at most. The Admin Console
/// takes 25,000 rows per upload, so its files never leave memory.
pub(crate) const IN_MEMORY: usize = 1 << 17;

type Short = [u8; 12];

/// Remembers each key's first line, to name it when the key comes back.
pub(crate) struct KeyIndex {
    memory: HashMap<Short, u32>,
    disk: Option<DiskTable>,
    limit: usize,
    broken: bool,
}

impl Default for KeyIndex {
    fn default() -> Self {
        KeyIndex::with_memory_limit(IN_MEMORY)
    }
}

impl KeyIndex {
    /// An index that moves to disk once it holds more than `limit` keys (tests use small ones).
    pub(crate) fn with_memory_limit(limit: usize) -> Self {
        KeyIndex {
            memory: HashMap::new(),
            disk: None,
            limit,
            broken: false,
        }
    }

    /// `Some(first_line)` when `key` was already seen; an error only when the scratch file
    /// cannot be created, read or written.
    pub(crate) fn check(&mut self, key: &str, line: u64) -> io::Result<Option<u64>> {
        let found = self.look_up(key, line);
        self.broken |= found.is_err();
        found
    }

    /// True once the scratch file failed: the reader stops there, since a duplicate could no
    /// longer be told from a new row.
    pub(crate) fn broken(&self) -> bool {
        self.broken
    }

    fn look_up(&mut self, key: &str, line: u64) -> io::Result<Option<u64>> {
        let digest = Sha256::digest(key.as_bytes());
        let mut short = [0u8; 12];
        short.copy_from_slice(&digest[..12]);
        // Lines count from 1 (the header), so 0 is free to mark an empty slot on disk.
        let line = u32::try_from(line).unwrap_or(u32::MAX).max(1);
        if let Some(disk) = self.disk.as_mut() {
            return Ok(disk.find_or_insert(short, line)?.map(u64::from));
        }
        if let Some(first) = self.memory.get(&short) {
            return Ok(Some(u64::from(*first)));
        }
        if self.memory.len() < self.limit {
            self.memory.insert(short, line);
            return Ok(None);
        }
        let mut disk = DiskTable::new(slots_for(self.memory.len() + 1))?;
        for (k, l) in std::mem::take(&mut self.memory) {
            disk.find_or_insert(k, l)?;
        }
        disk.find_or_insert(short, line)?;
        self.disk = Some(disk);
        Ok(None)
    }

    #[cfg(test)]
    fn on_disk(&self) -> bool {
        self.disk.is_some()
    }
}

/// The row error that ends a file whose index failed: like a read failure, it stops the import
/// at that row.
pub(crate) fn lost(line: u64, e: &io::Error) -> RowErrors {
    RowErrors(vec![RowError::row(
        line,
        Rule::Io,
        format!("the server could not keep track of the e-mails already read (its scratch file failed: {e}); the file was read up to here"),
    )])
}

/// Bytes a slot takes: the key's 12 bytes, then its line (little-endian), 0 for "empty".
const SLOT: u64 = 16;
/// Slots read at once while probing: one read usually settles a key.
const PROBE: u64 = 8;

/// The smallest power-of-two table that holds `keys` at most a quarter full.
fn slots_for(keys: usize) -> u64 {
    (keys as u64)
        .saturating_mul(4)
        .next_power_of_two()
        .max(PROBE)
}

/// An open-addressing hash table (linear probing) in an unnamed temporary file. It doubles
/// into a second file when half full, so probes stay short; the old file is then emptied.
struct DiskTable {
    table: File,
    spare: File,
    slots: u64,
    used: u64,
}

impl DiskTable {
    fn new(slots: u64) -> io::Result<Self> {
        let table = tempfile::tempfile()?;
        // A sparse file: the kernel hands back zeroes, that is empty slots, for pages never
        // written.
        table.set_len(slots * SLOT)?;
        Ok(DiskTable {
            table,
            spare: tempfile::tempfile()?,
            slots,
            used: 0,
        })
    }

    fn find_or_insert(&mut self, key: Short, line: u32) -> io::Result<Option<u32>> {
        if (self.used + 1) * 2 > self.slots {
            self.grow()?;
        }
        let found = place(&self.table, self.slots, key, line)?;
        if found.is_none() {
            self.used += 1;
        }
        Ok(found)
    }

    fn grow(&mut self) -> io::Result<()> {
        let slots = self.slots * 2;
        self.spare.set_len(0)?;
        self.spare.set_len(slots * SLOT)?;
        let mut chunk = vec![0u8; (4096 * SLOT) as usize];
        let mut at = 0u64;
        while at < self.slots {
            let n = (self.slots - at).min(4096);
            let bytes = &mut chunk[..(n * SLOT) as usize];
            self.table.read_exact_at(bytes, at * SLOT)?;
            for slot in bytes.chunks_exact(SLOT as usize) {
                if let Some((key, line)) = occupied(slot) {
                    place(&self.spare, slots, key, line)?;
                }
            }
            at += n;
        }
        std::mem::swap(&mut self.table, &mut self.spare);
        self.slots = slots;
        // Give the old table's blocks back now rather than at the next growth.
        self.spare.set_len(0)
    }
}

/// The key and line a slot holds, `None` when it is empty.
fn occupied(slot: &[u8]) -> Option<(Short, u32)> {
    let mut line = [0u8; 4];
    line.copy_from_slice(&slot[12..16]);
    let line = u32::from_le_bytes(line);
    if line == 0 {
        return None;
    }
    let mut key = [0u8; 12];
    key.copy_from_slice(&slot[..12]);
    Some((key, line))
}

/// Finds `key` in the table of `slots` slots in `file`, or writes it with `line` into the
/// first empty slot after its home. Returns the line already there, if any.
fn place(file: &File, slots: u64, key: Short, line: u32) -> io::Result<Option<u32>> {
    let mut home = [0u8; 8];
    home.copy_from_slice(&key[..8]);
    let mut at = u64::from_le_bytes(home) & (slots - 1);
    let mut buf = [0u8; (PROBE * SLOT) as usize];
    // The table is never more than half full, so an empty slot is always found.
    loop {
        let n = (slots - at).min(PROBE);
        let bytes = &mut buf[..(n * SLOT) as usize];
        file.read_exact_at(bytes, at * SLOT)?;
        for (i, slot) in bytes.chunks_exact(SLOT as usize).enumerate() {
            match occupied(slot) {
                Some((k, first)) if k == key => return Ok(Some(first)),
                Some(_) => {}
                None => {
                    let mut out = [0u8; SLOT as usize];
                    out[..12].copy_from_slice(&key);
                    out[12..].copy_from_slice(&line.to_le_bytes());
                    file.write_all_at(&out, (at + i as u64) * SLOT)?;
                    return Ok(None);
                }
            }
        }
        at = (at + n) % slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_key_index_names_the_first_line_of_a_key_that_comes_back() {
        let mut keys = KeyIndex::default();
        for line in 2..20_002u64 {
            assert_eq!(
                keys.check(&format!("person{line}@shop.example"), line)
                    .unwrap(),
                None
            );
        }
        assert_eq!(keys.check("person7@shop.example", 30_000).unwrap(), Some(7));
        assert_eq!(
            keys.check("person20001@shop.example", 30_001).unwrap(),
            Some(20_001)
        );
        assert_eq!(
            keys.check("person20002@shop.example", 30_002).unwrap(),
            None
        );
        // Past what 32 bits hold, the line is remembered as the largest they do.
        assert_eq!(keys.check("late@shop.example", u64::MAX).unwrap(), None);
        assert_eq!(
            keys.check("late@shop.example", 1).unwrap(),
            Some(u64::from(u32::MAX))
        );
        assert!(!keys.on_disk(), "20,000 keys stay in memory");
    }

    #[test]
    fn past_its_memory_limit_the_index_moves_to_disk_and_forgets_nothing() {
        let mut keys = KeyIndex::with_memory_limit(100);
        for line in 2..50_002u64 {
            assert_eq!(
                keys.check(&format!("p{line}@shop.example"), line).unwrap(),
                None,
                "line {line}"
            );
        }
        assert!(keys.on_disk());
        // Keys from before the move, from each growth, and from the last table.
        for line in [2u64, 50, 101, 102, 777, 4_096, 33_333, 50_001] {
            assert_eq!(
                keys.check(&format!("p{line}@shop.example"), 60_000)
                    .unwrap(),
                Some(line)
            );
        }
        assert_eq!(keys.check("new@shop.example", 60_001).unwrap(), None);
        assert_eq!(
            keys.check("new@shop.example", 60_002).unwrap(),
            Some(60_001)
        );
    }

    proptest! {
        /// Whether in memory or on disk, the index answers as a map from the key to its first
        /// line does, for any sequence of keys with repeats.
        #[test]
        fn the_index_answers_as_a_map_of_first_lines_does(
            picks in proptest::collection::vec(0u16..400, 1..1_500),
            limit in prop_oneof![Just(0usize), Just(3), Just(64), Just(IN_MEMORY)],
        ) {
            let mut keys = KeyIndex::with_memory_limit(limit);
            let mut reference: HashMap<String, u64> = HashMap::new();
            for (i, pick) in picks.iter().enumerate() {
                let line = i as u64 + 2;
                let key = format!("user{pick}@shop.example");
                let expected = reference.get(&key).copied();
                reference.entry(key.clone()).or_insert(line);
                prop_assert_eq!(keys.check(&key, line).unwrap(), expected);
            }
        }
    }
}

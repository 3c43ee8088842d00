//! The store as a cluster replica (DESIGN §10): how far into the articles stream this
//! store has applied, kept in `meta_schema` beside the counters.
//!
//! The position is written after each applied record, not in the record's transaction:
//! applying a record twice is harmless (the replica recognises a record it already holds by
//! its URL), so a crash between the two only means one record is looked at again.

use super::{Store, StoreError, be_u64};

/// Stream sequence of the last applied record ‖ candidate sequence it decided.
const POSITION: &[u8] = b"cluster_position";

/// Where a replica stands in the articles stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicaPosition {
    /// Sequence (in the articles stream) of the last record applied; 0 = none.
    pub applied: u64,
    /// Sequence (in the candidates stream) of the candidate that record decided.
    pub cand: u64,
}

impl Store {
    pub fn replica_position(&self) -> Result<ReplicaPosition, StoreError> {
        let t = self.t()?;
        Ok(match t.schema.get(POSITION)? {
            Some(v) if v.len() == 16 => ReplicaPosition {
                applied: be_u64(&v[..8]).unwrap_or(0),
                cand: be_u64(&v[8..]).unwrap_or(0),
            },
            _ => ReplicaPosition::default(),
        })
    }

    pub fn set_replica_position(&self, p: ReplicaPosition) -> Result<(), StoreError> {
        let t = self.t()?;
        let mut v = [0u8; 16];
        v[..8].copy_from_slice(&p.applied.to_be_bytes());
        v[8..].copy_from_slice(&p.cand.to_be_bytes());
        t.schema.insert(POSITION, &v)?;
        Ok(())
    }
}

impl Store {
    /// The seq the next stored article gets.
    pub fn next_seq(&self) -> Result<u64, StoreError> {
        let t = self.t()?;
        Ok(t.schema
            .get(super::NEXT_SEQ)?
            .and_then(|v| be_u64(&v))
            .unwrap_or(0))
    }

    /// The name of the stored article with `seq`.
    pub fn name_by_seq(&self, seq: u64) -> Result<Option<String>, StoreError> {
        let t = self.t()?;
        Ok(t.by_seq
            .get(seq.to_be_bytes())?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }
}

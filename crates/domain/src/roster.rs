//! Rider rosters: how a platform's snapshot (or delta) compares with the riders already
//! on file. Pure: the API parses and validates rows, storage loads what exists, and
//! this decides, per rider, create / update / unchanged / deactivate.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// A rider's standing on their platform's roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiderStatus {
    /// In the platform's latest roster.
    Active,
    /// Left out of a snapshot or deactivated by a delta. Any membership stays: the
    /// union decides about that.
    Inactive,
}

impl RiderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RiderStatus::Active => "active",
            RiderStatus::Inactive => "inactive",
        }
    }
}

impl FromStr for RiderStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "active" => Ok(RiderStatus::Active),
            "inactive" => Ok(RiderStatus::Inactive),
            _ => Err(()),
        }
    }
}

impl fmt::Display for RiderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a sync is the whole roster or a change to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// Everything active is in it; whoever is missing becomes inactive.
    Snapshot,
    /// Only the riders named change.
    Delta,
}

impl SyncKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Snapshot => "snapshot",
            SyncKind::Delta => "delta",
        }
    }
}

/// A rider already on file, as far as the diff needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnFile<K> {
    /// The storage key (the rider's id).
    pub key: K,
    pub external_id: String,
    /// Digest of the rider's content as last synced.
    pub content_hash: String,
    pub status: RiderStatus,
}

/// A valid incoming row: its position in the request, the platform's id for the rider,
/// and the digest of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming<'a> {
    pub index: usize,
    pub external_id: &'a str,
    pub content_hash: &'a str,
}

/// What to do with each rider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan<K> {
    /// Indexes of incoming rows that are new riders.
    pub create: Vec<usize>,
    /// Incoming rows that change (or reactivate) a rider on file: (index, key).
    pub update: Vec<(usize, K)>,
    /// Indexes of incoming rows identical to an active rider on file.
    pub unchanged: Vec<usize>,
    /// Active riders on file to make inactive.
    pub deactivate: Vec<K>,
}

/// Compares valid incoming rows with the riders on file.
///
/// - a row whose `external_id` is new → create;
/// - same content as an active rider → unchanged (nothing is written);
/// - different content, or an inactive rider coming back → update;
/// - `Snapshot`: every active rider on file whose `external_id` is neither in the rows
///   nor in `present_elsewhere` (rows that were rejected: the platform still named the
///   rider, so they are not "absent") → deactivate;
/// - `Delta`: each of `deactivate` that is an active rider on file → deactivate
///   (already inactive: nothing to do). Unknown ones are returned in `unknown`.
///
/// Incoming `external_id`s must be unique (duplicates are rejected before the diff).
pub fn diff<K: Clone>(
    kind: SyncKind,
    incoming: &[Incoming<'_>],
    on_file: &[OnFile<K>],
    present_elsewhere: &HashSet<&str>,
    deactivate: &[&str],
) -> (Plan<K>, Vec<usize>) {
    let by_external: HashMap<&str, &OnFile<K>> = on_file
        .iter()
        .map(|r| (r.external_id.as_str(), r))
        .collect();
    let mut plan = Plan {
        create: Vec::new(),
        update: Vec::new(),
        unchanged: Vec::new(),
        deactivate: Vec::new(),
    };
    for row in incoming {
        match by_external.get(row.external_id) {
            None => plan.create.push(row.index),
            Some(existing)
                if existing.content_hash == row.content_hash
                    && existing.status == RiderStatus::Active =>
            {
                plan.unchanged.push(row.index);
            }
            Some(existing) => plan.update.push((row.index, existing.key.clone())),
        }
    }
    let mut unknown = Vec::new();
    match kind {
        SyncKind::Snapshot => {
            let seen: HashSet<&str> = incoming.iter().map(|r| r.external_id).collect();
            plan.deactivate = on_file
                .iter()
                .filter(|r| r.status == RiderStatus::Active)
                .filter(|r| {
                    !seen.contains(r.external_id.as_str())
                        && !present_elsewhere.contains(r.external_id.as_str())
                })
                .map(|r| r.key.clone())
                .collect();
        }
        SyncKind::Delta => {
            for (i, external_id) in deactivate.iter().enumerate() {
                match by_external.get(external_id) {
                    Some(r) if r.status == RiderStatus::Active => {
                        plan.deactivate.push(r.key.clone());
                    }
                    Some(_) => {}
                    None => unknown.push(i),
                }
            }
        }
    }
    (plan, unknown)
}

/// The indexes of rows whose `external_id` occurs more than once: every occurrence,
/// since nobody can tell which of them the platform meant.
pub fn duplicate_indexes(external_ids: &[(usize, &str)]) -> HashSet<usize> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, e) in external_ids {
        *count.entry(e).or_default() += 1;
    }
    external_ids
        .iter()
        .filter(|(_, e)| count.get(e).copied().unwrap_or(0) > 1)
        .map(|(i, _)| *i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_file(key: u32, ext: &str, hash: &str, status: RiderStatus) -> OnFile<u32> {
        OnFile {
            key,
            external_id: ext.into(),
            content_hash: hash.into(),
            status,
        }
    }

    #[test]
    fn a_snapshot_creates_updates_keeps_and_deactivates() {
        let existing = vec![
            on_file(1, "a", "h1", RiderStatus::Active),
            on_file(2, "b", "h2", RiderStatus::Active),
            on_file(3, "c", "h3", RiderStatus::Active),
            on_file(4, "d", "h4", RiderStatus::Inactive),
            on_file(5, "e", "h5", RiderStatus::Active),
        ];
        let rows = [
            Incoming {
                index: 0,
                external_id: "a",
                content_hash: "h1",
            },
            Incoming {
                index: 1,
                external_id: "b",
                content_hash: "changed",
            },
            Incoming {
                index: 2,
                external_id: "d",
                content_hash: "h4",
            },
            Incoming {
                index: 3,
                external_id: "new",
                content_hash: "x",
            },
        ];
        let rejected: HashSet<&str> = ["e"].into_iter().collect();
        let (plan, unknown) = diff(SyncKind::Snapshot, &rows, &existing, &rejected, &[]);
        assert_eq!(plan.create, vec![3]);
        assert_eq!(plan.update, vec![(1, 2), (2, 4)]);
        assert_eq!(plan.unchanged, vec![0]);
        assert_eq!(plan.deactivate, vec![3]);
        assert!(unknown.is_empty());
    }

    #[test]
    fn a_delta_deactivates_only_whom_it_names() {
        let existing = vec![
            on_file(1, "a", "h1", RiderStatus::Active),
            on_file(2, "b", "h2", RiderStatus::Inactive),
            on_file(3, "c", "h3", RiderStatus::Active),
        ];
        let (plan, unknown) = diff(
            SyncKind::Delta,
            &[],
            &existing,
            &HashSet::new(),
            &["a", "b", "zz"],
        );
        assert_eq!(plan.deactivate, vec![1]);
        assert_eq!(unknown, vec![2]);
    }

    #[test]
    fn every_occurrence_of_a_duplicate_is_named() {
        let dups = duplicate_indexes(&[(0, "a"), (1, "b"), (2, "a"), (3, "c")]);
        assert_eq!(dups, [0, 2].into_iter().collect());
    }
}

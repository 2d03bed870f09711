//! Ranking: how entrants are ordered, how ties are broken and numbered, and the key a
//! quiz leaderboard is ordered and paged by.

use super::score::Score;
use crate::insurance::wire_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use uuid::Uuid;

wire_enum!(
    /// How shared ranks are numbered.
    RankKind {
        /// "Standard competition ranking", 1-2-2-4: after a tie, the next rank counts
        /// everyone ahead, so a rank always says how many did better.
        Competition => "competition",
        /// 1-2-2-3: the next rank follows straight on, so ranks count distinct results.
        Dense => "dense",
    }
);

/// One link in a competition's tie-break chain, tried in order among entrants with
/// equal scores. An entrant missing the value a link compares (a criterion nobody
/// scored, no recorded finish) comes after those who have it; two missing it stay
/// tied on that link.
///
/// On the wire: `{"criterion": "technique"}`, `"finish_time"`, `"time_taken"`; in
/// storage and text, [`Display`](fmt::Display) / [`FromStr`](std::str::FromStr):
/// `criterion:technique`, `finish_time`, `time_taken`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TieBreak {
    /// The higher mean score on this criterion (by key) ranks first.
    Criterion(String),
    /// The earlier finish ranks first.
    FinishTime,
    /// The shorter time taken ranks first.
    TimeTaken,
}

impl fmt::Display for TieBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TieBreak::Criterion(key) => write!(f, "criterion:{key}"),
            TieBreak::FinishTime => f.write_str("finish_time"),
            TieBreak::TimeTaken => f.write_str("time_taken"),
        }
    }
}

impl std::str::FromStr for TieBreak {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "finish_time" => Ok(TieBreak::FinishTime),
            "time_taken" => Ok(TieBreak::TimeTaken),
            _ => match s.strip_prefix("criterion:") {
                Some(key) if !key.is_empty() => Ok(TieBreak::Criterion(key.to_owned())),
                _ => Err(()),
            },
        }
    }
}

/// An entrant as ranking sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The registration (or attempt) being ranked.
    pub id: Uuid,
    pub score: Score,
    /// Criterion key → the entrant's mean on it, for `criterion` tie-breaks
    /// ([`Aggregate::criterion_means`](super::Aggregate::criterion_means)).
    pub criterion_scores: BTreeMap<String, Score>,
    /// For `time_taken`.
    pub time_taken_ms: Option<i64>,
    /// For `finish_time`.
    pub finished_at: Option<DateTime<Utc>>,
}

/// An entrant's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    pub id: Uuid,
    /// From 1.
    pub rank: u32,
    pub score: Score,
}

/// The entrants in order, best first, with ranks: higher score first, then each
/// tie-break in turn; entrants equal on all of them share a rank, numbered per `kind`.
/// Entrants sharing a rank are listed by id, which carries no meaning but keeps the
/// list the same on every call.
pub fn rank(entries: &[Entry], kind: RankKind, tie_breaks: &[TieBreak]) -> Vec<Ranked> {
    let mut order: Vec<&Entry> = entries.iter().collect();
    order.sort_by(|a, b| ahead(a, b, tie_breaks).then_with(|| a.id.cmp(&b.id)));
    let mut ranked: Vec<Ranked> = Vec::with_capacity(order.len());
    let mut previous: Option<&Entry> = None;
    for (position, entry) in order.into_iter().enumerate() {
        let rank = match (previous, ranked.last()) {
            (Some(p), Some(last)) if ahead(p, entry, tie_breaks) == Ordering::Equal => last.rank,
            (_, last) => match kind {
                RankKind::Competition => u32::try_from(position + 1).unwrap_or(u32::MAX),
                RankKind::Dense => last.map_or(1, |l| l.rank.saturating_add(1)),
            },
        };
        ranked.push(Ranked {
            id: entry.id,
            rank,
            score: entry.score,
        });
        previous = Some(entry);
    }
    ranked
}

/// `Less` when `a` ranks ahead of `b`, `Equal` when they are tied on everything.
fn ahead(a: &Entry, b: &Entry, tie_breaks: &[TieBreak]) -> Ordering {
    let mut order = b.score.cmp(&a.score);
    for tie_break in tie_breaks {
        if order != Ordering::Equal {
            break;
        }
        order = match tie_break {
            TieBreak::Criterion(key) => present_first(
                a.criterion_scores.get(key),
                b.criterion_scores.get(key),
                Better::Higher,
            ),
            TieBreak::FinishTime => present_first(a.finished_at, b.finished_at, Better::Lower),
            TieBreak::TimeTaken => present_first(a.time_taken_ms, b.time_taken_ms, Better::Lower),
        };
    }
    order
}

#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

/// `Less` when `a` is the better value, and any value before a missing one.
fn present_first<T: Ord>(a: Option<T>, b: Option<T>, better: Better) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => match better {
            Better::Higher => y.cmp(&x),
            Better::Lower => x.cmp(&y),
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Where a submitted quiz attempt stands on the leaderboard. The order is the
/// leaderboard's: score descending, then time taken ascending, then attempt id
/// ascending. The id only makes the order total, so that a cursor names one position;
/// it never decides a rank ([`LeaderboardKey::ties_with`]).
///
/// In SQL: `ORDER BY score DESC, time_taken_ms ASC, id ASC`, with an index in that
/// order, and the page after a cursor `c` is `WHERE score < c.score OR (score =
/// c.score AND (time_taken_ms > c.time OR (time_taken_ms = c.time AND id > c.id)))`.
/// UUIDs compare byte-wise here, as in PostgreSQL, and as lowercase hyphenated text
/// does in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaderboardKey {
    /// Points.
    pub score: i64,
    pub time_taken_ms: i64,
    pub attempt_id: Uuid,
}

impl Ord for LeaderboardKey {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .cmp(&self.score)
            .then(self.time_taken_ms.cmp(&other.time_taken_ms))
            .then(self.attempt_id.cmp(&other.attempt_id))
    }
}

impl PartialOrd for LeaderboardKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl LeaderboardKey {
    /// Whether the two attempts share a rank: the same score in the same time.
    pub fn ties_with(&self, other: &LeaderboardKey) -> bool {
        self.score == other.score && self.time_taken_ms == other.time_taken_ms
    }

    /// The key as cursor text, `<score>.<time_taken_ms>.<attempt id, 32 hex digits>`.
    /// The API may wrap it further; it carries nothing a client couldn't see in the
    /// page it came from.
    pub fn to_cursor(&self) -> String {
        format!(
            "{}.{}.{}",
            self.score,
            self.time_taken_ms,
            self.attempt_id.simple()
        )
    }

    /// The key from [`LeaderboardKey::to_cursor`]'s text; None for anything else.
    pub fn from_cursor(cursor: &str) -> Option<LeaderboardKey> {
        let mut parts = cursor.split('.');
        let score = parts.next()?.parse().ok()?;
        let time_taken_ms = parts.next()?.parse().ok()?;
        let id = parts.next()?;
        if id.len() != 32 || parts.next().is_some() {
            return None;
        }
        Some(LeaderboardKey {
            score,
            time_taken_ms,
            attempt_id: Uuid::try_parse(id).ok()?,
        })
    }
}

/// An attempt's leaderboard rank from two counts storage can answer from its index
/// without ranking everyone: `better_attempts`, the attempts with a higher score or
/// the same score in less time, and `better_results`, the distinct `(score, time)`
/// pairs among them. Competition ranking counts attempts, dense ranking counts results.
pub fn leaderboard_rank(kind: RankKind, better_attempts: u64, better_results: u64) -> u64 {
    match kind {
        RankKind::Competition => better_attempts.saturating_add(1),
        RankKind::Dense => better_results.saturating_add(1),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn entry(n: u128, points: i64) -> Entry {
        Entry {
            id: id(n),
            score: Score::from_points(points).unwrap(),
            criterion_scores: BTreeMap::new(),
            time_taken_ms: None,
            finished_at: None,
        }
    }

    fn with_criterion(mut e: Entry, key: &str, points: i64) -> Entry {
        e.criterion_scores
            .insert(key.to_owned(), Score::from_points(points).unwrap());
        e
    }

    fn timed(mut e: Entry, ms: i64) -> Entry {
        e.time_taken_ms = Some(ms);
        e
    }

    fn finished(mut e: Entry, minute: i64) -> Entry {
        e.finished_at =
            Some(Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap() + TimeDelta::minutes(minute));
        e
    }

    /// `(id, rank)` in the order returned.
    fn places(ranked: &[Ranked]) -> Vec<(u128, u32)> {
        ranked.iter().map(|r| (r.id.as_u128(), r.rank)).collect()
    }

    #[test]
    fn wire_names_round_trip() {
        for k in RankKind::ALL {
            assert_eq!(k.as_str().parse::<RankKind>(), Ok(*k));
        }
        for t in [
            TieBreak::Criterion("safety".to_owned()),
            TieBreak::FinishTime,
            TieBreak::TimeTaken,
        ] {
            assert_eq!(t.to_string().parse::<TieBreak>(), Ok(t.clone()));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<TieBreak>(&json).unwrap(), t);
        }
        assert_eq!(
            serde_json::to_string(&TieBreak::Criterion("safety".to_owned())).unwrap(),
            r#"{"criterion":"safety"}"#
        );
        assert_eq!(
            serde_json::to_string(&TieBreak::TimeTaken).unwrap(),
            r#""time_taken""#
        );
        assert_eq!("criterion:".parse::<TieBreak>(), Err(()));
        assert_eq!("speed".parse::<TieBreak>(), Err(()));
    }

    #[test]
    fn competition_ranking_skips_after_a_tie_and_dense_does_not() {
        let entries = [
            entry(4, 70),
            entry(2, 90),
            entry(1, 95),
            entry(3, 90),
            entry(5, 60),
        ];
        assert_eq!(
            places(&rank(&entries, RankKind::Competition, &[])),
            vec![(1, 1), (2, 2), (3, 2), (4, 4), (5, 5)]
        );
        assert_eq!(
            places(&rank(&entries, RankKind::Dense, &[])),
            vec![(1, 1), (2, 2), (3, 2), (4, 3), (5, 4)]
        );
    }

    #[test]
    fn a_tie_at_the_top_and_a_three_way_tie() {
        let entries = [
            entry(1, 90),
            entry(2, 90),
            entry(3, 80),
            entry(4, 80),
            entry(5, 80),
            entry(6, 10),
        ];
        assert_eq!(
            places(&rank(&entries, RankKind::Competition, &[])),
            vec![(1, 1), (2, 1), (3, 3), (4, 3), (5, 3), (6, 6)]
        );
        assert_eq!(
            places(&rank(&entries, RankKind::Dense, &[])),
            vec![(1, 1), (2, 1), (3, 2), (4, 2), (5, 2), (6, 3)]
        );
    }

    #[test]
    fn everyone_equal_shares_first_place() {
        let entries: Vec<_> = (1..=4).rev().map(|n| timed(entry(n, 50), 1_000)).collect();
        for kind in RankKind::ALL.iter().copied() {
            assert_eq!(
                places(&rank(&entries, kind, &[TieBreak::TimeTaken])),
                vec![(1, 1), (2, 1), (3, 1), (4, 1)]
            );
        }
        assert!(rank(&[], RankKind::Competition, &[]).is_empty());
    }

    #[test]
    fn tie_breaks_apply_in_order_and_only_among_equal_scores() {
        // 2 and 3 tie on score; 3 is better on technique. 4 and 5 tie on score and
        // technique; 5 was quicker. 1 has the top score whatever its technique.
        let entries = [
            timed(with_criterion(entry(1, 95), "technique", 10), 9_000),
            timed(with_criterion(entry(2, 90), "technique", 40), 1_000),
            timed(with_criterion(entry(3, 90), "technique", 45), 9_000),
            timed(with_criterion(entry(4, 80), "technique", 30), 5_000),
            timed(with_criterion(entry(5, 80), "technique", 30), 4_000),
        ];
        let chain = [
            TieBreak::Criterion("technique".to_owned()),
            TieBreak::TimeTaken,
        ];
        assert_eq!(
            places(&rank(&entries, RankKind::Competition, &chain)),
            vec![(1, 1), (3, 2), (2, 3), (5, 4), (4, 5)]
        );
        // Time first instead: 2 beats 3.
        let time_first = [
            TieBreak::TimeTaken,
            TieBreak::Criterion("technique".to_owned()),
        ];
        assert_eq!(
            places(&rank(&entries, RankKind::Dense, &time_first)),
            vec![(1, 1), (2, 2), (3, 3), (5, 4), (4, 5)]
        );
        // Without tie-breaks the ties stand.
        assert_eq!(
            places(&rank(&entries, RankKind::Competition, &[])),
            vec![(1, 1), (2, 2), (3, 2), (4, 4), (5, 4)]
        );
    }

    #[test]
    fn entrants_still_tied_after_every_tie_break_share_a_rank() {
        // Same score, same technique, same time: tied; 4 finished later.
        let entries = [
            finished(
                timed(with_criterion(entry(3, 88), "technique", 30), 2_000),
                5,
            ),
            finished(
                timed(with_criterion(entry(1, 88), "technique", 30), 2_000),
                5,
            ),
            finished(
                timed(with_criterion(entry(2, 88), "technique", 30), 2_000),
                5,
            ),
            finished(
                timed(with_criterion(entry(4, 88), "technique", 30), 2_000),
                6,
            ),
        ];
        let chain = [
            TieBreak::Criterion("technique".to_owned()),
            TieBreak::TimeTaken,
            TieBreak::FinishTime,
        ];
        assert_eq!(
            places(&rank(&entries, RankKind::Competition, &chain)),
            vec![(1, 1), (2, 1), (3, 1), (4, 4)]
        );
        assert_eq!(
            places(&rank(&entries, RankKind::Dense, &chain)),
            vec![(1, 1), (2, 1), (3, 1), (4, 2)]
        );
    }

    #[test]
    fn earlier_finish_breaks_ties() {
        let entries = [finished(entry(1, 70), 30), finished(entry(2, 70), 10)];
        assert_eq!(
            places(&rank(
                &entries,
                RankKind::Competition,
                &[TieBreak::FinishTime]
            )),
            vec![(2, 1), (1, 2)]
        );
    }

    #[test]
    fn a_missing_tie_break_value_comes_last() {
        let entries = [
            entry(1, 70),
            with_criterion(entry(2, 70), "safety", 0),
            timed(entry(3, 70), 99_999),
            entry(4, 70),
        ];
        let chain = [
            TieBreak::Criterion("safety".to_owned()),
            TieBreak::TimeTaken,
        ];
        assert_eq!(
            places(&rank(&entries, RankKind::Competition, &chain)),
            vec![(2, 1), (3, 2), (1, 3), (4, 3)]
        );
    }

    #[test]
    fn the_leaderboard_orders_by_score_then_time_then_id() {
        let key = |score, time_taken_ms, n| LeaderboardKey {
            score,
            time_taken_ms,
            attempt_id: id(n),
        };
        let mut keys = [
            key(80, 60_000, 1),
            key(100, 90_000, 2),
            key(100, 30_000, 3),
            key(80, 60_000, 0),
            key(90, 1_000, 4),
        ];
        keys.sort();
        assert_eq!(
            keys.iter()
                .map(|k| k.attempt_id.as_u128())
                .collect::<Vec<_>>(),
            vec![3, 2, 4, 0, 1]
        );
        assert!(keys[3].ties_with(&keys[4]));
        assert!(!keys[0].ties_with(&keys[1]));
        assert!(key(100, 30_000, 9) < key(100, 30_001, 0));
    }

    #[test]
    fn leaderboard_cursors_round_trip() {
        let k = LeaderboardKey {
            score: 95,
            time_taken_ms: 123_456,
            attempt_id: Uuid::parse_str("0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b").unwrap(),
        };
        let cursor = k.to_cursor();
        assert_eq!(cursor, "95.123456.0192a3b4c5d67e8f9a0b1c2d3e4f5a6b");
        assert_eq!(LeaderboardKey::from_cursor(&cursor), Some(k));
        let negative = LeaderboardKey { score: -1, ..k };
        assert_eq!(
            LeaderboardKey::from_cursor(&negative.to_cursor()),
            Some(negative)
        );
        for bad in [
            "",
            "95",
            "95.1",
            "x.1.0192a3b4c5d67e8f9a0b1c2d3e4f5a6b",
            "95.1.0192a3b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b",
            "95.1.0192a3b4c5d67e8f9a0b1c2d3e4f5a6b.7",
            "95.1.zz92a3b4c5d67e8f9a0b1c2d3e4f5a6b",
        ] {
            assert_eq!(LeaderboardKey::from_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn leaderboard_ranks_come_from_counts() {
        // Scores 100, 90, 90, 80: the 80 has three attempts and two results ahead.
        assert_eq!(leaderboard_rank(RankKind::Competition, 3, 2), 4);
        assert_eq!(leaderboard_rank(RankKind::Dense, 3, 2), 3);
        assert_eq!(leaderboard_rank(RankKind::Competition, 0, 0), 1);
        assert_eq!(leaderboard_rank(RankKind::Dense, 0, 0), 1);
    }
}

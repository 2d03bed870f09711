//! Awards: prize tiers and honour titles, given by rank bands or by a list, when
//! results are published.

use super::ranking::Ranked;
use crate::insurance::{FieldProblem, wire_enum};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

wire_enum!(
    /// A prize, best first.
    PrizeTier {
        First => "first",
        Second => "second",
        Third => "third",
        /// 优秀奖: an honourable mention below the three prizes.
        Excellence => "excellence",
    }
);

impl PrizeTier {
    /// The prize as a certificate names it.
    pub fn certificate_name(self) -> &'static str {
        match self {
            PrizeTier::First => "一等奖",
            PrizeTier::Second => "二等奖",
            PrizeTier::Third => "三等奖",
            PrizeTier::Excellence => "优秀奖",
        }
    }

    /// 0 for the best tier; a higher number is a lesser prize.
    fn standing(self) -> usize {
        PrizeTier::ALL
            .iter()
            .position(|t| *t == self)
            .unwrap_or(usize::MAX)
    }
}

/// A certificate's number: `UH-<year>-<first 8 hex digits of the competition id>-<place>`,
/// with the 1-based place in rank order (unique within a competition even where ranks
/// tie), so the number is stable, unique and tells a reader where to look it up.
pub fn certificate_number(competition_id: Uuid, year: i32, position: u64) -> String {
    let competition = competition_id.simple().to_string();
    format!(
        "UH-{year}-{}-{:05}",
        competition[..8].to_ascii_uppercase(),
        position + 1
    )
}

/// A certificate's wording: the competition, then the prize, then the honour title,
/// whichever were awarded.
pub fn certificate_title(
    competition_name: &str,
    tier: Option<PrizeTier>,
    honour_title: Option<&str>,
) -> String {
    let mut title = competition_name.to_owned();
    for part in [tier.map(PrizeTier::certificate_name), honour_title]
        .into_iter()
        .flatten()
    {
        title.push(' ');
        title.push_str(part);
    }
    title
}

/// The highest rank a band may reach; a quiz with 300,000 entrants needs nowhere near.
pub const MAX_AWARD_RANK: u32 = 1_000_000;
pub const MAX_HONOUR_TITLE_CHARS: usize = 100;

/// Everyone ranked `from_rank` to `to_rank`, both inclusive, wins `tier` (and the
/// honour title, if any, e.g. "Provincial Technical Expert").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RankBand {
    pub from_rank: u32,
    pub to_rank: u32,
    pub tier: PrizeTier,
    #[serde(default)]
    pub honour_title: Option<String>,
}

/// One entrant named for a prize.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ListedAward {
    /// The registration (or attempt) being awarded, as ranked.
    pub entrant_id: Uuid,
    pub tier: PrizeTier,
    #[serde(default)]
    pub honour_title: Option<String>,
}

/// How prizes are given when results are published. On the wire:
/// `{"by": "rank", "bands": [...]}` or `{"by": "list", "awards": [...]}`; the JSON
/// pointers in [`AwardRules::validate`] assume this is the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum AwardRules {
    /// By rank: e.g. 1 first, 2–3 second, 4–6 third, 7–20 excellence. Entrants share a
    /// rank when they tie, so a tie across a band's boundary (two entrants tied for
    /// 3rd when 3rd is the last second prize) gives every one of them the better
    /// tier; with `competition` ranks the tie also uses up the places after it (the
    /// next entrant is 5th), so no extra prize is created further down.
    Rank { bands: Vec<RankBand> },
    /// By a list the organiser (a jury) decides, in any order of rank.
    List { awards: Vec<ListedAward> },
}

impl AwardRules {
    /// Every problem with the rules. Bands: `from_rank` 1 to [`MAX_AWARD_RANK`]
    /// (`out_of_range`), `to_rank` not before it (`before_from_rank`) nor beyond the
    /// maximum, no two bands covering the same rank (`overlaps`), and a better range of
    /// ranks never given a lesser tier (`tier_order`). List: no entrant twice
    /// (`duplicate`). Both: an honour title, if given, not blank (`required`) nor
    /// `too_long`. No rules at all is fine: nobody wins a prize.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        match self {
            AwardRules::Rank { bands } => {
                for (i, band) in bands.iter().enumerate() {
                    let at = |field: &str| format!("/bands/{i}/{field}");
                    let well_formed = if !(1..=MAX_AWARD_RANK).contains(&band.from_rank) {
                        problems.push(FieldProblem::new(
                            at("from_rank"),
                            "out_of_range",
                            format!("must be 1 to {MAX_AWARD_RANK}, not {}", band.from_rank),
                        ));
                        false
                    } else if band.to_rank < band.from_rank {
                        problems.push(FieldProblem::new(
                            at("to_rank"),
                            "before_from_rank",
                            format!(
                                "to_rank ({}) must not be before from_rank ({})",
                                band.to_rank, band.from_rank
                            ),
                        ));
                        false
                    } else if band.to_rank > MAX_AWARD_RANK {
                        problems.push(FieldProblem::new(
                            at("to_rank"),
                            "out_of_range",
                            format!("must be at most {MAX_AWARD_RANK}, not {}", band.to_rank),
                        ));
                        false
                    } else {
                        true
                    };
                    if well_formed {
                        band_against_earlier(&mut problems, i, band, &bands[..i]);
                    }
                    check_title(&mut problems, at("honour_title"), &band.honour_title);
                }
            }
            AwardRules::List { awards } => {
                for (i, award) in awards.iter().enumerate() {
                    if awards[..i].iter().any(|a| a.entrant_id == award.entrant_id) {
                        problems.push(FieldProblem::new(
                            format!("/awards/{i}/entrant_id"),
                            "duplicate",
                            format!("{} is listed twice", award.entrant_id),
                        ));
                    }
                    check_title(
                        &mut problems,
                        format!("/awards/{i}/honour_title"),
                        &award.honour_title,
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// Overlap and tier order of band `i` against the well-formed bands before it.
fn band_against_earlier(
    problems: &mut Vec<FieldProblem>,
    i: usize,
    band: &RankBand,
    earlier: &[RankBand],
) {
    let well_formed =
        |b: &&RankBand| 1 <= b.from_rank && b.from_rank <= b.to_rank && b.to_rank <= MAX_AWARD_RANK;
    for (j, other) in earlier.iter().enumerate().filter(|(_, b)| well_formed(b)) {
        if band.from_rank <= other.to_rank && other.from_rank <= band.to_rank {
            problems.push(FieldProblem::new(
                format!("/bands/{i}"),
                "overlaps",
                format!(
                    "ranks {}–{} overlap band {j} ({}–{})",
                    band.from_rank, band.to_rank, other.from_rank, other.to_rank
                ),
            ));
        } else {
            let (better, lesser) = if band.to_rank < other.from_rank {
                (band, other)
            } else {
                (other, band)
            };
            if better.tier.standing() > lesser.tier.standing() {
                problems.push(FieldProblem::new(
                    format!("/bands/{i}/tier"),
                    "tier_order",
                    format!(
                        "ranks {}–{} would win {} but the lower ranks {}–{} {}",
                        better.from_rank,
                        better.to_rank,
                        better.tier,
                        lesser.from_rank,
                        lesser.to_rank,
                        lesser.tier
                    ),
                ));
            }
        }
    }
}

fn check_title(problems: &mut Vec<FieldProblem>, pointer: String, title: &Option<String>) {
    match title {
        Some(t) if t.trim().is_empty() => problems.push(FieldProblem::new(
            pointer,
            "required",
            "an honour title can't be blank; leave it out for none",
        )),
        Some(t) if t.chars().count() > MAX_HONOUR_TITLE_CHARS => problems.push(FieldProblem::new(
            pointer,
            "too_long",
            format!("at most {MAX_HONOUR_TITLE_CHARS} characters"),
        )),
        _ => {}
    }
}

/// A prize won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Award {
    pub entrant_id: Uuid,
    /// The entrant's rank when results were published.
    pub rank: u32,
    pub tier: PrizeTier,
    pub honour_title: Option<String>,
}

/// The prizes for the ranked entrants under `rules`, in rank order; entrants who win
/// nothing are left out. The rules are validated first, and a list naming someone who
/// isn't among `ranked` is refused (`/awards/<i>/entrant_id`, `not_an_entrant`), since
/// a prize for nobody is a typo.
pub fn assign_awards(
    ranked: &[Ranked],
    rules: &AwardRules,
) -> Result<Vec<Award>, Vec<FieldProblem>> {
    rules.validate()?;
    match rules {
        AwardRules::Rank { bands } => Ok(ranked
            .iter()
            .filter_map(|r| {
                bands
                    .iter()
                    .find(|b| (b.from_rank..=b.to_rank).contains(&r.rank))
                    .map(|b| Award {
                        entrant_id: r.id,
                        rank: r.rank,
                        tier: b.tier,
                        honour_title: b.honour_title.clone(),
                    })
            })
            .collect()),
        AwardRules::List { awards } => {
            let problems: Vec<FieldProblem> = awards
                .iter()
                .enumerate()
                .filter(|(_, a)| !ranked.iter().any(|r| r.id == a.entrant_id))
                .map(|(i, a)| {
                    FieldProblem::new(
                        format!("/awards/{i}/entrant_id"),
                        "not_an_entrant",
                        format!(
                            "{} is not a ranked entrant of this competition",
                            a.entrant_id
                        ),
                    )
                })
                .collect();
            if !problems.is_empty() {
                return Err(problems);
            }
            Ok(ranked
                .iter()
                .filter_map(|r| {
                    awards.iter().find(|a| a.entrant_id == r.id).map(|a| Award {
                        entrant_id: r.id,
                        rank: r.rank,
                        tier: a.tier,
                        honour_title: a.honour_title.clone(),
                    })
                })
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::ranking::{Entry, RankKind, rank};
    use super::super::score::Score;
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn certificate_numbers_name_the_competition_and_the_place_not_the_tied_rank() {
        let id = Uuid::parse_str("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap();
        assert_eq!(certificate_number(id, 2026, 0), "UH-2026-0193A1B2-00001");
        assert_eq!(certificate_number(id, 2026, 1), "UH-2026-0193A1B2-00002");
        assert_ne!(
            certificate_number(id, 2026, 2),
            certificate_number(id, 2026, 3)
        );
    }

    #[test]
    fn certificate_titles_join_what_was_awarded() {
        assert_eq!(
            certificate_title("天工杯", Some(PrizeTier::First), Some("江西省技术能手")),
            "天工杯 一等奖 江西省技术能手"
        );
        assert_eq!(
            certificate_title("天工杯", Some(PrizeTier::Excellence), None),
            "天工杯 优秀奖"
        );
        assert_eq!(
            certificate_title("天工杯", None, Some("江西省技术能手")),
            "天工杯 江西省技术能手"
        );
    }

    fn band(from_rank: u32, to_rank: u32, tier: PrizeTier) -> RankBand {
        RankBand {
            from_rank,
            to_rank,
            tier,
            honour_title: None,
        }
    }

    /// 1 first, 2–3 second, 4–6 third, 7–20 excellence; first place is also a
    /// provincial technical expert.
    fn standard() -> AwardRules {
        use PrizeTier::*;
        AwardRules::Rank {
            bands: vec![
                RankBand {
                    honour_title: Some("Provincial Technical Expert".to_owned()),
                    ..band(1, 1, First)
                },
                band(2, 3, Second),
                band(4, 6, Third),
                band(7, 20, Excellence),
            ],
        }
    }

    /// Entrants 1, 2, … with these points, ranked.
    fn ranked(points: &[i64], kind: RankKind) -> Vec<Ranked> {
        let entries: Vec<Entry> = points
            .iter()
            .enumerate()
            .map(|(i, &p)| Entry {
                id: Uuid::from_u128(i as u128 + 1),
                score: Score::from_points(p).unwrap(),
                criterion_scores: BTreeMap::new(),
                time_taken_ms: None,
                finished_at: None,
            })
            .collect();
        rank(&entries, kind, &[])
    }

    /// `(entrant, rank, tier)` for each award.
    fn prizes(awards: &[Award]) -> Vec<(u128, u32, PrizeTier)> {
        awards
            .iter()
            .map(|a| (a.entrant_id.as_u128(), a.rank, a.tier))
            .collect()
    }

    fn codes(rules: &AwardRules) -> Vec<(String, &'static str)> {
        rules
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect()
    }

    #[test]
    fn wire_names_round_trip() {
        for t in PrizeTier::ALL {
            assert_eq!(t.as_str().parse::<PrizeTier>(), Ok(*t));
        }
        let rules: AwardRules = serde_json::from_str(
            r#"{"by": "rank", "bands": [{"from_rank": 1, "to_rank": 1, "tier": "first",
                "honour_title": "Provincial Technical Expert"}]}"#,
        )
        .unwrap();
        assert_eq!(
            rules,
            AwardRules::Rank {
                bands: vec![RankBand {
                    honour_title: Some("Provincial Technical Expert".to_owned()),
                    ..band(1, 1, PrizeTier::First)
                }]
            }
        );
        let list: AwardRules = serde_json::from_str(
            r#"{"by": "list", "awards": [{"entrant_id": "00000000-0000-0000-0000-000000000001",
                "tier": "excellence"}]}"#,
        )
        .unwrap();
        assert_eq!(
            list,
            AwardRules::List {
                awards: vec![ListedAward {
                    entrant_id: Uuid::from_u128(1),
                    tier: PrizeTier::Excellence,
                    honour_title: None
                }]
            }
        );
        assert!(serde_json::from_str::<AwardRules>(r#"{"by": "lottery"}"#).is_err());
    }

    #[test]
    fn bands_give_prizes_by_rank() {
        use PrizeTier::*;
        let points: Vec<i64> = (0..25).map(|i| 100 - i).collect();
        let awards = assign_awards(&ranked(&points, RankKind::Competition), &standard()).unwrap();
        assert_eq!(awards.len(), 20);
        assert_eq!(
            prizes(&awards[..4]),
            vec![(1, 1, First), (2, 2, Second), (3, 3, Second), (4, 4, Third)]
        );
        assert_eq!(prizes(&awards[19..]), vec![(20, 20, Excellence)]);
        assert_eq!(
            awards[0].honour_title.as_deref(),
            Some("Provincial Technical Expert")
        );
        assert_eq!(awards[1].honour_title, None);
    }

    #[test]
    fn a_tie_across_a_boundary_shares_the_better_tier() {
        use PrizeTier::*;
        // Entrants 3 and 4 tie for 3rd, the last second prize: both win second. With
        // competition ranks the next entrant is 5th, so only two third prizes remain.
        let points = [100, 95, 90, 90, 85, 80, 75, 70];
        let competition =
            assign_awards(&ranked(&points, RankKind::Competition), &standard()).unwrap();
        assert_eq!(
            prizes(&competition),
            vec![
                (1, 1, First),
                (2, 2, Second),
                (3, 3, Second),
                (4, 3, Second),
                (5, 5, Third),
                (6, 6, Third),
                (7, 7, Excellence),
                (8, 8, Excellence),
            ]
        );
        // Dense ranks don't use places up: 85 is 4th and still third prize, as are
        // 80 and 75.
        let dense = assign_awards(&ranked(&points, RankKind::Dense), &standard()).unwrap();
        assert_eq!(
            prizes(&dense),
            vec![
                (1, 1, First),
                (2, 2, Second),
                (3, 3, Second),
                (4, 3, Second),
                (5, 4, Third),
                (6, 5, Third),
                (7, 6, Third),
                (8, 7, Excellence),
            ]
        );
    }

    #[test]
    fn a_tie_for_first_gives_two_first_prizes() {
        use PrizeTier::*;
        let points = [100, 100, 90, 80];
        let awards = assign_awards(&ranked(&points, RankKind::Competition), &standard()).unwrap();
        assert_eq!(
            prizes(&awards),
            vec![(1, 1, First), (2, 1, First), (3, 3, Second), (4, 4, Third),]
        );
        // A tie at the edge of the last band: all twenty-one tied for 20th win.
        let mut many: Vec<i64> = (0..19).map(|i| 100 - i).collect();
        many.extend([1, 1]);
        let awards = assign_awards(&ranked(&many, RankKind::Competition), &standard()).unwrap();
        assert_eq!(awards.len(), 21);
        assert_eq!(
            prizes(&awards[19..]),
            vec![(20, 20, Excellence), (21, 20, Excellence)]
        );
    }

    #[test]
    fn gaps_between_bands_win_nothing() {
        use PrizeTier::*;
        let rules = AwardRules::Rank {
            bands: vec![band(1, 1, First), band(3, 3, Third)],
        };
        let awards = assign_awards(&ranked(&[9, 8, 7, 6], RankKind::Dense), &rules).unwrap();
        assert_eq!(prizes(&awards), vec![(1, 1, First), (3, 3, Third)]);
        let nobody = AwardRules::Rank { bands: vec![] };
        assert_eq!(
            assign_awards(&ranked(&[9, 8], RankKind::Dense), &nobody),
            Ok(vec![])
        );
    }

    #[test]
    fn bands_must_be_well_formed_disjoint_and_in_tier_order() {
        use PrizeTier::*;
        assert_eq!(codes(&standard()), vec![]);
        let rules = AwardRules::Rank {
            bands: vec![
                band(0, 1, First),
                band(5, 4, Second),
                band(2, MAX_AWARD_RANK + 1, Second),
                band(2, 3, Second),
                band(3, 4, Third),
                band(10, 10, First),
                RankBand {
                    honour_title: Some(" ".to_owned()),
                    ..band(11, 11, Excellence)
                },
                RankBand {
                    honour_title: Some("t".repeat(MAX_HONOUR_TITLE_CHARS + 1)),
                    ..band(12, 12, Excellence)
                },
            ],
        };
        assert_eq!(
            codes(&rules),
            vec![
                ("/bands/0/from_rank".to_owned(), "out_of_range"),
                ("/bands/1/to_rank".to_owned(), "before_from_rank"),
                ("/bands/2/to_rank".to_owned(), "out_of_range"),
                ("/bands/4".to_owned(), "overlaps"),
                ("/bands/5/tier".to_owned(), "tier_order"),
                ("/bands/5/tier".to_owned(), "tier_order"),
                ("/bands/6/honour_title".to_owned(), "required"),
                ("/bands/7/honour_title".to_owned(), "too_long"),
            ]
        );
        // Bands may come in any order; tier order is by rank, not by position.
        let reversed = AwardRules::Rank {
            bands: vec![band(4, 6, Third), band(2, 3, Second), band(1, 1, First)],
        };
        assert_eq!(codes(&reversed), vec![]);
        let inverted = AwardRules::Rank {
            bands: vec![band(1, 1, Second), band(2, 2, First)],
        };
        assert_eq!(
            codes(&inverted),
            vec![("/bands/1/tier".to_owned(), "tier_order")]
        );
        assert!(assign_awards(&[], &inverted).is_err());
    }

    #[test]
    fn a_list_awards_exactly_whom_it_names() {
        use PrizeTier::*;
        let r = ranked(&[100, 90, 80, 70], RankKind::Competition);
        let rules = AwardRules::List {
            awards: vec![
                ListedAward {
                    entrant_id: Uuid::from_u128(3),
                    tier: First,
                    honour_title: Some("Model Worker".to_owned()),
                },
                ListedAward {
                    entrant_id: Uuid::from_u128(1),
                    tier: Excellence,
                    honour_title: None,
                },
            ],
        };
        let awards = assign_awards(&r, &rules).unwrap();
        assert_eq!(prizes(&awards), vec![(1, 1, Excellence), (3, 3, First)]);
        assert_eq!(awards[1].honour_title.as_deref(), Some("Model Worker"));

        let stranger = AwardRules::List {
            awards: vec![
                ListedAward {
                    entrant_id: Uuid::from_u128(1),
                    tier: First,
                    honour_title: None,
                },
                ListedAward {
                    entrant_id: Uuid::from_u128(99),
                    tier: Second,
                    honour_title: None,
                },
            ],
        };
        let problems = assign_awards(&r, &stranger).unwrap_err();
        assert_eq!(
            (problems[0].pointer.as_str(), problems[0].code),
            ("/awards/1/entrant_id", "not_an_entrant")
        );
        let twice = AwardRules::List {
            awards: vec![
                ListedAward {
                    entrant_id: Uuid::from_u128(1),
                    tier: First,
                    honour_title: None,
                },
                ListedAward {
                    entrant_id: Uuid::from_u128(1),
                    tier: Second,
                    honour_title: Some(String::new()),
                },
            ],
        };
        assert_eq!(
            codes(&twice),
            vec![
                ("/awards/1/entrant_id".to_owned(), "duplicate"),
                ("/awards/1/honour_title".to_owned(), "required"),
            ]
        );
    }
}

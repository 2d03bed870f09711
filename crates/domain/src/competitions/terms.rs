//! A competition's terms — everything the rules read — their checks, and whether a
//! member may register.

use super::judging::{Criterion, ScoringMethod, validate_criteria};
use super::lifecycle::{
    Applicant, CompetitionKind, CompetitionStatus, EntrantEligibility, RegistrationRefusal,
    Windows, eligible, has_room,
};
use super::ranking::{RankKind, TieBreak};
use crate::insurance::FieldProblem;
use crate::orgs::OrgPath;
use chrono::{DateTime, TimeDelta, Utc};

/// The most places a competition may offer: more than any province-wide quiz draws.
pub const MAX_CAPACITY: u32 = 1_000_000;

/// The longest tie-break chain; beyond a few links ties are genuine.
pub const MAX_TIE_BREAKS: usize = 5;

/// The longest a quiz attempt may last: a day.
pub const MAX_TIME_LIMIT_SECONDS: u32 = 24 * 60 * 60;

/// Everything about a competition the rules read. (Its id, name, organiser, trade and
/// status are storage's business.) The JSON pointers in [`CompetitionTerms::validate`]'s
/// problems assume a request body with these field names, the four window fields at
/// the top level and `eligibility` nested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompetitionTerms {
    pub kind: CompetitionKind,
    pub windows: Windows,
    /// Places, 1 to [`MAX_CAPACITY`]; None: no limit.
    pub capacity: Option<u32>,
    pub eligibility: EntrantEligibility,
    /// What judges score: 1 to [`MAX_CRITERIA`](super::MAX_CRITERIA) for skills and
    /// speech contests; none for a quiz.
    pub criteria: Vec<Criterion>,
    /// How judges' sheets become a score. A quiz scores itself and ignores it.
    pub scoring_method: ScoringMethod,
    pub rank_kind: RankKind,
    /// For judged contests, any of `criterion:<key>` (a key of `criteria`),
    /// `finish_time`, `time_taken`, each at most once. A quiz ranks by score then time
    /// taken, always ([`CompetitionTerms::ranking_tie_breaks`]), so it takes nothing
    /// but `time_taken` here.
    pub tie_breaks: Vec<TieBreak>,
    /// How long a quiz attempt may last, 1 to [`MAX_TIME_LIMIT_SECONDS`]: required for
    /// a quiz, absent for judged contests.
    pub time_limit_seconds: Option<u32>,
    /// Whether a judge may not score entrants from their own grassroots union
    /// ([`judge_conflicts`](super::judge_conflicts)). A quiz ignores it.
    pub exclude_own_union_judges: bool,
}

impl CompetitionTerms {
    /// Every problem with the terms: the windows', the eligibility filter's and the
    /// criteria's own, then
    ///
    /// - `/capacity`: `out_of_range`;
    /// - `/criteria`: none for a judged contest (`required`), any for a quiz
    ///   (`not_applicable`);
    /// - `/tie_breaks`: more than [`MAX_TIE_BREAKS`] (`too_many`); `/tie_breaks/<i>`: a
    ///   criterion that isn't one (`unknown_criterion`), a link given twice
    ///   (`duplicate`), anything but `time_taken` for a quiz (`not_applicable`);
    /// - `/time_limit_seconds`: missing for a quiz (`required`), out of range, or given
    ///   for a judged contest (`not_applicable`).
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if let Err(more) = self.windows.validate() {
            problems.extend(more);
        }
        if let Some(c) = self.capacity
            && !(1..=MAX_CAPACITY).contains(&c)
        {
            problems.push(FieldProblem::new(
                "/capacity",
                "out_of_range",
                format!("must be 1 to {MAX_CAPACITY}, not {c}; leave it out for no limit"),
            ));
        }
        if let Err(more) = self.eligibility.validate() {
            problems.extend(more);
        }

        let judged = self.kind.is_judged();
        if judged && self.criteria.is_empty() {
            problems.push(FieldProblem::new(
                "/criteria",
                "required",
                format!(
                    "a {} contest needs at least one criterion to judge",
                    self.kind
                ),
            ));
        } else if !judged && !self.criteria.is_empty() {
            problems.push(FieldProblem::new(
                "/criteria",
                "not_applicable",
                "a quiz is scored by its questions, not by judges' criteria",
            ));
        }
        if let Err(more) = validate_criteria(&self.criteria) {
            problems.extend(more);
        }

        if self.tie_breaks.len() > MAX_TIE_BREAKS {
            problems.push(FieldProblem::new(
                "/tie_breaks",
                "too_many",
                format!(
                    "at most {MAX_TIE_BREAKS} tie-breaks, not {}",
                    self.tie_breaks.len()
                ),
            ));
        }
        for (i, tie_break) in self.tie_breaks.iter().enumerate() {
            let at = format!("/tie_breaks/{i}");
            if !judged && *tie_break != TieBreak::TimeTaken {
                problems.push(FieldProblem::new(
                    at,
                    "not_applicable",
                    "a quiz ranks by score, then time taken",
                ));
            } else if let TieBreak::Criterion(key) = tie_break
                && !self.criteria.iter().any(|c| &c.key == key)
            {
                problems.push(FieldProblem::new(
                    at,
                    "unknown_criterion",
                    format!("{key} is not one of this competition's criteria"),
                ));
            } else if self.tie_breaks[..i].contains(tie_break) {
                problems.push(FieldProblem::new(
                    at,
                    "duplicate",
                    format!("{tie_break} is given twice"),
                ));
            }
        }

        match (judged, self.time_limit_seconds) {
            (false, None) => problems.push(FieldProblem::new(
                "/time_limit_seconds",
                "required",
                "a quiz needs a time limit",
            )),
            (false, Some(s)) if !(1..=MAX_TIME_LIMIT_SECONDS).contains(&s) => {
                problems.push(FieldProblem::new(
                    "/time_limit_seconds",
                    "out_of_range",
                    format!("must be 1 to {MAX_TIME_LIMIT_SECONDS} seconds, not {s}"),
                ))
            }
            (true, Some(_)) => problems.push(FieldProblem::new(
                "/time_limit_seconds",
                "not_applicable",
                format!("a {} contest has no attempts to time", self.kind),
            )),
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// A quiz attempt's time limit.
    pub fn time_limit(&self) -> Option<TimeDelta> {
        self.time_limit_seconds
            .map(|s| TimeDelta::seconds(i64::from(s)))
    }

    /// The tie-break chain results are ranked by: the terms' own for a judged contest;
    /// `time_taken` for a quiz, as its leaderboard orders.
    pub fn ranking_tie_breaks(&self) -> Vec<TieBreak> {
        if self.kind.is_judged() {
            self.tie_breaks.clone()
        } else {
            vec![TieBreak::TimeTaken]
        }
    }
}

/// Whether `applicant` may register (themself, or by their union) as of `now`, with
/// `registered` current registrations: `not_open` unless the competition is in
/// `registration` and inside its window; then [`eligible`]'s reasons; then `full`. One
/// registration per member is storage's to enforce, as is capacity under concurrency
/// ([`has_room`] states the rule).
pub fn check_registration(
    terms: &CompetitionTerms,
    status: CompetitionStatus,
    organiser: &OrgPath,
    applicant: &Applicant<'_>,
    registered: u64,
    now: DateTime<Utc>,
) -> Result<(), RegistrationRefusal> {
    if status != CompetitionStatus::Registration || !terms.windows.registration_open(now) {
        return Err(RegistrationRefusal::NotOpen);
    }
    eligible(&terms.eligibility, organiser, applicant)?;
    if has_room(terms.capacity, registered) {
        Ok(())
    } else {
        Err(RegistrationRefusal::Full)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::judging::tests::criteria;
    use super::super::lifecycle::tests::windows;
    use super::*;
    use crate::ids::OrgId;
    use crate::members::{MemberStatus, Occupation};

    fn skills() -> CompetitionTerms {
        CompetitionTerms {
            kind: CompetitionKind::Skills,
            windows: windows(),
            capacity: Some(2),
            eligibility: EntrantEligibility::default(),
            criteria: criteria(),
            scoring_method: ScoringMethod::TrimmedMean,
            rank_kind: RankKind::Competition,
            tie_breaks: vec![
                TieBreak::Criterion("safety".to_owned()),
                TieBreak::FinishTime,
            ],
            time_limit_seconds: None,
            exclude_own_union_judges: true,
        }
    }

    fn quiz() -> CompetitionTerms {
        CompetitionTerms {
            kind: CompetitionKind::Quiz,
            capacity: None,
            criteria: vec![],
            scoring_method: ScoringMethod::Mean,
            tie_breaks: vec![],
            time_limit_seconds: Some(1_800),
            ..skills()
        }
    }

    fn codes(terms: &CompetitionTerms) -> Vec<(String, &'static str)> {
        terms
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect()
    }

    fn owned(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        list.iter().map(|(p, c)| ((*p).to_owned(), *c)).collect()
    }

    #[test]
    fn sound_terms_pass() {
        assert_eq!(skills().validate(), Ok(()));
        assert_eq!(quiz().validate(), Ok(()));
        let speech = CompetitionTerms {
            kind: CompetitionKind::Speech,
            ..skills()
        };
        assert_eq!(speech.validate(), Ok(()));
        assert_eq!(quiz().time_limit(), Some(TimeDelta::minutes(30)));
        assert_eq!(skills().time_limit(), None);
    }

    #[test]
    fn judged_contests_need_criteria_and_no_time_limit() {
        let mut t = skills();
        t.criteria.clear();
        t.tie_breaks = vec![TieBreak::TimeTaken];
        t.time_limit_seconds = Some(60);
        t.capacity = Some(0);
        assert_eq!(
            codes(&t),
            owned(&[
                ("/capacity", "out_of_range"),
                ("/criteria", "required"),
                ("/time_limit_seconds", "not_applicable"),
            ])
        );
    }

    #[test]
    fn tie_breaks_name_real_criteria_once() {
        let mut t = skills();
        t.tie_breaks = vec![
            TieBreak::Criterion("safety".to_owned()),
            TieBreak::Criterion("poise".to_owned()),
            TieBreak::Criterion("safety".to_owned()),
            TieBreak::TimeTaken,
            TieBreak::FinishTime,
            TieBreak::TimeTaken,
        ];
        assert_eq!(
            codes(&t),
            owned(&[
                ("/tie_breaks", "too_many"),
                ("/tie_breaks/1", "unknown_criterion"),
                ("/tie_breaks/2", "duplicate"),
                ("/tie_breaks/5", "duplicate"),
            ])
        );
        assert_eq!(t.ranking_tie_breaks(), t.tie_breaks);
    }

    #[test]
    fn a_quiz_needs_a_time_limit_and_ranks_by_time_taken() {
        let mut t = quiz();
        t.time_limit_seconds = None;
        t.criteria = criteria();
        t.tie_breaks = vec![TieBreak::TimeTaken, TieBreak::FinishTime];
        assert_eq!(
            codes(&t),
            owned(&[
                ("/criteria", "not_applicable"),
                ("/tie_breaks/1", "not_applicable"),
                ("/time_limit_seconds", "required"),
            ])
        );
        t = quiz();
        t.time_limit_seconds = Some(MAX_TIME_LIMIT_SECONDS + 1);
        assert_eq!(codes(&t), owned(&[("/time_limit_seconds", "out_of_range")]));
        t.time_limit_seconds = Some(0);
        assert_eq!(codes(&t), owned(&[("/time_limit_seconds", "out_of_range")]));
        assert_eq!(quiz().ranking_tie_breaks(), vec![TieBreak::TimeTaken]);
    }

    #[test]
    fn every_part_reports_its_problems() {
        let mut t = skills();
        t.windows.run_ends = t.windows.run_starts;
        t.eligibility.occupations = Some(vec![]);
        t.criteria[1].weight_bp = 0;
        assert_eq!(
            codes(&t),
            owned(&[
                ("/run_ends", "not_after_start"),
                ("/eligibility/occupations", "empty"),
                ("/criteria/1/weight_bp", "out_of_range"),
            ])
        );
    }

    #[test]
    fn registration_needs_the_status_the_window_eligibility_and_room() {
        let terms = skills();
        let w = terms.windows;
        let organiser = OrgPath::root(OrgId::new());
        let union = organiser.child(OrgId::new());
        let member = Applicant {
            status: MemberStatus::Active,
            occupation: Occupation::FactoryWorker,
            union_path: &union,
        };
        let open = w.registration_opens;
        let reg = CompetitionStatus::Registration;
        assert_eq!(
            check_registration(&terms, reg, &organiser, &member, 1, open),
            Ok(())
        );
        assert_eq!(
            check_registration(&terms, reg, &organiser, &member, 2, open),
            Err(RegistrationRefusal::Full)
        );
        assert_eq!(
            check_registration(&terms, reg, &organiser, &member, 0, w.registration_closes),
            Err(RegistrationRefusal::NotOpen)
        );
        assert_eq!(
            check_registration(
                &terms,
                CompetitionStatus::Draft,
                &organiser,
                &member,
                0,
                open
            ),
            Err(RegistrationRefusal::NotOpen)
        );
        let lapsed = Applicant {
            status: MemberStatus::Lapsed,
            ..member
        };
        // Eligibility is reported before a full competition.
        assert_eq!(
            check_registration(&terms, reg, &organiser, &lapsed, 2, open),
            Err(RegistrationRefusal::NotActive)
        );
        let unlimited = quiz();
        assert_eq!(
            check_registration(&unlimited, reg, &organiser, &member, 999_999, open),
            Ok(())
        );
    }
}

//! A competition's kinds and statuses, the moves between statuses, its registration and
//! run windows, and who may register.

use crate::insurance::{FieldProblem, wire_enum};
use crate::members::{MemberStatus, Occupation};
use crate::orgs::OrgPath;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

wire_enum!(
    /// What is being contested.
    CompetitionKind {
        /// A skills contest (the "Tiangong Cup"): judges score each entrant's work.
        Skills => "skills",
        /// An online knowledge quiz: the machine scores each attempt.
        Quiz => "quiz",
        /// A speech contest: judges score each speech.
        Speech => "speech",
    }
);

impl CompetitionKind {
    /// Whether judges score it (skills and speech); a quiz scores itself.
    pub fn is_judged(self) -> bool {
        self != CompetitionKind::Quiz
    }
}

wire_enum!(
    /// Where a competition stands. See [`CompetitionStatus::can_move_to`].
    CompetitionStatus {
        /// Being set up; invisible to members.
        Draft => "draft",
        /// Members may register, within the registration window.
        Registration => "registration",
        /// Contested, within the run window: attempts start, judges may score.
        Running => "running",
        /// The run is over; judges finish and correct their scores.
        Judging => "judging",
        /// Final: scores are frozen and prizes assigned.
        ResultsPublished => "results_published",
    }
);

impl CompetitionStatus {
    /// Whether a competition of `kind` may move from this status to `to`: forward one
    /// step along `draft → registration → running → judging → results_published`, and
    /// for a quiz also `running → results_published`, since its scores are final the
    /// moment each attempt is submitted. (A quiz may still pass through `judging`, to
    /// hold results back while the organiser looks them over.) Nothing moves backwards:
    /// registrations, attempts and scores were made under the earlier phase's rules,
    /// and reopening it would let them change after others had seen the results.
    pub fn can_move_to(self, to: CompetitionStatus, kind: CompetitionKind) -> bool {
        use CompetitionStatus::*;
        matches!(
            (self, to),
            (Draft, Registration)
                | (Registration, Running)
                | (Running, Judging)
                | (Judging, ResultsPublished)
        ) || (kind == CompetitionKind::Quiz && self == Running && to == ResultsPublished)
    }

    /// Whether the status is final.
    pub fn is_final(self) -> bool {
        self == CompetitionStatus::ResultsPublished
    }

    /// Whether the criteria, the question bank and the terms that shape a paper may
    /// still change: only before the run. Papers are regenerated from the bank and the
    /// attempt's seed rather than stored, and judges' sheets are checked against the
    /// criteria, so either changing under a running competition would change answers
    /// and scores already given.
    pub fn setup_editable(self) -> bool {
        matches!(
            self,
            CompetitionStatus::Draft | CompetitionStatus::Registration
        )
    }

    /// Whether judges may enter or correct scores: while the contest runs (skills are
    /// often scored as each entrant finishes) and until the competition leaves
    /// `judging`. Publishing freezes them.
    pub fn accepts_scores(self) -> bool {
        matches!(
            self,
            CompetitionStatus::Running | CompetitionStatus::Judging
        )
    }
}

/// Why a status change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// Not a step the lifecycle has (see [`CompetitionStatus::can_move_to`]).
    #[error("a {kind} competition can't move from {from} to {to}")]
    NotAllowed {
        kind: CompetitionKind,
        from: CompetitionStatus,
        to: CompetitionStatus,
    },
    /// Leaving `running` before the run window has closed.
    #[error("the run ends at {run_ends}; it can't be judged or published before then")]
    RunNotOver { run_ends: DateTime<Utc> },
}

impl TransitionError {
    /// A stable machine-readable code for API error details.
    pub fn code(self) -> &'static str {
        match self {
            TransitionError::NotAllowed { .. } => "transition_not_allowed",
            TransitionError::RunNotOver { .. } => "run_not_over",
        }
    }
}

/// Whether the competition may move from `from` to `to` as of `now`: a step the
/// lifecycle has, and, when leaving `running`, not before the run window has closed, so
/// that no attempt or performance still under way is cut short (an organiser who must
/// end early moves `run_ends` first, which every open attempt's deadline follows).
pub fn check_transition(
    from: CompetitionStatus,
    to: CompetitionStatus,
    kind: CompetitionKind,
    windows: &Windows,
    now: DateTime<Utc>,
) -> Result<(), TransitionError> {
    if !from.can_move_to(to, kind) {
        Err(TransitionError::NotAllowed { kind, from, to })
    } else if from == CompetitionStatus::Running && !windows.run_over(now) {
        Err(TransitionError::RunNotOver {
            run_ends: windows.run_ends,
        })
    } else {
        Ok(())
    }
}

/// When members may register and when the competition runs. Each window is half-open,
/// `[opens, closes)`; registration closes no later than the run starts, so everyone
/// who registered knows the field before anyone competes, and withdrawals (allowed
/// until the run starts) can't race the first attempt.
///
/// The JSON pointers in [`Windows::validate`]'s problems assume the four fields sit at
/// the top of the competition's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Windows {
    pub registration_opens: DateTime<Utc>,
    pub registration_closes: DateTime<Utc>,
    pub run_starts: DateTime<Utc>,
    pub run_ends: DateTime<Utc>,
}

impl Windows {
    /// Every problem with the windows: each must be non-empty, and registration must
    /// close no later than the run starts. Codes: `not_after_start`,
    /// `overlaps_registration`.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if self.registration_closes <= self.registration_opens {
            problems.push(FieldProblem::new(
                "/registration_closes",
                "not_after_start",
                format!(
                    "registration_closes ({}) must be after registration_opens ({})",
                    self.registration_closes, self.registration_opens
                ),
            ));
        }
        if self.run_starts < self.registration_closes {
            problems.push(FieldProblem::new(
                "/run_starts",
                "overlaps_registration",
                format!(
                    "run_starts ({}) must not be before registration_closes ({})",
                    self.run_starts, self.registration_closes
                ),
            ));
        }
        if self.run_ends <= self.run_starts {
            problems.push(FieldProblem::new(
                "/run_ends",
                "not_after_start",
                format!(
                    "run_ends ({}) must be after run_starts ({})",
                    self.run_ends, self.run_starts
                ),
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether `now` is within the registration window: from its opening, inclusive,
    /// to its close, exclusive.
    pub fn registration_open(&self, now: DateTime<Utc>) -> bool {
        self.registration_opens <= now && now < self.registration_closes
    }

    /// Whether `now` is within the run window: from its start, inclusive, to its end,
    /// exclusive.
    pub fn run_open(&self, now: DateTime<Utc>) -> bool {
        self.run_starts <= now && now < self.run_ends
    }

    /// Whether the run window has closed.
    pub fn run_over(&self, now: DateTime<Utc>) -> bool {
        now >= self.run_ends
    }
}

/// Who may enter, beyond membership of the organiser's subtree (which always applies).
/// The JSON pointers in [`EntrantEligibility::validate`] assume it is nested in the
/// competition's body as `eligibility`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct EntrantEligibility {
    /// The occupations admitted (a delivery riders' skills contest). Absent: any. An
    /// empty list is refused, since it would admit nobody.
    pub occupations: Option<Vec<Occupation>>,
}

impl EntrantEligibility {
    /// Every problem with the filter: an empty list (`empty`), an occupation named
    /// twice (`duplicate`).
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if let Some(list) = &self.occupations {
            if list.is_empty() {
                problems.push(FieldProblem::new(
                    "/eligibility/occupations",
                    "empty",
                    "an empty list would admit nobody; leave it out to admit every occupation",
                ));
            }
            for (i, occupation) in list.iter().enumerate() {
                if list[..i].contains(occupation) {
                    problems.push(FieldProblem::new(
                        format!("/eligibility/occupations/{i}"),
                        "duplicate",
                        format!("{} is listed twice", occupation.as_str()),
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether a member with this occupation passes the filter.
    pub fn admits(&self, occupation: Occupation) -> bool {
        self.occupations
            .as_ref()
            .is_none_or(|list| list.contains(&occupation))
    }
}

wire_enum!(
    /// Why a member can't register, in the order [`check_registration`](super::check_registration)
    /// checks.
    RegistrationRefusal {
        /// The competition isn't taking registrations: not in `registration`, or
        /// outside the registration window.
        NotOpen => "not_open",
        /// The member's union isn't in the organiser's subtree.
        OutsideOrganiser => "outside_organiser",
        /// The membership isn't `active`.
        NotActive => "not_active",
        /// The occupation filter excludes them.
        NotEligible => "not_eligible",
        /// Every place is taken.
        Full => "full",
    }
);

/// The member asking to register (or being registered by their union), as storage
/// knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applicant<'a> {
    pub status: MemberStatus,
    pub occupation: Occupation,
    /// The path of the member's own (grassroots) union.
    pub union_path: &'a OrgPath,
}

/// Whether `applicant` may enter a competition organised at `organiser` with these
/// rules, judged on the member alone: `outside_organiser`, then `not_active`, then
/// `not_eligible`. A competition is for the organiser's subtree — a city federation's
/// contest is for that city's unions — so the subtree comes first.
pub fn eligible(
    rules: &EntrantEligibility,
    organiser: &OrgPath,
    applicant: &Applicant<'_>,
) -> Result<(), RegistrationRefusal> {
    if !organiser.contains(applicant.union_path) {
        Err(RegistrationRefusal::OutsideOrganiser)
    } else if applicant.status != MemberStatus::Active {
        Err(RegistrationRefusal::NotActive)
    } else if !rules.admits(applicant.occupation) {
        Err(RegistrationRefusal::NotEligible)
    } else {
        Ok(())
    }
}

/// Whether one more registration fits: `registered` counts the competition's current
/// (not withdrawn) registrations; no capacity means no limit. Under concurrency the
/// database enforces this in its conditional insert; this states the rule.
pub fn has_room(capacity: Option<u32>, registered: u64) -> bool {
    capacity.is_none_or(|c| registered < u64::from(c))
}

/// Whether an entrant may withdraw: while registrations are open or the competition
/// has moved to `running` early, but only before the run starts. After that their
/// place and any attempt stand.
pub fn may_withdraw(status: CompetitionStatus, windows: &Windows, now: DateTime<Utc>) -> bool {
    matches!(
        status,
        CompetitionStatus::Registration | CompetitionStatus::Running
    ) && now < windows.run_starts
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ids::OrgId;
    use chrono::{TimeDelta, TimeZone};

    pub(crate) fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
    }

    /// Registration through May, the run on 1 June from 09:00 to 11:00 UTC.
    pub(crate) fn windows() -> Windows {
        Windows {
            registration_opens: utc(2026, 5, 1, 0, 0),
            registration_closes: utc(2026, 6, 1, 0, 0),
            run_starts: utc(2026, 6, 1, 9, 0),
            run_ends: utc(2026, 6, 1, 11, 0),
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for k in CompetitionKind::ALL {
            assert_eq!(k.as_str().parse::<CompetitionKind>(), Ok(*k));
            assert_eq!(k.to_string(), k.as_str());
        }
        for s in CompetitionStatus::ALL {
            assert_eq!(s.as_str().parse::<CompetitionStatus>(), Ok(*s));
        }
        for r in RegistrationRefusal::ALL {
            assert_eq!(r.as_str().parse::<RegistrationRefusal>(), Ok(*r));
        }
        assert_eq!(
            serde_json::to_string(&CompetitionStatus::ResultsPublished).unwrap(),
            "\"results_published\""
        );
        assert!(CompetitionKind::Skills.is_judged());
        assert!(CompetitionKind::Speech.is_judged());
        assert!(!CompetitionKind::Quiz.is_judged());
    }

    #[test]
    fn statuses_move_forward_one_step_and_quizzes_may_skip_judging() {
        use CompetitionStatus::*;
        let chain = [Draft, Registration, Running, Judging, ResultsPublished];
        for kind in CompetitionKind::ALL.iter().copied() {
            for (i, from) in chain.iter().copied().enumerate() {
                for (j, to) in chain.iter().copied().enumerate() {
                    let skip =
                        kind == CompetitionKind::Quiz && from == Running && to == ResultsPublished;
                    assert_eq!(
                        from.can_move_to(to, kind),
                        j == i + 1 || skip,
                        "{kind}: {from} → {to}"
                    );
                }
            }
        }
        assert!(!Running.can_move_to(ResultsPublished, CompetitionKind::Skills));
        assert!(!Running.can_move_to(ResultsPublished, CompetitionKind::Speech));
        assert!(Running.can_move_to(Judging, CompetitionKind::Quiz));
        assert!(ResultsPublished.is_final());
        assert!(Draft.setup_editable() && Registration.setup_editable());
        assert!(!Running.setup_editable());
        assert!(Running.accepts_scores() && Judging.accepts_scores());
        assert!(!ResultsPublished.accepts_scores() && !Registration.accepts_scores());
    }

    #[test]
    fn leaving_running_waits_for_the_run_to_end() {
        use CompetitionStatus::*;
        let w = windows();
        let during = w.run_ends - TimeDelta::seconds(1);
        let err = check_transition(Running, Judging, CompetitionKind::Skills, &w, during);
        assert_eq!(
            err,
            Err(TransitionError::RunNotOver {
                run_ends: w.run_ends
            })
        );
        assert_eq!(err.unwrap_err().code(), "run_not_over");
        assert_eq!(
            check_transition(Running, Judging, CompetitionKind::Skills, &w, w.run_ends),
            Ok(())
        );
        assert_eq!(
            check_transition(
                Running,
                ResultsPublished,
                CompetitionKind::Quiz,
                &w,
                w.run_ends
            ),
            Ok(())
        );
        // Entering running early is fine: attempts still wait for the window.
        assert_eq!(
            check_transition(
                Registration,
                Running,
                CompetitionKind::Quiz,
                &w,
                w.registration_opens
            ),
            Ok(())
        );
        let back = check_transition(Judging, Running, CompetitionKind::Speech, &w, w.run_ends);
        assert_eq!(
            back,
            Err(TransitionError::NotAllowed {
                kind: CompetitionKind::Speech,
                from: Judging,
                to: Running
            })
        );
        assert_eq!(
            back.unwrap_err().to_string(),
            "a speech competition can't move from judging to running"
        );
    }

    #[test]
    fn windows_are_half_open() {
        let w = windows();
        let second = TimeDelta::seconds(1);
        assert!(!w.registration_open(w.registration_opens - second));
        assert!(w.registration_open(w.registration_opens));
        assert!(w.registration_open(w.registration_closes - second));
        assert!(!w.registration_open(w.registration_closes));
        assert!(!w.run_open(w.run_starts - second));
        assert!(w.run_open(w.run_starts));
        assert!(w.run_open(w.run_ends - second));
        assert!(!w.run_open(w.run_ends));
        assert!(!w.run_over(w.run_ends - second));
        assert!(w.run_over(w.run_ends));
    }

    #[test]
    fn windows_must_be_ordered_and_non_empty() {
        assert_eq!(windows().validate(), Ok(()));
        // Registration may close exactly when the run starts.
        let mut touching = windows();
        touching.registration_closes = touching.run_starts;
        assert_eq!(touching.validate(), Ok(()));

        let mut empty = windows();
        empty.registration_closes = empty.registration_opens;
        empty.run_ends = empty.run_starts;
        let codes: Vec<_> = empty
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("/registration_closes".to_owned(), "not_after_start"),
                ("/run_ends".to_owned(), "not_after_start"),
            ]
        );

        let mut overlapping = windows();
        overlapping.run_starts = overlapping.registration_closes - TimeDelta::seconds(1);
        let problems = overlapping.validate().unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pointer, "/run_starts");
        assert_eq!(problems[0].code, "overlaps_registration");
    }

    #[test]
    fn eligibility_needs_the_subtree_an_active_membership_and_the_occupation() {
        let province = OrgPath::root(OrgId::new());
        let city = province.child(OrgId::new());
        let union = city.child(OrgId::new());
        let elsewhere = OrgPath::root(OrgId::new()).child(OrgId::new());
        let riders = EntrantEligibility {
            occupations: Some(vec![Occupation::DeliveryRider, Occupation::Courier]),
        };
        let rider = Applicant {
            status: MemberStatus::Active,
            occupation: Occupation::DeliveryRider,
            union_path: &union,
        };
        assert_eq!(eligible(&riders, &city, &rider), Ok(()));
        assert_eq!(eligible(&riders, &union, &rider), Ok(()));
        let outsider = Applicant {
            union_path: &elsewhere,
            status: MemberStatus::Lapsed,
            ..rider
        };
        assert_eq!(
            eligible(&riders, &city, &outsider),
            Err(RegistrationRefusal::OutsideOrganiser)
        );
        let lapsed = Applicant {
            status: MemberStatus::Lapsed,
            occupation: Occupation::Other,
            ..rider
        };
        assert_eq!(
            eligible(&riders, &city, &lapsed),
            Err(RegistrationRefusal::NotActive)
        );
        let driver = Applicant {
            occupation: Occupation::TruckDriver,
            ..rider
        };
        assert_eq!(
            eligible(&riders, &city, &driver),
            Err(RegistrationRefusal::NotEligible)
        );
        assert_eq!(
            eligible(&EntrantEligibility::default(), &province, &driver),
            Ok(())
        );
    }

    #[test]
    fn an_occupation_filter_must_admit_someone_once() {
        assert_eq!(EntrantEligibility::default().validate(), Ok(()));
        let empty = EntrantEligibility {
            occupations: Some(vec![]),
        };
        assert_eq!(empty.validate().unwrap_err()[0].code, "empty");
        let twice = EntrantEligibility {
            occupations: Some(vec![Occupation::Courier, Occupation::Courier]),
        };
        let problems = twice.validate().unwrap_err();
        assert_eq!(problems[0].pointer, "/eligibility/occupations/1");
        assert_eq!(problems[0].code, "duplicate");
        assert_eq!(
            serde_json::from_str::<EntrantEligibility>(r#"{"occupations":["courier"]}"#).unwrap(),
            EntrantEligibility {
                occupations: Some(vec![Occupation::Courier])
            }
        );
    }

    #[test]
    fn capacity_counts_current_registrations() {
        assert!(has_room(None, u64::MAX));
        assert!(has_room(Some(3), 2));
        assert!(!has_room(Some(3), 3));
        assert!(!has_room(Some(0), 0));
    }

    #[test]
    fn withdrawals_close_when_the_run_starts() {
        use CompetitionStatus::*;
        let w = windows();
        let before = w.run_starts - TimeDelta::seconds(1);
        assert!(may_withdraw(Registration, &w, before));
        assert!(may_withdraw(Running, &w, before));
        assert!(!may_withdraw(Running, &w, w.run_starts));
        assert!(!may_withdraw(Draft, &w, before));
        assert!(!may_withdraw(Judging, &w, before));
    }
}

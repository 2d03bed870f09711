//! Competitions: skills contests and speech contests scored by judges, online knowledge
//! quizzes scored by the machine, how entrants are ranked, and which prize each one wins.
//!
//! Conventions the rest of the service relies on:
//!
//! - **Lifecycle.** A competition moves `draft → registration → running → judging →
//!   results_published`, one step at a time and never back; a quiz, which has nothing to
//!   judge, may also go straight from `running` to `results_published`
//!   ([`CompetitionStatus::can_move_to`]). Status says what phase an admin has opened;
//!   the [`Windows`] say when: registering needs both the `registration` status and the
//!   registration window, an attempt both `running` and the run window.
//! - **Windows** are half-open, `[opens, closes)`, in UTC, and follow one another:
//!   registration closes no later than the run starts.
//! - **Two scales of score.** Judges enter hundredths of a point (`i64`, e.g. `8750` is
//!   87.50 points). Everything computed from them — means, trimmed means, weighted sums —
//!   is a [`Score`], ten-thousandths of a point in an `i64`, computed as an exact
//!   fraction and rounded **once**, half up, at the end. There are no floats anywhere.
//! - **Weights** are basis points, `10_000` being a weight of 1; only the
//!   [`ScoringMethod::WeightedSum`] reads them (the criteria's maxima already say how much
//!   each counts in a plain total).
//! - **Ranks** are shared by entrants still tied after every tie-break, numbered
//!   `competition` (1-2-2-4) or `dense` (1-2-2-3) ([`RankKind`]); an entrant tied into a
//!   rank wins that rank's prize, so ties at a boundary share the better tier.
//! - **Answer secrecy.** A [`PaperQuestion`] — what an entrant sees — has no field that
//!   could carry the answer. Papers are regenerated, never stored: question order,
//!   option order and option keys all follow from the attempt's seed ([`paper_seed`]).
//! - **Problems.** Validation problems are the insurance module's [`FieldProblem`], so
//!   the API maps them alike (422); refusals of an action are small wire enums
//!   ([`RegistrationRefusal`]) or errors that name the state at fault.
//! - **Concurrency** is the database's: one registration and one attempt per member and
//!   the capacity are enforced there; [`has_room`] states the capacity rule for its
//!   conditional insert and for tests.

mod awards;
mod judging;
mod lifecycle;
mod quiz;
mod ranking;
mod score;
mod terms;

pub use crate::insurance::FieldProblem;
pub use awards::{
    Award, AwardRules, ListedAward, MAX_AWARD_RANK, MAX_HONOUR_TITLE_CHARS, PrizeTier, RankBand,
    assign_awards, certificate_number, certificate_title,
};
pub use judging::{
    Aggregate, AggregateError, Criterion, MAX_CRITERIA, MAX_CRITERION_KEY_CHARS,
    MAX_CRITERION_NAME_CHARS, MAX_SCORE_HUNDREDTHS, MAX_WEIGHT_BP, ScoreSheet, ScoringMethod,
    WEIGHT_ONE_BP, aggregate, judge_conflicts, validate_criteria,
};
pub use lifecycle::{
    Applicant, CompetitionKind, CompetitionStatus, EntrantEligibility, RegistrationRefusal,
    TransitionError, Windows, check_transition, eligible, has_room, may_withdraw,
};
pub use quiz::{
    MAX_OPTION_CHARS, MAX_OPTIONS, MAX_PROMPT_CHARS, MAX_QUESTION_POINTS, PaperOption,
    PaperQuestion, Question, QuestionKind, QuizScore, SUBMISSION_GRACE, accepts_submission,
    attempts_open, check_answers, deadline, paper_seed, score_answers, shuffled_paper,
    time_taken_ms,
};
pub use ranking::{Entry, LeaderboardKey, RankKind, Ranked, TieBreak, leaderboard_rank, rank};
pub use score::{SCORE_SCALE, Score};
pub use terms::{
    CompetitionTerms, MAX_CAPACITY, MAX_TIE_BREAKS, MAX_TIME_LIMIT_SECONDS, check_registration,
};

/// `key` as one JSON Pointer reference token (RFC 6901): `~` becomes `~0` and `/`
/// becomes `~1`, so a criterion key or answer key a client made up can't point
/// somewhere else.
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_escape_tilde_before_slash() {
        assert_eq!(pointer_token("technique"), "technique");
        assert_eq!(pointer_token("a/b~c"), "a~1b~0c");
        assert_eq!(pointer_token("~1"), "~01");
    }
}

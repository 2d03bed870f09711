//! Online knowledge quizzes: questions and their checks, the shuffled paper an entrant
//! sees (which cannot carry an answer), scoring a submission, and the deadline.
//!
//! A paper is never stored. Question order, option order and the option keys follow
//! from the question bank and a seed taken from the attempt's id ([`paper_seed`]), so
//! the server regenerates the same paper to score the submission, and 300,000 attempts
//! cost no paper storage. The bank is frozen once the run starts
//! ([`CompetitionStatus::setup_editable`](super::CompetitionStatus::setup_editable)), and
//! the shuffle below must never change while attempts are open: both would change
//! which option a key means.

use super::lifecycle::{CompetitionStatus, Windows};
use super::pointer_token;
use crate::insurance::{FieldProblem, wire_enum};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

wire_enum!(
    /// How a question is answered.
    QuestionKind {
        /// Exactly one option is correct; the entrant picks one.
        SingleChoice => "single_choice",
        /// One or more options are correct; the entrant must pick exactly those.
        MultipleChoice => "multiple_choice",
        /// Two options (true, false), one correct.
        TrueFalse => "true_false",
    }
);

/// The most options a question may have: `A` to `H`.
pub const MAX_OPTIONS: usize = 8;
/// The most points one question may be worth; the least is 1.
pub const MAX_QUESTION_POINTS: u32 = 100;
pub const MAX_PROMPT_CHARS: usize = 2_000;
pub const MAX_OPTION_CHARS: usize = 500;

/// The keys an entrant answers with, by the option's position on their paper.
const OPTION_KEYS: [&str; MAX_OPTIONS] = ["A", "B", "C", "D", "E", "F", "G", "H"];

/// A question in a quiz's bank, with its answer: only admins ever see this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    pub id: Uuid,
    pub kind: QuestionKind,
    pub prompt: String,
    /// In the order the admin wrote them.
    pub options: Vec<String>,
    /// Indexes into `options` of the correct ones.
    pub correct: Vec<usize>,
    /// 1 to [`MAX_QUESTION_POINTS`].
    pub points: u32,
}

impl Question {
    /// Every problem with the question, pointing into its body:
    ///
    /// - `/prompt`: blank (`required`) or `too_long`;
    /// - `/options`: fewer than 2 (`too_few`) or more than [`MAX_OPTIONS`] (`too_many`);
    ///   true/false takes exactly 2;
    /// - `/options/<i>`: blank (`required`), `too_long`, or the same text as an earlier
    ///   option, ignoring surrounding spaces (`duplicate`), which no entrant could tell
    ///   apart;
    /// - `/correct`: none (`required`), or more than one for single choice and
    ///   true/false (`exactly_one`); `/correct/<i>`: not an option's index
    ///   (`out_of_range`) or listed twice (`duplicate`);
    /// - `/points`: `out_of_range`.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if self.prompt.trim().is_empty() {
            problems.push(FieldProblem::new(
                "/prompt",
                "required",
                "a prompt is required",
            ));
        } else if self.prompt.chars().count() > MAX_PROMPT_CHARS {
            problems.push(FieldProblem::new(
                "/prompt",
                "too_long",
                format!("at most {MAX_PROMPT_CHARS} characters"),
            ));
        }

        let (fewest, most) = match self.kind {
            QuestionKind::TrueFalse => (2, 2),
            QuestionKind::SingleChoice | QuestionKind::MultipleChoice => (2, MAX_OPTIONS),
        };
        let count = self.options.len();
        if count < fewest || count > most {
            let detail = if fewest == most {
                format!(
                    "a {} question has exactly {fewest} options, not {count}",
                    self.kind
                )
            } else {
                format!("{fewest} to {most} options, not {count}")
            };
            let code = if count < fewest {
                "too_few"
            } else {
                "too_many"
            };
            problems.push(FieldProblem::new("/options", code, detail));
        }
        for (i, option) in self.options.iter().enumerate() {
            let at = format!("/options/{i}");
            if option.trim().is_empty() {
                problems.push(FieldProblem::new(
                    at,
                    "required",
                    "an option can't be blank",
                ));
            } else if option.chars().count() > MAX_OPTION_CHARS {
                problems.push(FieldProblem::new(
                    at,
                    "too_long",
                    format!("at most {MAX_OPTION_CHARS} characters"),
                ));
            } else if self.options[..i]
                .iter()
                .any(|earlier| earlier.trim() == option.trim())
            {
                problems.push(FieldProblem::new(
                    at,
                    "duplicate",
                    format!("\"{}\" is offered twice", option.trim()),
                ));
            }
        }

        if self.correct.is_empty() {
            problems.push(FieldProblem::new(
                "/correct",
                "required",
                "at least one option must be correct",
            ));
        } else if self.correct.len() > 1 && self.kind != QuestionKind::MultipleChoice {
            problems.push(FieldProblem::new(
                "/correct",
                "exactly_one",
                format!("a {} question has exactly one correct option", self.kind),
            ));
        }
        for (i, &index) in self.correct.iter().enumerate() {
            let at = format!("/correct/{i}");
            if index >= count {
                problems.push(FieldProblem::new(
                    at,
                    "out_of_range",
                    format!(
                        "{index} is not an option's index (0 to {})",
                        count.saturating_sub(1)
                    ),
                ));
            } else if self.correct[..i].contains(&index) {
                problems.push(FieldProblem::new(
                    at,
                    "duplicate",
                    format!("option {index} is listed twice"),
                ));
            }
        }

        if !(1..=MAX_QUESTION_POINTS).contains(&self.points) {
            problems.push(FieldProblem::new(
                "/points",
                "out_of_range",
                format!("must be 1 to {MAX_QUESTION_POINTS}, not {}", self.points),
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// An option as an entrant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaperOption {
    /// What the entrant answers with: `A`, `B`, … by position on this paper. The same
    /// letter means a different option on another entrant's paper, and says nothing
    /// about the order the admin wrote them in.
    pub key: String,
    pub text: String,
}

/// A question as an entrant sees it. It has no field for the answer, so no response
/// built from it can carry one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaperQuestion {
    pub question_id: Uuid,
    pub kind: QuestionKind,
    pub prompt: String,
    /// Shuffled, except true/false, whose two options keep the admin's order (a
    /// shuffled "false, true" helps nobody and confuses many).
    pub options: Vec<PaperOption>,
    pub points: u32,
}

/// The seed of an attempt's paper: the attempt id's two 64-bit halves XORed. A v7
/// id's low half is random, so every attempt's paper differs, and the server can
/// always derive it again from the id.
pub fn paper_seed(attempt_id: Uuid) -> u64 {
    let (high, low) = attempt_id.as_u64_pair();
    high ^ low
}

/// The paper for `seed`: every question of the bank, in a shuffled order, each with
/// its options shuffled and keyed by position. The same bank and seed always give the
/// same paper, whatever order the bank is passed in (it is sorted by question id
/// first), and each question's option order depends only on the seed and that
/// question, not on what else is in the bank.
pub fn shuffled_paper(questions: &[Question], seed: u64) -> Vec<PaperQuestion> {
    let mut bank: Vec<&Question> = questions.iter().collect();
    bank.sort_by_key(|q| q.id);
    SplitMix64(seed).shuffle(&mut bank);
    bank.into_iter()
        .map(|q| PaperQuestion {
            question_id: q.id,
            kind: q.kind,
            prompt: q.prompt.clone(),
            options: option_order(q, seed)
                .into_iter()
                .zip(OPTION_KEYS)
                .filter_map(|(original, key)| {
                    q.options.get(original).map(|text| PaperOption {
                        key: key.to_owned(),
                        text: text.clone(),
                    })
                })
                .collect(),
            points: q.points,
        })
        .collect()
}

/// The original index of the option at each position of `question` on the paper of
/// `seed`.
fn option_order(question: &Question, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..question.options.len().min(MAX_OPTIONS)).collect();
    if question.kind != QuestionKind::TrueFalse {
        let (high, low) = question.id.as_u64_pair();
        let question_seed = SplitMix64(seed ^ high ^ low.rotate_left(32)).next();
        SplitMix64(question_seed).shuffle(&mut order);
    }
    order
}

/// The original indexes the keys of one answer stand for on the paper of `seed`; None
/// if any key isn't one of the question's.
fn chosen_indexes(
    question: &Question,
    keys: &BTreeSet<String>,
    seed: u64,
) -> Option<BTreeSet<usize>> {
    let order = option_order(question, seed);
    keys.iter()
        .map(|key| {
            let position = OPTION_KEYS.iter().position(|k| k == key)?;
            order.get(position).copied()
        })
        .collect()
}

/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
/// 2014; Vigna's `splitmix64.c`): a counter stepped by the golden ratio and a
/// three-round mix. Small, fast, and with well-spread output from any seed, including
/// sequential ones; nothing here needs unpredictability beyond "not the same for
/// everyone". Its output must not change: open attempts' papers depend on it.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` by multiply-and-shift (Lemire); its bias, at most `n / 2^64`,
    /// is far below anything a quiz could show.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates, from the back.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// What a submission scored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuizScore {
    /// Points for the questions answered correctly.
    pub score: u32,
    /// Points of every question on the paper.
    pub max_score: u32,
    pub correct_count: u32,
    /// Questions with at least one option chosen.
    pub answered_count: u32,
}

/// Scores `answers` (question id → the keys chosen on the paper of `seed`) against the
/// bank. A question scores its points only if the keys chosen are exactly its correct
/// options: for multiple choice that is all or nothing (a partly right answer scores
/// 0, so ticking every box never pays). No answer or an empty one scores 0; so does an
/// answer with a key the question doesn't have. Answers to questions not in the bank
/// are ignored; [`check_answers`] is what refuses them. Sums saturate, which 100
/// points a question can't reach.
pub fn score_answers(
    questions: &[Question],
    answers: &BTreeMap<Uuid, BTreeSet<String>>,
    seed: u64,
) -> QuizScore {
    let mut result = QuizScore::default();
    for question in questions {
        result.max_score = result.max_score.saturating_add(question.points);
        let Some(keys) = answers.get(&question.id).filter(|k| !k.is_empty()) else {
            continue;
        };
        result.answered_count = result.answered_count.saturating_add(1);
        let correct: BTreeSet<usize> = question.correct.iter().copied().collect();
        if chosen_indexes(question, keys, seed).is_some_and(|chosen| chosen == correct) {
            result.score = result.score.saturating_add(question.points);
            result.correct_count = result.correct_count.saturating_add(1);
        }
    }
    result
}

/// Every problem with a set of answers (saved progressively or submitted), each at
/// `/answers/<question id>`: a question not in the bank (`unknown_question`), a key
/// not on that question (`unknown_option`), more than one key for single choice or
/// true/false (`one_choice_only`). An empty set is fine: it clears the answer.
pub fn check_answers(
    questions: &[Question],
    answers: &BTreeMap<Uuid, BTreeSet<String>>,
    seed: u64,
) -> Result<(), Vec<FieldProblem>> {
    let mut problems = Vec::new();
    for (id, keys) in answers {
        let at = format!("/answers/{}", pointer_token(&id.to_string()));
        let Some(question) = questions.iter().find(|q| q.id == *id) else {
            problems.push(FieldProblem::new(
                at,
                "unknown_question",
                "this question is not on the paper",
            ));
            continue;
        };
        if chosen_indexes(question, keys, seed).is_none() {
            let offered = OPTION_KEYS[..question.options.len().min(MAX_OPTIONS)].join(", ");
            problems.push(FieldProblem::new(
                at,
                "unknown_option",
                format!("the options are {offered}"),
            ));
        } else if keys.len() > 1 && question.kind != QuestionKind::MultipleChoice {
            problems.push(FieldProblem::new(
                at,
                "one_choice_only",
                format!("a {} question takes one option", question.kind),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Whether an attempt may start: the competition is `running` and the run window is
/// open. (One attempt per member is the database's to enforce.)
pub fn attempts_open(status: CompetitionStatus, windows: &Windows, now: DateTime<Utc>) -> bool {
    status == CompetitionStatus::Running && windows.run_open(now)
}

/// When an attempt started at `started_at` must be in: its time limit, cut short by
/// the end of the run window, so nobody can keep answering after the quiz has closed
/// by starting late.
pub fn deadline(
    started_at: DateTime<Utc>,
    time_limit: TimeDelta,
    run_ends: DateTime<Utc>,
) -> DateTime<Utc> {
    started_at
        .checked_add_signed(time_limit)
        .map_or(run_ends, |end| end.min(run_ends))
}

/// How late after the deadline a submission is still accepted: ten seconds, for the
/// network between an entrant pressing "submit" at 0:00 left and the request arriving
/// (a phone on a weak mobile signal). Too short to answer another question in, so it
/// buys no advantage; callers pass it to [`accepts_submission`].
pub const SUBMISSION_GRACE: TimeDelta = TimeDelta::seconds(10);

/// Whether a submission (or a progressive save) arriving at `now` is accepted: up to
/// and including `deadline + grace`. After that the attempt is closed with what was
/// saved.
pub fn accepts_submission(now: DateTime<Utc>, deadline: DateTime<Utc>, grace: TimeDelta) -> bool {
    deadline
        .checked_add_signed(grace)
        .is_none_or(|last| now <= last)
}

/// The time an attempt took, for the leaderboard: from start to submission, counted
/// no further than the deadline (a submission in the grace took the whole time, and an
/// attempt closed with its saved answers likewise), and never below 0.
pub fn time_taken_ms(
    started_at: DateTime<Utc>,
    submitted_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> i64 {
    (submitted_at.min(deadline) - started_at)
        .num_milliseconds()
        .max(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::lifecycle::tests::{utc, windows};
    use super::*;

    fn question(n: u128, kind: QuestionKind, options: &[&str], correct: &[usize]) -> Question {
        Question {
            id: Uuid::from_u128(n),
            kind,
            prompt: format!("Question {n}?"),
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            correct: correct.to_vec(),
            points: 5,
        }
    }

    /// Twenty questions: single choice with four options (the first correct),
    /// multiple choice with five (the first two correct), and true/false (true).
    fn bank() -> Vec<Question> {
        (1..=20)
            .map(|n| match n % 3 {
                0 => question(n, QuestionKind::SingleChoice, &["a", "b", "c", "d"], &[0]),
                1 => question(
                    n,
                    QuestionKind::MultipleChoice,
                    &["a", "b", "c", "d", "e"],
                    &[0, 1],
                ),
                _ => question(n, QuestionKind::TrueFalse, &["True", "False"], &[0]),
            })
            .collect()
    }

    fn order(paper: &[PaperQuestion]) -> Vec<u128> {
        paper.iter().map(|q| q.question_id.as_u128()).collect()
    }

    fn codes(q: &Question) -> Vec<(String, &'static str)> {
        q.validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect()
    }

    fn owned(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
        list.iter().map(|(p, c)| ((*p).to_owned(), *c)).collect()
    }

    /// The keys that stand for these original option indexes on `seed`'s paper.
    fn keys_for(q: &Question, seed: u64, originals: &[usize]) -> BTreeSet<String> {
        let paper = shuffled_paper(std::slice::from_ref(q), seed);
        originals
            .iter()
            .map(|&i| {
                paper[0]
                    .options
                    .iter()
                    .find(|o| o.text == q.options[i])
                    .unwrap()
                    .key
                    .clone()
            })
            .collect()
    }

    fn keys(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn wire_names_round_trip() {
        for k in QuestionKind::ALL {
            assert_eq!(k.as_str().parse::<QuestionKind>(), Ok(*k));
        }
        assert_eq!(
            serde_json::to_string(&QuestionKind::TrueFalse).unwrap(),
            "\"true_false\""
        );
    }

    #[test]
    fn well_formed_questions_pass() {
        for q in bank() {
            assert_eq!(q.validate(), Ok(()), "{q:?}");
        }
        let every_option = question(1, QuestionKind::MultipleChoice, &["a", "b"], &[1, 0]);
        assert_eq!(every_option.validate(), Ok(()));
        let eight: Vec<String> = (0..MAX_OPTIONS).map(|i| i.to_string()).collect();
        let eight: Vec<&str> = eight.iter().map(String::as_str).collect();
        assert_eq!(
            question(1, QuestionKind::SingleChoice, &eight, &[7]).validate(),
            Ok(())
        );
        let mut top = question(1, QuestionKind::TrueFalse, &["yes", "no"], &[1]);
        top.points = MAX_QUESTION_POINTS;
        assert_eq!(top.validate(), Ok(()));
    }

    #[test]
    fn single_choice_and_true_false_have_exactly_one_answer() {
        use QuestionKind::*;
        assert_eq!(
            codes(&question(1, SingleChoice, &["a", "b"], &[0, 1])),
            owned(&[("/correct", "exactly_one")])
        );
        assert_eq!(
            codes(&question(1, TrueFalse, &["True", "False"], &[0, 1])),
            owned(&[("/correct", "exactly_one")])
        );
        for kind in QuestionKind::ALL.iter().copied() {
            assert_eq!(
                codes(&question(1, kind, &["a", "b"], &[])),
                owned(&[("/correct", "required")])
            );
        }
    }

    #[test]
    fn options_must_be_few_distinct_and_filled_in() {
        use QuestionKind::*;
        assert_eq!(
            codes(&question(1, TrueFalse, &["True", "False", "Maybe"], &[0])),
            owned(&[("/options", "too_many")])
        );
        assert_eq!(
            codes(&question(1, TrueFalse, &["True"], &[0])),
            owned(&[("/options", "too_few")])
        );
        assert_eq!(
            codes(&question(1, SingleChoice, &["only"], &[0])),
            owned(&[("/options", "too_few")])
        );
        let nine = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
        assert_eq!(
            codes(&question(1, MultipleChoice, &nine, &[0])),
            owned(&[("/options", "too_many")])
        );
        let long = "x".repeat(MAX_OPTION_CHARS + 1);
        assert_eq!(
            codes(&question(1, SingleChoice, &["a", " ", " a ", &long], &[0])),
            owned(&[
                ("/options/1", "required"),
                ("/options/2", "duplicate"),
                ("/options/3", "too_long"),
            ])
        );
        assert_eq!(
            codes(&question(1, MultipleChoice, &["a", "b", "c"], &[0, 3, 0])),
            owned(&[("/correct/1", "out_of_range"), ("/correct/2", "duplicate")])
        );
    }

    #[test]
    fn prompts_and_points_are_bounded() {
        let mut q = question(1, QuestionKind::SingleChoice, &["a", "b"], &[0]);
        q.prompt = "  ".to_owned();
        q.points = 0;
        assert_eq!(
            codes(&q),
            owned(&[("/prompt", "required"), ("/points", "out_of_range")])
        );
        q.prompt = "p".repeat(MAX_PROMPT_CHARS + 1);
        q.points = MAX_QUESTION_POINTS + 1;
        assert_eq!(
            codes(&q),
            owned(&[("/prompt", "too_long"), ("/points", "out_of_range")])
        );
    }

    #[test]
    fn splitmix64_matches_the_reference() {
        // Vigna's splitmix64.c seeded with 1234567.
        let mut rng = SplitMix64(1_234_567);
        assert_eq!(
            [rng.next(), rng.next(), rng.next(), rng.next(), rng.next()],
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821,
            ]
        );
        let mut rng = SplitMix64(0);
        for n in 1..=50 {
            assert!(rng.below(n) < n);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_paper_whatever_order_the_bank_comes_in() {
        let seed = paper_seed(Uuid::from_u128(0x0192_a3b4_c5d6_7e8f_9a0b_1c2d_3e4f_5a6b));
        let paper = shuffled_paper(&bank(), seed);
        let mut reversed = bank();
        reversed.reverse();
        assert_eq!(shuffled_paper(&reversed, seed), paper);
        assert_eq!(shuffled_paper(&bank(), seed), paper);
        // Every question once, every option once.
        let mut ids = order(&paper);
        ids.sort();
        assert_eq!(ids, (1..=20).collect::<Vec<_>>());
        for (q, original) in paper.iter().map(|p| {
            (
                p,
                bank().into_iter().find(|q| q.id == p.question_id).unwrap(),
            )
        }) {
            let mut texts: Vec<_> = q.options.iter().map(|o| o.text.clone()).collect();
            texts.sort();
            let mut expected = original.options.clone();
            expected.sort();
            assert_eq!(texts, expected);
            let keys: Vec<_> = q.options.iter().map(|o| o.key.as_str()).collect();
            assert_eq!(keys, OPTION_KEYS[..original.options.len()]);
            assert_eq!((q.kind, q.points), (original.kind, original.points));
        }
        // A question's options don't depend on the rest of the bank.
        let alone = shuffled_paper(&bank()[5..6], seed);
        let within = paper.iter().find(|q| q.question_id.as_u128() == 6).unwrap();
        assert_eq!(&alone[0], within);
    }

    #[test]
    fn different_seeds_give_different_orders() {
        let papers: Vec<Vec<u128>> = (0..200u64)
            .map(|n| {
                order(&shuffled_paper(
                    &bank(),
                    paper_seed(Uuid::from_u128(n.into())),
                ))
            })
            .collect();
        for (i, a) in papers.iter().enumerate() {
            for b in &papers[..i] {
                assert_ne!(a, b);
            }
        }
        assert_ne!(papers[0], (1..=20).collect::<Vec<_>>());
        // Neighbouring attempt ids (v7 ids made in the same millisecond differ in
        // their low bits) still get unrelated orders.
        let base = Uuid::now_v7().as_u128();
        let first = order(&shuffled_paper(&bank(), paper_seed(Uuid::from_u128(base))));
        let next = order(&shuffled_paper(
            &bank(),
            paper_seed(Uuid::from_u128(base + 1)),
        ));
        assert_ne!(first, next);
    }

    #[test]
    fn options_are_shuffled_except_true_or_false() {
        let bank = bank();
        let single = &bank[2]; // question 3, four options
        let mut orders = BTreeSet::new();
        for seed in 0..100 {
            let paper = shuffled_paper(std::slice::from_ref(single), seed);
            orders.insert(
                paper[0]
                    .options
                    .iter()
                    .map(|o| o.text.clone())
                    .collect::<Vec<_>>(),
            );
        }
        // 24 orders are possible; 100 seeds find nearly all of them.
        assert!(orders.len() >= 20, "{}", orders.len());
        let true_false = &bank[1]; // question 2
        for seed in 0..20 {
            let paper = shuffled_paper(std::slice::from_ref(true_false), seed);
            let texts: Vec<_> = paper[0].options.iter().map(|o| o.text.as_str()).collect();
            assert_eq!(texts, ["True", "False"]);
        }
    }

    #[test]
    fn a_paper_has_no_field_that_could_hold_an_answer() {
        let paper = shuffled_paper(&bank(), 7);
        let json = serde_json::to_value(&paper).unwrap();
        for q in json.as_array().unwrap() {
            let fields: BTreeSet<&str> =
                q.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                fields,
                BTreeSet::from(["question_id", "kind", "prompt", "options", "points"])
            );
            for o in q["options"].as_array().unwrap() {
                let fields: BTreeSet<&str> =
                    o.as_object().unwrap().keys().map(String::as_str).collect();
                assert_eq!(fields, BTreeSet::from(["key", "text"]));
            }
        }
        assert!(!json.to_string().contains("correct"));
    }

    #[test]
    fn answers_score_only_when_exactly_right() {
        let bank = bank();
        let seed = 42;
        let mut answers = BTreeMap::new();
        for q in &bank {
            answers.insert(q.id, keys_for(q, seed, &q.correct));
        }
        let full = score_answers(&bank, &answers, seed);
        assert_eq!(
            full,
            QuizScore {
                score: 100,
                max_score: 100,
                correct_count: 20,
                answered_count: 20
            }
        );

        let multiple = &bank[0]; // question 1: options 0 and 1 correct
        let mut partly = answers.clone();
        partly.insert(multiple.id, keys_for(multiple, seed, &[0]));
        assert_eq!(score_answers(&bank, &partly, seed).score, 95);
        let mut too_many = answers.clone();
        too_many.insert(multiple.id, keys_for(multiple, seed, &[0, 1, 2]));
        assert_eq!(score_answers(&bank, &too_many, seed).correct_count, 19);
        let mut every_box = answers.clone();
        every_box.insert(multiple.id, keys(&["A", "B", "C", "D", "E"]));
        assert_eq!(score_answers(&bank, &every_box, seed).score, 95);

        let single = &bank[2];
        let mut wrong = answers.clone();
        wrong.insert(single.id, keys_for(single, seed, &[3]));
        assert_eq!(score_answers(&bank, &wrong, seed).score, 95);
        let mut bogus = answers.clone();
        bogus.insert(single.id, keys(&["Z"]));
        assert_eq!(score_answers(&bank, &bogus, seed).score, 95);

        let mut blank = answers.clone();
        blank.insert(single.id, BTreeSet::new());
        blank.remove(&multiple.id);
        blank.insert(Uuid::from_u128(999), keys(&["A"]));
        assert_eq!(
            score_answers(&bank, &blank, seed),
            QuizScore {
                score: 90,
                max_score: 100,
                correct_count: 18,
                answered_count: 18
            }
        );
        assert_eq!(
            score_answers(&bank, &BTreeMap::new(), seed),
            QuizScore {
                max_score: 100,
                ..QuizScore::default()
            }
        );
    }

    #[test]
    fn keys_mean_different_options_on_different_papers() {
        // The keys that were right on one paper, copied onto others, are mostly wrong.
        let bank = bank();
        let mut answers = BTreeMap::new();
        for q in &bank {
            answers.insert(q.id, keys_for(q, 1, &q.correct));
        }
        let copied: Vec<u32> = (2..12)
            .map(|seed| score_answers(&bank, &answers, seed).score)
            .collect();
        assert!(copied.iter().all(|&s| s < 100), "{copied:?}");
    }

    #[test]
    fn answers_are_checked_against_the_paper() {
        let bank = bank();
        let multiple = &bank[0];
        let true_false = &bank[1];
        let single = &bank[2];
        let unknown = Uuid::from_u128(999);
        let answers = BTreeMap::from([
            (multiple.id, keys(&["A", "C", "E"])),
            (true_false.id, keys(&["A", "B"])),
            (single.id, keys(&["E"])),
            (bank[3].id, BTreeSet::new()),
            (unknown, keys(&["A"])),
        ]);
        let found: Vec<_> = check_answers(&bank, &answers, 3)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect();
        assert_eq!(
            found,
            vec![
                (format!("/answers/{}", true_false.id), "one_choice_only"),
                (format!("/answers/{}", single.id), "unknown_option"),
                (format!("/answers/{unknown}"), "unknown_question"),
            ]
        );
        assert_eq!(
            check_answers(
                &bank,
                &BTreeMap::from([(multiple.id, keys(&["A", "E"]))]),
                3
            ),
            Ok(())
        );
    }

    #[test]
    fn the_deadline_is_the_time_limit_or_the_end_of_the_run() {
        let w = windows();
        let limit = TimeDelta::minutes(30);
        let early = utc(2026, 6, 1, 9, 5);
        assert_eq!(deadline(early, limit, w.run_ends), utc(2026, 6, 1, 9, 35));
        // Started 10:30: the limit would reach 11:00, exactly the end.
        let on_the_edge = utc(2026, 6, 1, 10, 30);
        assert_eq!(deadline(on_the_edge, limit, w.run_ends), w.run_ends);
        let late = utc(2026, 6, 1, 10, 45);
        assert_eq!(deadline(late, limit, w.run_ends), w.run_ends);
        assert_eq!(deadline(late, TimeDelta::MAX, w.run_ends), w.run_ends);
    }

    #[test]
    fn submissions_are_accepted_until_the_grace_runs_out() {
        let end = utc(2026, 6, 1, 9, 35);
        let ms = TimeDelta::milliseconds(1);
        assert_eq!(SUBMISSION_GRACE, TimeDelta::seconds(10));
        assert!(accepts_submission(end - ms, end, SUBMISSION_GRACE));
        assert!(accepts_submission(end, end, SUBMISSION_GRACE));
        assert!(accepts_submission(
            end + SUBMISSION_GRACE,
            end,
            SUBMISSION_GRACE
        ));
        assert!(!accepts_submission(
            end + SUBMISSION_GRACE + ms,
            end,
            SUBMISSION_GRACE
        ));
        assert!(!accepts_submission(end + ms, end, TimeDelta::zero()));
    }

    #[test]
    fn time_taken_stops_at_the_deadline() {
        let start = utc(2026, 6, 1, 9, 5);
        let end = utc(2026, 6, 1, 9, 35);
        let done = start + TimeDelta::milliseconds(754_321);
        assert_eq!(time_taken_ms(start, done, end), 754_321);
        assert_eq!(time_taken_ms(start, end, end), 30 * 60 * 1000);
        assert_eq!(
            time_taken_ms(start, end + TimeDelta::seconds(7), end),
            30 * 60 * 1000
        );
        assert_eq!(time_taken_ms(start, start - TimeDelta::seconds(1), end), 0);
    }

    #[test]
    fn attempts_start_only_while_running_in_the_window() {
        use CompetitionStatus::*;
        let w = windows();
        assert!(attempts_open(Running, &w, w.run_starts));
        assert!(!attempts_open(
            Running,
            &w,
            w.run_starts - TimeDelta::seconds(1)
        ));
        assert!(!attempts_open(Running, &w, w.run_ends));
        assert!(!attempts_open(Registration, &w, w.run_starts));
        assert!(!attempts_open(Judging, &w, w.run_starts));
    }

    #[test]
    fn seeds_come_from_the_whole_attempt_id() {
        let a = Uuid::from_u128(0x0123_4567_89ab_cdef_0000_0000_0000_0001);
        assert_eq!(paper_seed(a), 0x0123_4567_89ab_cdef ^ 1);
        assert_eq!(paper_seed(a), paper_seed(a));
        assert_ne!(paper_seed(a), paper_seed(Uuid::from_u128(a.as_u128() + 1)));
        assert_ne!(
            paper_seed(a),
            paper_seed(Uuid::from_u128(a.as_u128() + (1 << 64)))
        );
    }
}

//! Competitions (skills contests, speech contests and knowledge quizzes) and their
//! registrations. Two invariants are the database's: one registration per member per
//! competition (a unique index), and the capacity, kept by the `registered` counter on
//! the competition row, which only a conditional update
//! (`registered = registered + 1 WHERE capacity IS NULL OR registered < capacity`)
//! raises, in the same transaction as the registration's insert; a check constraint
//! backs it.
//!
//! Quizzes add their question bank and attempts: one attempt per member per quiz (a
//! unique index), its score and time taken stored on the row once submitted, with an
//! index in leaderboard order `(competition_id, score DESC, time_taken_ms, id)` so a
//! page and each rank's counts are index range scans, never a recount of everyone.
//!
//! Judged contests add their judges (one row per competition and judge account) and
//! judges' score sheets: one current sheet per entrant and judge (a unique index),
//! corrected in place with its revision raised, and every revision kept in
//! `judge_score_history`.
//!
//! Publishing results writes `competition_results`: one row per ranked entrant (a
//! registration, or a quiz attempt), in rank order (`position`), with its frozen score,
//! rank and award.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Competitions {
    Table,
    Id,
    OrgId,
    Name,
    Category,
    Kind,
    Status,
    RegistrationOpens,
    RegistrationCloses,
    RunStarts,
    RunEnds,
    Capacity,
    Registered,
    Eligibility,
    Criteria,
    ScoringMethod,
    RankKind,
    TieBreaks,
    TimeLimitSeconds,
    ExcludeOwnUnionJudges,
    CreatedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CompetitionRegistrations {
    Table,
    Id,
    CompetitionId,
    MemberId,
    MemberOrgId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QuizQuestions {
    Table,
    Id,
    CompetitionId,
    Kind,
    Prompt,
    Options,
    Correct,
    Points,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QuizAttempts {
    Table,
    Id,
    CompetitionId,
    MemberId,
    StartedAt,
    Answers,
    SubmittedAt,
    Score,
    MaxScore,
    CorrectCount,
    AnsweredCount,
    TimeTakenMs,
}

#[derive(DeriveIden)]
enum CompetitionJudges {
    Table,
    CompetitionId,
    UserId,
    AssignedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JudgeScores {
    Table,
    Id,
    CompetitionId,
    RegistrationId,
    JudgeId,
    Scores,
    Revision,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum JudgeScoreHistory {
    Table,
    Id,
    ScoreId,
    Scores,
    Revision,
    RecordedAt,
}

#[derive(DeriveIden)]
enum CompetitionResults {
    Table,
    Id,
    CompetitionId,
    EntrantId,
    MemberId,
    Position,
    Rank,
    Score,
    PrizeTier,
    HonourTitle,
    CreatedAt,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Competitions::Table)
                    .col(
                        ColumnDef::new(Competitions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Competitions::OrgId).uuid().not_null())
                    .col(
                        ColumnDef::new(Competitions::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Competitions::Category)
                            .string_len(100)
                            .null(),
                    )
                    .col(ColumnDef::new(Competitions::Kind).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Competitions::Status)
                            .string_len(24)
                            .not_null(),
                    )
                    .col(ts(Competitions::RegistrationOpens))
                    .col(ts(Competitions::RegistrationCloses))
                    .col(ts(Competitions::RunStarts))
                    .col(ts(Competitions::RunEnds))
                    .col(ColumnDef::new(Competitions::Capacity).big_integer().null())
                    .col(
                        ColumnDef::new(Competitions::Registered)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Competitions::Eligibility).text().not_null())
                    .col(ColumnDef::new(Competitions::Criteria).text().not_null())
                    .col(
                        ColumnDef::new(Competitions::ScoringMethod)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Competitions::RankKind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Competitions::TieBreaks).text().not_null())
                    .col(
                        ColumnDef::new(Competitions::TimeLimitSeconds)
                            .integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Competitions::ExcludeOwnUnionJudges)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Competitions::CreatedBy).uuid().not_null())
                    .col(
                        ColumnDef::new(Competitions::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ts(Competitions::CreatedAt))
                    .col(ts(Competitions::UpdatedAt))
                    .check(Expr::col(Competitions::Registered).gte(0))
                    .check(Expr::col(Competitions::Capacity).is_null().or(
                        Expr::col(Competitions::Registered).lte(Expr::col(Competitions::Capacity)),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Competitions::Table, Competitions::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Competitions::Table, Competitions::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_competitions_org_id")
                    .table(Competitions::Table)
                    .col(Competitions::OrgId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CompetitionRegistrations::Table)
                    .col(
                        ColumnDef::new(CompetitionRegistrations::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CompetitionRegistrations::CompetitionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionRegistrations::MemberId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionRegistrations::MemberOrgId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionRegistrations::CreatedBy)
                            .uuid()
                            .not_null(),
                    )
                    .col(ts(CompetitionRegistrations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CompetitionRegistrations::Table,
                                CompetitionRegistrations::CompetitionId,
                            )
                            .to(Competitions::Table, Competitions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CompetitionRegistrations::Table,
                                CompetitionRegistrations::MemberId,
                            )
                            .to(Members::Table, Members::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CompetitionRegistrations::Table,
                                CompetitionRegistrations::CreatedBy,
                            )
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_competition_registrations_member")
                    .table(CompetitionRegistrations::Table)
                    .col(CompetitionRegistrations::CompetitionId)
                    .col(CompetitionRegistrations::MemberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_competition_registrations_page")
                    .table(CompetitionRegistrations::Table)
                    .col(CompetitionRegistrations::CompetitionId)
                    .col(CompetitionRegistrations::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(QuizQuestions::Table)
                    .col(
                        ColumnDef::new(QuizQuestions::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(QuizQuestions::CompetitionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QuizQuestions::Kind)
                            .string_len(24)
                            .not_null(),
                    )
                    .col(ColumnDef::new(QuizQuestions::Prompt).text().not_null())
                    .col(ColumnDef::new(QuizQuestions::Options).text().not_null())
                    .col(ColumnDef::new(QuizQuestions::Correct).text().not_null())
                    .col(ColumnDef::new(QuizQuestions::Points).integer().not_null())
                    .col(ts(QuizQuestions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(QuizQuestions::Table, QuizQuestions::CompetitionId)
                            .to(Competitions::Table, Competitions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_quiz_questions_competition")
                    .table(QuizQuestions::Table)
                    .col(QuizQuestions::CompetitionId)
                    .col(QuizQuestions::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(QuizAttempts::Table)
                    .col(
                        ColumnDef::new(QuizAttempts::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(QuizAttempts::CompetitionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(QuizAttempts::MemberId).uuid().not_null())
                    .col(ts(QuizAttempts::StartedAt))
                    .col(ColumnDef::new(QuizAttempts::Answers).text().not_null())
                    .col(
                        ColumnDef::new(QuizAttempts::SubmittedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(QuizAttempts::Score).big_integer().null())
                    .col(ColumnDef::new(QuizAttempts::MaxScore).big_integer().null())
                    .col(ColumnDef::new(QuizAttempts::CorrectCount).integer().null())
                    .col(ColumnDef::new(QuizAttempts::AnsweredCount).integer().null())
                    .col(
                        ColumnDef::new(QuizAttempts::TimeTakenMs)
                            .big_integer()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(QuizAttempts::Table, QuizAttempts::CompetitionId)
                            .to(Competitions::Table, Competitions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(QuizAttempts::Table, QuizAttempts::MemberId)
                            .to(Members::Table, Members::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_quiz_attempts_member")
                    .table(QuizAttempts::Table)
                    .col(QuizAttempts::CompetitionId)
                    .col(QuizAttempts::MemberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_quiz_attempts_leaderboard")
                    .table(QuizAttempts::Table)
                    .col(QuizAttempts::CompetitionId)
                    .col((QuizAttempts::Score, IndexOrder::Desc))
                    .col(QuizAttempts::TimeTakenMs)
                    .col(QuizAttempts::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CompetitionJudges::Table)
                    .col(
                        ColumnDef::new(CompetitionJudges::CompetitionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CompetitionJudges::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(CompetitionJudges::AssignedBy)
                            .uuid()
                            .not_null(),
                    )
                    .col(ts(CompetitionJudges::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CompetitionJudges::CompetitionId)
                            .col(CompetitionJudges::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompetitionJudges::Table, CompetitionJudges::CompetitionId)
                            .to(Competitions::Table, Competitions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompetitionJudges::Table, CompetitionJudges::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JudgeScores::Table)
                    .col(
                        ColumnDef::new(JudgeScores::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(JudgeScores::CompetitionId).uuid().not_null())
                    .col(
                        ColumnDef::new(JudgeScores::RegistrationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(JudgeScores::JudgeId).uuid().not_null())
                    .col(ColumnDef::new(JudgeScores::Scores).text().not_null())
                    .col(ColumnDef::new(JudgeScores::Revision).integer().not_null())
                    .col(ts(JudgeScores::CreatedAt))
                    .col(ts(JudgeScores::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JudgeScores::Table, JudgeScores::CompetitionId)
                            .to(Competitions::Table, Competitions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(JudgeScores::Table, JudgeScores::RegistrationId)
                            .to(
                                CompetitionRegistrations::Table,
                                CompetitionRegistrations::Id,
                            ),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(JudgeScores::Table, JudgeScores::JudgeId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_judge_scores_sheet")
                    .table(JudgeScores::Table)
                    .col(JudgeScores::RegistrationId)
                    .col(JudgeScores::JudgeId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_judge_scores_competition")
                    .table(JudgeScores::Table)
                    .col(JudgeScores::CompetitionId)
                    .col(JudgeScores::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(JudgeScoreHistory::Table)
                    .col(
                        ColumnDef::new(JudgeScoreHistory::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(JudgeScoreHistory::ScoreId).uuid().not_null())
                    .col(ColumnDef::new(JudgeScoreHistory::Scores).text().not_null())
                    .col(
                        ColumnDef::new(JudgeScoreHistory::Revision)
                            .integer()
                            .not_null(),
                    )
                    .col(ts(JudgeScoreHistory::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JudgeScoreHistory::Table, JudgeScoreHistory::ScoreId)
                            .to(JudgeScores::Table, JudgeScores::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_judge_score_history_revision")
                    .table(JudgeScoreHistory::Table)
                    .col(JudgeScoreHistory::ScoreId)
                    .col(JudgeScoreHistory::Revision)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CompetitionResults::Table)
                    .col(
                        ColumnDef::new(CompetitionResults::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::CompetitionId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::EntrantId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::MemberId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::Position)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::Rank)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::Score)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::PrizeTier)
                            .string_len(16)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CompetitionResults::HonourTitle)
                            .string_len(100)
                            .null(),
                    )
                    .col(ts(CompetitionResults::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompetitionResults::Table, CompetitionResults::CompetitionId)
                            .to(Competitions::Table, Competitions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CompetitionResults::Table, CompetitionResults::MemberId)
                            .to(Members::Table, Members::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "uq_competition_results_position",
                vec![
                    CompetitionResults::CompetitionId,
                    CompetitionResults::Position,
                ],
            ),
            (
                "uq_competition_results_entrant",
                vec![
                    CompetitionResults::CompetitionId,
                    CompetitionResults::EntrantId,
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(CompetitionResults::Table).unique();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_competition_results_member")
                    .table(CompetitionResults::Table)
                    .col(CompetitionResults::MemberId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "competition_results",
            "judge_score_history",
            "judge_scores",
            "competition_judges",
            "quiz_attempts",
            "quiz_questions",
            "competition_registrations",
            "competitions",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

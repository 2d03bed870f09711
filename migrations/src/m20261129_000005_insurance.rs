//! Mutual-aid insurance: plans (terms and benefit rules as JSON text), enrollments
//! (once per member and plan, with the pot's committed amount), claims (one open or
//! paid claim per enrollment, kind and incident date) and each claim's history.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InsurancePlans {
    Table,
    Id,
    OrgId,
    Name,
    Kind,
    Status,
    SharePremiumFen,
    MaxShares,
    TermStart,
    TermEnd,
    WaitingDays,
    Eligibility,
    Benefits,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InsuranceEnrollments {
    Table,
    Id,
    PlanId,
    MemberId,
    Shares,
    PaidBy,
    PremiumFen,
    CoverageFen,
    CommittedFen,
    CoverStart,
    FirstEnrollment,
    EnrolledByUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InsuranceClaims {
    Table,
    Id,
    EnrollmentId,
    PlanId,
    MemberId,
    Kind,
    IncidentDate,
    HospitalDays,
    ExpensesFen,
    DiagnosisEnc,
    DisabilityGrade,
    Documents,
    Status,
    ComputedFen,
    Payout,
    ApprovedFen,
    PaymentReference,
    FiledByUserId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InsuranceClaimEvents {
    Table,
    Id,
    ClaimId,
    Action,
    FromStatus,
    ToStatus,
    Reason,
    AmountFen,
    ActorUserId,
    RequestId,
    At,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<Alias>,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    manager.create_index(stmt.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InsurancePlans::Table)
                    .col(
                        ColumnDef::new(InsurancePlans::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(InsurancePlans::OrgId).uuid().not_null())
                    .col(
                        ColumnDef::new(InsurancePlans::Name)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsurancePlans::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsurancePlans::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsurancePlans::SharePremiumFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsurancePlans::MaxShares)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InsurancePlans::TermStart).date().not_null())
                    .col(ColumnDef::new(InsurancePlans::TermEnd).date().not_null())
                    .col(
                        ColumnDef::new(InsurancePlans::WaitingDays)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsurancePlans::Eligibility)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InsurancePlans::Benefits).text().not_null())
                    .col(
                        ColumnDef::new(InsurancePlans::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ts(InsurancePlans::CreatedAt))
                    .col(ts(InsurancePlans::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InsurancePlans::Table, InsurancePlans::OrgId)
                            .to(Orgs::Table, Orgs::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_insurance_plans_org",
            InsurancePlans::Table,
            vec![Alias::new("org_id"), Alias::new("id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(InsuranceEnrollments::Table)
                    .col(
                        ColumnDef::new(InsuranceEnrollments::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::PlanId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::MemberId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::Shares)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::PaidBy)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::PremiumFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::CoverageFen)
                            .big_integer()
                            .not_null(),
                    )
                    // What approved and paid claims took from the pot. The check is a
                    // last line of defence; approvals add to it with a conditional
                    // update that refuses to pass the coverage.
                    .col(
                        ColumnDef::new(InsuranceEnrollments::CommittedFen)
                            .big_integer()
                            .not_null()
                            .default(0)
                            .check(
                                Expr::col(InsuranceEnrollments::CommittedFen).gte(0).and(
                                    Expr::col(InsuranceEnrollments::CommittedFen)
                                        .lte(Expr::col(InsuranceEnrollments::CoverageFen)),
                                ),
                            ),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::CoverStart)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::FirstEnrollment)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceEnrollments::EnrolledByUserId)
                            .uuid()
                            .null(),
                    )
                    .col(ts(InsuranceEnrollments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InsuranceEnrollments::Table, InsuranceEnrollments::PlanId)
                            .to(InsurancePlans::Table, InsurancePlans::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(InsuranceEnrollments::Table, InsuranceEnrollments::MemberId)
                            .to(Members::Table, Members::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A member is enrolled at most once per plan.
        manager
            .create_index(
                Index::create()
                    .name("uq_insurance_enrollments_plan_member")
                    .table(InsuranceEnrollments::Table)
                    .col(InsuranceEnrollments::PlanId)
                    .col(InsuranceEnrollments::MemberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_insurance_enrollments_member",
            InsuranceEnrollments::Table,
            vec![Alias::new("member_id"), Alias::new("id")],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(InsuranceClaims::Table)
                    .col(
                        ColumnDef::new(InsuranceClaims::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaims::EnrollmentId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InsuranceClaims::PlanId).uuid().not_null())
                    .col(ColumnDef::new(InsuranceClaims::MemberId).uuid().not_null())
                    .col(
                        ColumnDef::new(InsuranceClaims::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaims::IncidentDate)
                            .date()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaims::HospitalDays)
                            .integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaims::ExpensesFen)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(InsuranceClaims::DiagnosisEnc).text().null())
                    .col(
                        ColumnDef::new(InsuranceClaims::DisabilityGrade)
                            .integer()
                            .null(),
                    )
                    .col(ColumnDef::new(InsuranceClaims::Documents).text().not_null())
                    .col(
                        ColumnDef::new(InsuranceClaims::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaims::ComputedFen)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InsuranceClaims::Payout).text().not_null())
                    .col(
                        ColumnDef::new(InsuranceClaims::ApprovedFen)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaims::PaymentReference)
                            .string_len(100)
                            .null(),
                    )
                    .col(ColumnDef::new(InsuranceClaims::FiledByUserId).uuid().null())
                    .col(
                        ColumnDef::new(InsuranceClaims::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(ts(InsuranceClaims::CreatedAt))
                    .col(ts(InsuranceClaims::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InsuranceClaims::Table, InsuranceClaims::EnrollmentId)
                            .to(InsuranceEnrollments::Table, InsuranceEnrollments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One open or paid claim per enrollment, kind and incident date: a rejected
        // claim doesn't block filing again, a returned one still does (it comes back).
        // A partial unique index (both SQLite and PostgreSQL have them).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_insurance_claims_open \
                 ON insurance_claims (enrollment_id, kind, incident_date) \
                 WHERE status <> 'rejected'",
            )
            .await?;
        for (name, col) in [
            ("idx_insurance_claims_enrollment", "enrollment_id"),
            ("idx_insurance_claims_member", "member_id"),
            ("idx_insurance_claims_plan", "plan_id"),
        ] {
            index(
                manager,
                name,
                InsuranceClaims::Table,
                vec![Alias::new(col), Alias::new("id")],
            )
            .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(InsuranceClaimEvents::Table)
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::ClaimId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::Action)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::FromStatus)
                            .string_len(16)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::ToStatus)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::Reason)
                            .string_len(500)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::AmountFen)
                            .big_integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::ActorUserId)
                            .uuid()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(InsuranceClaimEvents::RequestId)
                            .string_len(128)
                            .null(),
                    )
                    .col(ts(InsuranceClaimEvents::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InsuranceClaimEvents::Table, InsuranceClaimEvents::ClaimId)
                            .to(InsuranceClaims::Table, InsuranceClaims::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_insurance_claim_events_claim",
            InsuranceClaimEvents::Table,
            vec![Alias::new("claim_id"), Alias::new("id")],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "insurance_claim_events",
            "insurance_claims",
            "insurance_enrollments",
            "insurance_plans",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

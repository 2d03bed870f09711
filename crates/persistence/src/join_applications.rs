//! Join applications: stored with the applicant's personal data sealed (as for
//! members), listed in a reach, and decided once by a conditional update. The partial
//! unique index allows one pending application per person and organisation.

use crate::entities::{join_applications as apps, orgs};
use crate::members::{NewMember, Sealed};
use crate::orgs::reach_condition;
use crate::{Page, PageRequest, StoreError};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, Set, TransactionTrait,
};
use unionhall_domain::members::{ApplicationStatus, EmploymentForm, JoinApplication, Occupation};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_domain::person::Gender;
use unionhall_domain::{MemberId, OrgId, UserId};
use uuid::Uuid;

fn parse<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|_| StoreError::Db(sea_orm::DbErr::Type(format!("unknown {what} {value}"))))
}

fn to_domain(m: apps::Model) -> Result<JoinApplication, StoreError> {
    Ok(JoinApplication {
        id: m.id,
        org_id: OrgId(m.org_id),
        gender: parse::<Gender>("gender", &m.gender)?,
        occupation: parse::<Occupation>("occupation", &m.occupation)?,
        employment_form: parse::<EmploymentForm>("employment form", &m.employment_form)?,
        status: parse::<ApplicationStatus>("application status", &m.status)?,
        name: m.name,
        birth_date: m.birth_date,
        id_number_sealed: m.id_number_enc,
        id_number_hash: m.id_number_hash,
        phone_sealed: m.phone_enc,
        phone_hash: m.phone_hash,
        employer: m.employer,
        password_hash: m.password_hash,
        secret_hash: m.secret_hash,
        reason: m.reason,
        submitted_by_user_id: m.submitted_by_user_id.map(UserId),
        decided_by_user_id: m.decided_by_user_id.map(UserId),
        member_id: m.member_id.map(MemberId),
        version: m.version,
        created_at: m.created_at,
        decided_at: m.decided_at,
    })
}

/// A new application: the applicant as a member would be (`joined_on` is ignored; it
/// is the approval date), the chosen password's hash, and the status secret's hash.
pub struct NewApplication {
    pub person: NewMember,
    pub password_hash: Option<String>,
    pub secret_hash: String,
    pub submitted_by: Option<UserId>,
}

/// Stores a pending application. A pending one for the same person and organisation
/// is `Conflict` on `join_applications` (the partial unique index decides).
pub async fn insert<C>(db: &C, new: NewApplication) -> Result<JoinApplication, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let p = new.person;
    let row = apps::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(p.org_id.0),
        name: Set(p.name),
        gender: Set(p.gender.as_str().to_owned()),
        birth_date: Set(p.birth_date),
        id_number_enc: Set(p.id_number.ciphertext),
        id_number_hash: Set(p.id_number.hash),
        phone_enc: Set(p.phone.ciphertext),
        phone_hash: Set(p.phone.hash),
        employer: Set(p.employer),
        occupation: Set(p.occupation.as_str().to_owned()),
        employment_form: Set(p.employment_form.as_str().to_owned()),
        password_hash: Set(new.password_hash),
        secret_hash: Set(new.secret_hash),
        status: Set(ApplicationStatus::Pending.as_str().to_owned()),
        reason: Set(None),
        submitted_by_user_id: Set(new.submitted_by.map(|u| u.0)),
        decided_by_user_id: Set(None),
        member_id: Set(None),
        version: Set(1),
        created_at: Set(Utc::now()),
        decided_at: Set(None),
    };
    match crate::db::insert_in_savepoint(db, row).await {
        Err(e) if e.is_conflict_on("join_applications") => Err(StoreError::Conflict {
            constraint: "pending_application".into(),
        }),
        other => to_domain(other?),
    }
}

/// The applicant as a new member joining on `joined_on`, with the sealed values reused.
pub fn as_new_member(app: &JoinApplication, joined_on: chrono::NaiveDate) -> NewMember {
    NewMember {
        org_id: app.org_id,
        name: app.name.clone(),
        gender: app.gender,
        birth_date: app.birth_date,
        id_number: Sealed {
            ciphertext: app.id_number_sealed.clone(),
            hash: app.id_number_hash.clone(),
        },
        phone: Sealed {
            ciphertext: app.phone_sealed.clone(),
            hash: app.phone_hash.clone(),
        },
        employer: app.employer.clone(),
        occupation: app.occupation,
        employment_form: app.employment_form,
        joined_on,
    }
}

/// An application whose organisation is in `reach`; anything else is `NotFound`.
pub async fn get(
    db: &impl ConnectionTrait,
    reach: &Reach,
    id: Uuid,
) -> Result<JoinApplication, StoreError> {
    apps::Entity::find_by_id(id)
        .join(JoinType::InnerJoin, apps::Relation::Org.def())
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
        .one(db)
        .await?
        .map(to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// An application by id, unscoped: for the applicant holding its secret.
pub async fn get_unscoped(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<JoinApplication, StoreError> {
    apps::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(to_domain)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// Applications to this organisation's subtree.
    pub org_path: Option<OrgPath>,
    pub status: Option<ApplicationStatus>,
}

/// Lists applications in `reach`, in creation order.
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    filter: &ApplicationFilter,
    page: PageRequest,
) -> Result<Page<JoinApplication>, StoreError> {
    let path = (orgs::Entity, orgs::Column::Path);
    let mut query = apps::Entity::find()
        .join(JoinType::InnerJoin, apps::Relation::Org.def())
        .filter(reach_condition(path, reach));
    if let Some(subtree) = &filter.org_path {
        query = query.filter(reach_condition(path, &Reach::over(vec![subtree.clone()])));
    }
    if let Some(status) = filter.status {
        query = query.filter(apps::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = page.after {
        query = query.filter(apps::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(apps::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |a| a.id))
}

/// A decision on a pending application.
#[derive(Debug, Clone)]
pub struct Decision {
    pub status: ApplicationStatus,
    pub reason: Option<String>,
    pub decided_by: UserId,
    pub member_id: Option<MemberId>,
}

/// Records a decision if the application is still pending at the version it was read
/// at; otherwise `StaleVersion` (someone decided it meanwhile).
pub async fn decide(
    db: &impl ConnectionTrait,
    current: &JoinApplication,
    decision: Decision,
) -> Result<JoinApplication, StoreError> {
    let result = apps::Entity::update_many()
        .col_expr(apps::Column::Status, Expr::value(decision.status.as_str()))
        .col_expr(apps::Column::Reason, Expr::value(decision.reason))
        .col_expr(
            apps::Column::DecidedByUserId,
            Expr::value(decision.decided_by.0),
        )
        .col_expr(
            apps::Column::MemberId,
            Expr::value(decision.member_id.map(|m| m.0)),
        )
        .col_expr(apps::Column::DecidedAt, Expr::value(Utc::now()))
        .col_expr(apps::Column::Version, Expr::value(current.version + 1))
        .filter(apps::Column::Id.eq(current.id))
        .filter(apps::Column::Version.eq(current.version))
        .filter(apps::Column::Status.eq(ApplicationStatus::Pending.as_str()))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::StaleVersion);
    }
    get_unscoped(db, current.id).await
}

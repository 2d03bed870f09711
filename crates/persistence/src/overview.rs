//! The federation's figures over a subtree that no single area answers on its own:
//! members by occupation and form of employment, palace bookings of a month and their
//! no-shows, competition participants. Each takes an aggregate query or two (no rows loaded),
//! filtered by the same rules the area's own list applies, so the overview and the
//! area endpoints agree. Insurance, mediation and stations contribute their own area's
//! totals ([`crate::insurance::stats`], [`crate::mediation::stats`],
//! [`crate::stations::totals_in_reach`]).

use crate::StoreError;
use crate::entities::{bookings, competition_registrations as registrations, members, orgs};
use crate::entities::{palaces, venues};
use crate::orgs::reach_condition;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationTrait,
};
use unionhall_domain::members::{EmploymentForm, MemberStatus, Occupation};
use unionhall_domain::orgs::Reach;
use unionhall_domain::palaces::StoredStatus;

/// Active members of a subtree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFigures {
    pub total: i64,
    /// Every occupation, in [`Occupation::ALL`]'s order, with 0 where there are none.
    pub by_occupation: Vec<(Occupation, i64)>,
    /// Those working through a platform (`employment_form = gig`).
    pub gig: i64,
    /// Those who joined on or after `since`.
    pub joined_since: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Db(sea_orm::DbErr::Type(format!("unknown {what} {value}")))
}

/// Active members whose union is in `reach`: one scan, counted by occupation and form,
/// with those who joined since `since` counted alongside.
pub async fn members(
    db: &impl ConnectionTrait,
    reach: &Reach,
    since: NaiveDate,
) -> Result<MemberFigures, StoreError> {
    // `since` is a date, written `YYYY-MM-DD` by chrono: nothing a caller controls
    // reaches the SQL text, and both databases compare the column with it as a date.
    let joined = format!(
        "CAST(COALESCE(SUM(CASE WHEN members.joined_on >= '{}' THEN 1 ELSE 0 END), 0) AS BIGINT)",
        since.format("%Y-%m-%d")
    );
    let rows = members::Entity::find()
        .select_only()
        .column(members::Column::Occupation)
        .column(members::Column::EmploymentForm)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(Expr::cust(joined), "joined")
        .join(JoinType::InnerJoin, members::Relation::Org.def())
        .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
        .filter(members::Column::Status.eq(MemberStatus::Active.as_str()))
        .group_by(members::Column::Occupation)
        .group_by(members::Column::EmploymentForm)
        .into_tuple::<(String, String, i64, i64)>()
        .all(db)
        .await?;
    let mut figures = MemberFigures {
        by_occupation: Occupation::ALL.iter().map(|o| (*o, 0)).collect(),
        ..MemberFigures::default()
    };
    for (occupation, form, n, joined) in rows {
        let occupation: Occupation = occupation
            .parse()
            .map_err(|()| corrupt("occupation", &occupation))?;
        let form: EmploymentForm = form
            .parse()
            .map_err(|()| corrupt("employment form", &form))?;
        if let Some((_, count)) = figures
            .by_occupation
            .iter_mut()
            .find(|(o, _)| *o == occupation)
        {
            *count += n;
        }
        if form == EmploymentForm::Gig {
            figures.gig += n;
        }
        figures.total += n;
        figures.joined_since += joined;
    }
    Ok(figures)
}

/// Bookings at the palaces of a subtree over some days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BookingFigures {
    /// Not cancelled: booked, checked in or no-show.
    pub bookings: i64,
    pub checked_in: i64,
    /// `booked` and past their `no_show_after` at `now`: the palaces' own rule.
    pub no_shows: i64,
}

/// Bookings at palaces of `reach` whose local date is in `from..until`, counted as of
/// `now`: a count by stored status, and one of the `booked` ones past their no-show
/// time.
pub async fn bookings(
    db: &impl ConnectionTrait,
    reach: &Reach,
    from: NaiveDate,
    until: NaiveDate,
    now: DateTime<Utc>,
) -> Result<BookingFigures, StoreError> {
    let held_in_reach = || {
        bookings::Entity::find()
            .select_only()
            .column_as(Expr::cust("COUNT(*)"), "n")
            .join(JoinType::InnerJoin, bookings::Relation::Venue.def())
            .join(JoinType::InnerJoin, venues::Relation::Palace.def())
            .join(JoinType::InnerJoin, palaces::Relation::Org.def())
            .filter(reach_condition((orgs::Entity, orgs::Column::Path), reach))
            .filter(bookings::Column::LocalDate.gte(from))
            .filter(bookings::Column::LocalDate.lt(until))
    };
    let rows = held_in_reach()
        .column(bookings::Column::Status)
        .filter(bookings::Column::Status.ne(StoredStatus::Cancelled.as_str()))
        .group_by(bookings::Column::Status)
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?;
    let no_shows = held_in_reach()
        .filter(bookings::Column::Status.eq(StoredStatus::Booked.as_str()))
        .filter(bookings::Column::NoShowAfter.lt(now))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or_default();
    let mut figures = BookingFigures {
        no_shows,
        ..BookingFigures::default()
    };
    for (n, status) in rows {
        let status: StoredStatus = status
            .parse()
            .map_err(|()| corrupt("booking status", &status))?;
        figures.bookings += n;
        if status == StoredStatus::CheckedIn {
            figures.checked_in += n;
        }
    }
    Ok(figures)
}

/// Competition entries by members of a subtree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompetitionFigures {
    /// Registrations held by members whose union (when they registered) is in reach.
    pub registrations: i64,
    /// The distinct members among them.
    pub participants: i64,
}

/// Registrations by members of `reach`, in every competition.
pub async fn competitions(
    db: &impl ConnectionTrait,
    reach: &Reach,
) -> Result<CompetitionFigures, StoreError> {
    let path = (orgs::Entity, orgs::Column::Path);
    let by_member_org = registrations::Entity::belongs_to(orgs::Entity)
        .from(registrations::Column::MemberOrgId)
        .to(orgs::Column::Id)
        .into();
    let (registrations, participants) = registrations::Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust("COUNT(DISTINCT competition_registrations.member_id)"),
            "members",
        )
        .join(JoinType::InnerJoin, by_member_org)
        .filter(reach_condition(path, reach))
        .into_tuple::<(i64, i64)>()
        .one(db)
        .await?
        .unwrap_or_default();
    Ok(CompetitionFigures {
        registrations,
        participants,
    })
}

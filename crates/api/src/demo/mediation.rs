//! The demo's labour-dispute mediation rooms, in Ji'an:
//!
//! - the court–union pilot room (法院—工会诉调对接工作室) under the city federation,
//!   whose history reproduces the pilot's figures: 417 cases decided, 292 of them by
//!   agreement (a 70.02% success rate), plus 18 withdrawn and 20 still open;
//! - an industrial-park mediation room under the Jizhou district federation, with a
//!   smaller mixed history.
//!
//! Each room has a lawyer, a labour-relations coordinator and a health engineer holding
//! the `mediator` role (demo password). Cases are dated back from today, so some open
//! ones are past the fifteen-day rule; every case has a docket number, which is what a
//! second load finds to add nothing. Cases are written in one transaction, in batches,
//! with the workers' ID numbers and phones sealed as the API would seal them.

use super::{DEMO_PASSWORD, Report, ensure_org};
use crate::auth::password;
use crate::pii::{Field, PiiCipher};
use crate::server::StartError;
use chrono::{Days, NaiveDate};
use unionhall_domain::UserId;
use unionhall_domain::mediation::{
    CaseAction, CaseCategory, CaseStatus, Channel, MediatorRole, Outcome, check_outcome,
};
use unionhall_domain::orgs::{Org, OrgKind, Reach};
use unionhall_domain::person::id_check_char;
use unionhall_domain::roles::Role;
use unionhall_domain::users::RoleBinding;
use unionhall_persistence::mediation::{self as repo, CaseRecord, Closing, NewCase, Period};
use unionhall_persistence::users::{self, NewUser};
use unionhall_persistence::{Db, StoreError, db, orgs};

/// A room: (parent code, code, name, region, docket prefix, mediators' username prefix).
type Room = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const PILOT_ROOM: Room = (
    "ja",
    "ja-court-union-room",
    "吉安市法院—工会劳动争议诉调对接工作室",
    "360800",
    "吉诉调",
    "ja-court",
);

const PARK_ROOM: Room = (
    "ja-jizhou",
    "ja-park-room",
    "吉安高新技术产业园区劳动争议调解室",
    "360802",
    "吉园调",
    "ja-park",
);

/// How a room's history ends: (outcome, how many); `None` is still open.
const PILOT_HISTORY: [(Option<Outcome>, usize); 5] = [
    (Some(Outcome::Agreement), 292),
    (Some(Outcome::NoAgreement), 100),
    (Some(Outcome::ReferredToCourt), 25),
    (Some(Outcome::Withdrawn), 18),
    (None, 20),
];

const PARK_HISTORY: [(Option<Outcome>, usize); 4] = [
    (Some(Outcome::Agreement), 30),
    (Some(Outcome::NoAgreement), 6),
    (Some(Outcome::Withdrawn), 4),
    (None, 20),
];

/// A room's three mediators: username suffix, display name, the capacity they serve in.
const MEDIATORS: [(&str, &str, MediatorRole); 3] = [
    ("lawyer", "律师", MediatorRole::Lawyer),
    (
        "coordinator",
        "劳动关系协调员",
        MediatorRole::LabourRelationsCoordinator,
    ),
    ("health", "健康工程师", MediatorRole::HealthEngineer),
];

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
];
const GIVEN: [&str; 10] = [
    "建华", "秀英", "志强", "桂兰", "海涛", "丽娟", "国平", "小燕", "文斌", "春梅",
];

const EMPLOYERS: [&str; 8] = [
    "吉安市某某物流有限公司",
    "江西某某电子科技有限公司",
    "吉安某某建筑劳务有限公司",
    "吉安市某某餐饮管理有限公司",
    "江西某某纺织服装有限公司",
    "吉安某某家政服务有限公司",
    "江西某某新材料股份有限公司",
    "吉安市某某汽车运输有限公司",
];

/// Categories in roughly the proportions rooms see: wages most of all.
const CATEGORIES: [CaseCategory; 10] = [
    CaseCategory::Wages,
    CaseCategory::Wages,
    CaseCategory::Wages,
    CaseCategory::Wages,
    CaseCategory::SocialInsurance,
    CaseCategory::SocialInsurance,
    CaseCategory::Injury,
    CaseCategory::ContractTermination,
    CaseCategory::ContractTermination,
    CaseCategory::Other,
];

/// Loads both rooms (once) and reports a line with the pilot's success rate.
pub async fn load(db: &Db, pii: &PiiCipher, report: &mut Report) -> Result<(), StartError> {
    let orgs_before = report.orgs_created;
    let mut mediators_created = 0;
    let mut cases_created = 0;
    let mut pilot = None;
    for (room, history, court) in [
        (PILOT_ROOM, &PILOT_HISTORY[..], true),
        (PARK_ROOM, &PARK_HISTORY[..], false),
    ] {
        let (parent_code, code, name, region, _, _) = room;
        let parent = orgs::find_by_code_unscoped(db, parent_code)
            .await?
            .ok_or_else(|| format!("demo data: org {parent_code} missing"))?;
        let org = ensure_org(
            db,
            report,
            &parent,
            code,
            name,
            OrgKind::GrassrootsUnion,
            Some(region),
        )
        .await?;
        let (staff, created) = ensure_mediators(db, &org, room).await?;
        mediators_created += created;
        cases_created += load_cases(db, pii, &org, room, history, court, &staff).await?;
        if court {
            pilot = Some(org);
        }
    }
    let pilot = pilot.ok_or("demo data: the pilot room is missing")?;
    let figures = repo::stats(db, &Reach::over(vec![pilot.path]), Period::default()).await?;
    let rate = figures.total.success_rate();
    report.areas.push(format!(
        "mediation: {} rooms, {mediators_created} mediators and {cases_created} cases created; \
         the court–union pilot room: {} of {} decided cases agreed ({}%)",
        report.orgs_created - orgs_before,
        rate.numerator,
        rate.denominator,
        rate.percent.as_deref().unwrap_or("–"),
    ));
    Ok(())
}

/// The room's three mediators, created when missing; and how many were.
async fn ensure_mediators(
    db: &Db,
    org: &Org,
    room: Room,
) -> Result<(Vec<(UserId, MediatorRole)>, usize), StartError> {
    let (_, _, room_name, _, _, prefix) = room;
    let mut staff = Vec::with_capacity(MEDIATORS.len());
    let mut hash = None;
    let mut created = 0;
    for (suffix, title, role) in MEDIATORS {
        let username = format!("{prefix}-{suffix}");
        if let Some((id, _, _)) = users::credentials(db, &username).await? {
            staff.push((id, role));
            continue;
        }
        // Hashed once, and only when some mediator is missing.
        let password_hash = match hash.clone() {
            Some(h) => h,
            None => {
                let h = password::hash(DEMO_PASSWORD.to_owned())
                    .await
                    .map_err(|e| e.to_string())?;
                hash = Some(h.clone());
                h
            }
        };
        let user = users::insert(
            db,
            NewUser {
                username,
                password_hash,
                display_name: format!("{room_name}{title}"),
                org_id: org.id,
                roles: vec![RoleBinding {
                    role: Role::Mediator,
                    org_id: org.id,
                }],
            },
        )
        .await?;
        created += 1;
        staff.push((user.id, role));
    }
    Ok((staff, created))
}

/// A valid resident ID number from Ji'an for demo worker `n` of a room.
fn worker_id_number(room_seed: u32, n: u32) -> Result<String, StartError> {
    let birth = NaiveDate::from_ymd_opt(1968, 1, 1)
        .and_then(|d| d.checked_add_days(Days::new(u64::from((n * 37 + room_seed) % 11_000))))
        .ok_or("demo data: bad birth date")?;
    let body = format!(
        "360802{}{:03}",
        birth.format("%Y%m%d"),
        (n + room_seed) % 1000
    );
    let check = id_check_char(body.as_bytes()).ok_or("demo data: bad ID number body")?;
    Ok(format!("{body}{check}"))
}

/// The room's history, written in one transaction: only the docket numbers not there
/// yet. Returns how many cases were written.
async fn load_cases(
    db: &Db,
    pii: &PiiCipher,
    org: &Org,
    room: Room,
    history: &[(Option<Outcome>, usize)],
    court: bool,
    staff: &[(UserId, MediatorRole)],
) -> Result<usize, StartError> {
    let (_, _, _, _, docket, _) = room;
    let today = crate::routes::members::today_in_china();
    let existing = repo::references_in(db, org.id).await?;
    let seal = |field: Field, clear: &str| {
        pii.seal(field, clear)
            .map_err(|e| format!("demo data: sealing failed: {e}"))
    };
    let room_seed = if court { 0 } else { 500 };
    let mut records = Vec::new();
    let mut n: u32 = 0;
    for (outcome, count) in history {
        for k in 0..*count {
            n += 1;
            let reference = format!("（{docket}）第{n:04}号");
            if existing.contains(&reference) {
                continue;
            }
            let i = usize::try_from(n).unwrap_or(0);
            let k = u64::try_from(k).unwrap_or(0);
            // Decided cases over the past year, each closed 3–14 days after receipt;
            // open ones over the past month, so some are past day 15.
            let days_ago = match outcome {
                Some(_) => 20 + (u64::from(n) * 7) % 340,
                None => (k * 3) % 31,
            };
            let received_on = today
                .checked_sub_days(Days::new(days_ago))
                .ok_or("demo data: date out of range")?;
            let category = CATEGORIES[i % CATEGORIES.len()];
            let claimed_fen = 300_000 + i64::from((n * 7_919) % 50_000) * 100;
            let mediators = mediators_for(*outcome, category, i, staff);
            let closing = match outcome {
                Some(o) => {
                    let agreed_fen = (*o == Outcome::Agreement)
                        .then(|| claimed_fen * (60 + i64::try_from(i % 35).unwrap_or(0)) / 100);
                    check_outcome(*o, agreed_fen).map_err(|p| p.detail)?;
                    Some(Closing {
                        outcome: *o,
                        agreed_fen,
                        note: None,
                        closed_on: received_on
                            .checked_add_days(Days::new(3 + (k % 12)))
                            .ok_or("demo data: date out of range")?,
                    })
                }
                None => None,
            };
            // The record must be a state the API could have reached.
            let mut status = CaseStatus::Received;
            if !mediators.is_empty() {
                status = CaseAction::Assign.apply(status)?;
            }
            if let Some(c) = &closing {
                CaseAction::Close(c.outcome).apply(status)?;
            }
            let channel = match (court, i % 5) {
                (true, 0) => Channel::WalkIn,
                (true, _) => Channel::CourtReferral,
                (false, 0 | 1) => Channel::WalkIn,
                (false, 2) => Channel::Hotline,
                (false, _) => Channel::Online,
            };
            let id_number = worker_id_number(room_seed, n)?;
            let phone = format!("158079{:05}", (n + room_seed) % 100_000);
            records.push(CaseRecord {
                case: NewCase {
                    org_id: org.id,
                    org_path: org.path.clone(),
                    reference: Some(reference),
                    worker_name: format!(
                        "{}{}",
                        SURNAMES[i % SURNAMES.len()],
                        GIVEN[(i / SURNAMES.len()) % GIVEN.len()]
                    ),
                    worker_id_number: seal(Field::IdNumber, &id_number)?,
                    worker_phone: Some(seal(Field::Phone, &phone)?),
                    worker_member_id: None,
                    employer_name: EMPLOYERS[(i * 3) % EMPLOYERS.len()].to_owned(),
                    category,
                    claimed_fen,
                    channel,
                    received_on,
                    created_by: None,
                },
                mediators,
                closing,
            });
        }
    }
    if records.is_empty() {
        return Ok(0);
    }
    let txn = db::begin_write(db).await?;
    let written = repo::insert_records(&txn, records).await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(written)
}

/// Who mediated: nobody for cases referred or withdrawn straight away and for some
/// open ones; a lawyer always, a coordinator on every other case, and the health
/// engineer on injuries.
fn mediators_for(
    outcome: Option<Outcome>,
    category: CaseCategory,
    i: usize,
    staff: &[(UserId, MediatorRole)],
) -> Vec<(UserId, MediatorRole)> {
    let mediated = match outcome {
        Some(o) if o.needs_mediation() => true,
        Some(_) => i.is_multiple_of(2),
        None => !i.is_multiple_of(3),
    };
    if !mediated {
        return Vec::new();
    }
    staff
        .iter()
        .filter(|(_, role)| match role {
            MediatorRole::Lawyer => true,
            MediatorRole::LabourRelationsCoordinator => i.is_multiple_of(2),
            MediatorRole::HealthEngineer => category == CaseCategory::Injury,
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use unionhall_domain::person::IdNumber;

    #[test]
    fn the_pilot_history_reproduces_the_pilot_figures() {
        let decided: usize = PILOT_HISTORY
            .iter()
            .filter(|(o, _)| o.is_some_and(|o| o != Outcome::Withdrawn))
            .map(|(_, n)| n)
            .sum();
        let agreed: usize = PILOT_HISTORY
            .iter()
            .filter(|(o, _)| *o == Some(Outcome::Agreement))
            .map(|(_, n)| n)
            .sum();
        assert_eq!((agreed, decided), (292, 417));
    }

    #[test]
    fn demo_workers_have_valid_and_distinct_id_numbers() {
        let mut seen = std::collections::HashSet::new();
        for seed in [0, 500] {
            for n in 1..=500 {
                let id = worker_id_number(seed, n).unwrap();
                assert!(IdNumber::parse(&id).is_ok(), "{id}");
                seen.insert(id);
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}

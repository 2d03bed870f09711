//! The demo data set: the Jiangxi federation's eleven city federations (with their real
//! GB/T 2260 codes), some county federations, grassroots and industry unions, the new
//! gig-economy federations, a few staff accounts, members, a delivery platform whose
//! riders' roster is synced (consenting riders become members of the platform union),
//! some pending join applications, and the Ji'an federation's three mutual-aid plans
//! with the platform union's riders enrolled as a group (paid by the union, dated to
//! the term start) and hospital claims in every state. Loading twice changes nothing.

mod competitions;
mod mediation;
mod stations;

use crate::auth::password;
use crate::auth::secrets::{hash_secret, random_token};
use crate::pii::PiiCipher;
use crate::routes::insurance::{self as insurance_api, Enrolling, Whom};
use crate::routes::members::{MemberIn, new_member};
use crate::routes::platforms as platforms_api;
use crate::server::StartError;
use chrono::{Datelike, NaiveDate};
use std::fmt;
use unionhall_domain::insurance::{
    BenefitRules, ClaimAction, ClaimFacts, ClaimKind, ClaimStatus, Decision, Eligibility,
    IllnessTier, PaidBy, PlanStatus, PlanTerms, standard_disability_table,
};
use unionhall_domain::members::{EmploymentForm, Occupation};
use unionhall_domain::orgs::{DEFAULT_TIME_ZONE, Org, OrgKind, Reach};
use unionhall_domain::person::id_check_char;
use unionhall_domain::roles::Role;
use unionhall_domain::users::RoleBinding;
use unionhall_persistence::insurance::{
    self, ClaimData, ClaimFilter, EnrollmentFilter, NewPlan, OwnerScope, PlanChanges, PlanFilter,
    PlanScope, Selector,
};
use unionhall_persistence::join_applications::{self, NewApplication};
use unionhall_persistence::members::{self, Actor};
use unionhall_persistence::orgs::{self, NewOrg};
use unionhall_persistence::platforms::{self, NewPlatform};
use unionhall_persistence::users::{self, NewUser};
use unionhall_persistence::{Db, PageRequest, StoreError, db};

/// The prefecture-level cities of Jiangxi: code suffix, name, region code.
const CITIES: [(&str, &str, &str); 11] = [
    ("nc", "南昌市总工会", "360100"),
    ("jdz", "景德镇市总工会", "360200"),
    ("px", "萍乡市总工会", "360300"),
    ("jj", "九江市总工会", "360400"),
    ("xy", "新余市总工会", "360500"),
    ("yt", "鹰潭市总工会", "360600"),
    ("gz", "赣州市总工会", "360700"),
    ("ja", "吉安市总工会", "360800"),
    ("yc", "宜春市总工会", "360900"),
    ("fz", "抚州市总工会", "361000"),
    ("sr", "上饶市总工会", "361100"),
];

/// Below a city: (parent code, code, name, kind, region code).
const BELOW: [(&str, &str, &str, OrgKind, Option<&str>); 12] = [
    (
        "ja",
        "ja-qingyuan",
        "吉安市青原区总工会",
        OrgKind::CountyFederation,
        Some("360803"),
    ),
    (
        "ja",
        "ja-jizhou",
        "吉安市吉州区总工会",
        OrgKind::CountyFederation,
        Some("360802"),
    ),
    (
        "ja",
        "ja-gig",
        "吉安市新就业形态劳动者工会联合会",
        OrgKind::GigFederation,
        Some("360800"),
    ),
    (
        "ja-gig",
        "ja-meituan-riders",
        "吉安市美团骑手工会",
        OrgKind::GrassrootsUnion,
        Some("360800"),
    ),
    (
        "nc",
        "nc-donghu",
        "南昌市东湖区总工会",
        OrgKind::CountyFederation,
        Some("360102"),
    ),
    (
        "nc",
        "nc-gig",
        "南昌市新就业形态劳动者工会联合会",
        OrgKind::GigFederation,
        Some("360100"),
    ),
    (
        "nc-donghu",
        "nc-donghu-express",
        "东湖区快递行业工会",
        OrgKind::GrassrootsUnion,
        Some("360102"),
    ),
    (
        "jj",
        "jj-xunyang",
        "九江市浔阳区总工会",
        OrgKind::CountyFederation,
        Some("360403"),
    ),
    (
        "jj-xunyang",
        "jj-palace",
        "九江市职工文化宫工会",
        OrgKind::GrassrootsUnion,
        Some("360403"),
    ),
    (
        "gz",
        "gz-zhanggong",
        "赣州市章贡区总工会",
        OrgKind::CountyFederation,
        Some("360702"),
    ),
    (
        "gz",
        "gz-rare-earth",
        "赣州市稀土行业工会",
        OrgKind::IndustryUnion,
        Some("360700"),
    ),
    (
        "sr",
        "sr-xinzhou",
        "上饶市信州区总工会",
        OrgKind::CountyFederation,
        Some("361102"),
    ),
];

/// Staff accounts: username, display name, org code suffix, role.
const STAFF: [(&str, &str, &str, Role); 3] = [
    ("ja-admin", "吉安市总工会管理员", "ja", Role::UnionAdmin),
    ("nc-admin", "南昌市总工会管理员", "nc", Role::UnionAdmin),
    (
        "jj-palace-staff",
        "九江市职工文化宫工作人员",
        "jj-palace",
        Role::PalaceStaff,
    ),
];

/// Demo members: name, ID number without its check character (region, birth date,
/// sequence), phone, union code, occupation, gig work?, employer.
const MEMBERS: [(&str, &str, &str, &str, Occupation, bool, &str); 12] = [
    (
        "刘志强",
        "36080219900312101",
        "13807960001",
        "ja-meituan-riders",
        Occupation::DeliveryRider,
        true,
        "美团",
    ),
    (
        "陈晓燕",
        "36080219950721102",
        "13807960002",
        "ja-meituan-riders",
        Occupation::DeliveryRider,
        true,
        "美团",
    ),
    (
        "买买提·吐尔逊",
        "65010219880105103",
        "13807960003",
        "ja-meituan-riders",
        Occupation::DeliveryRider,
        true,
        "美团",
    ),
    (
        "王建国",
        "36080319781102104",
        "13807960004",
        "ja-gig",
        Occupation::RideHailingDriver,
        true,
        "滴滴出行",
    ),
    (
        "李娜",
        "36080219970214105",
        "13807960005",
        "ja-gig",
        Occupation::LiveStreamer,
        true,
        "抖音",
    ),
    (
        "张伟",
        "36010219850618106",
        "13807910006",
        "nc-donghu-express",
        Occupation::Courier,
        true,
        "顺丰速运",
    ),
    (
        "赵敏",
        "36010219920909107",
        "13807910007",
        "nc-donghu-express",
        Occupation::Courier,
        false,
        "中国邮政",
    ),
    (
        "周强",
        "36010219830530108",
        "13807910008",
        "nc-gig",
        Occupation::TruckDriver,
        true,
        "满帮",
    ),
    (
        "吴桂英",
        "36040319700101109",
        "13807920009",
        "jj-palace",
        Occupation::Other,
        false,
        "九江市职工文化宫",
    ),
    (
        "郑海涛",
        "36070219860815110",
        "13807970010",
        "gz-rare-earth",
        Occupation::FactoryWorker,
        false,
        "赣州稀土集团",
    ),
    (
        "孙丽",
        "36070219940420111",
        "13807970011",
        "gz-rare-earth",
        Occupation::FactoryWorker,
        false,
        "赣州稀土集团",
    ),
    (
        "黄秀兰",
        "36110219790707112",
        "13807930012",
        "sr-xinzhou",
        Occupation::DomesticWorker,
        true,
        "家政服务平台",
    ),
];

/// The demo delivery platform: code, name, the union its riders join.
const PLATFORM: (&str, &str, &str) = ("meituan-ja", "美团外卖（吉安）", "ja-meituan-riders");

/// Riders on the demo platform's roster besides the demo members who ride for it
/// (those three are on it too, so the sync links them instead of enrolling them twice).
const RIDER_NAMES: [&str; 21] = [
    "胡文斌",
    "罗小军",
    "邓丽君",
    "曾凡宇",
    "彭志刚",
    "肖雨涵",
    "谢永强",
    "熊伟",
    "钟晓明",
    "袁春花",
    "邹建平",
    "余海波",
    "叶青",
    "朱国庆",
    "阿依古丽·买买提",
    "程磊",
    "万芳",
    "蔡俊",
    "涂明亮",
    "廖金凤",
    "欧阳俊",
];

/// Pending join applications: name, ID number without its check character, phone,
/// union code, occupation, gig work?, employer.
const APPLICANTS: [(&str, &str, &str, &str, Occupation, bool, &str); 3] = [
    (
        "汪建华",
        "36080219910405301",
        "13907960301",
        "ja-meituan-riders",
        Occupation::DeliveryRider,
        true,
        "饿了么",
    ),
    (
        "温晓丽",
        "36010219930817302",
        "13907910302",
        "nc-donghu-express",
        Occupation::Courier,
        true,
        "京东物流",
    ),
    (
        "古丽娜尔·艾力",
        "65010219960229303",
        "13907960303",
        "ja-gig",
        Occupation::CommunityEcommerce,
        true,
        "美团优选",
    ),
];

/// The password every demo account gets (demo data is never for production).
pub const DEMO_PASSWORD: &str = "demo-password-2026";

/// What loading did.
#[derive(Debug, Default)]
pub struct Report {
    pub orgs_created: usize,
    pub users_created: usize,
    pub members_created: usize,
    /// The demo platform's credentials, when this load registered it (shown once).
    pub platform_credentials: Option<(String, String)>,
    /// The roster sync's report: riders created, members enrolled and linked.
    pub riders_created: usize,
    pub riders_enrolled: usize,
    pub riders_linked: usize,
    pub applications_created: usize,
    pub plans_created: usize,
    pub enrollments_created: usize,
    pub claims_created: usize,
    pub palaces_created: usize,
    pub venues_created: usize,
    pub bookings_created: usize,
    /// One line per newer area, each written by that area's loader.
    pub areas: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "demo: {} organisations, {} staff accounts and {} members created (staff password: {DEMO_PASSWORD}); \
             platform {}: {} riders created, {} enrolled as members, {} linked to existing members; \
             {} join applications pending; insurance: {} plans, {} enrollments and {} claims created",
            self.orgs_created,
            self.users_created,
            self.members_created,
            PLATFORM.0,
            self.riders_created,
            self.riders_enrolled,
            self.riders_linked,
            self.applications_created,
            self.plans_created,
            self.enrollments_created,
            self.claims_created,
        )?;
        write!(
            f,
            "; palaces: {} palaces, {} venues and {} bookings created",
            self.palaces_created, self.venues_created, self.bookings_created,
        )?;
        for line in &self.areas {
            write!(f, "; {line}")?;
        }
        if let Some((client_id, secret)) = &self.platform_credentials {
            write!(
                f,
                "\nplatform {} credentials (shown once): client_id={client_id} client_secret={secret}",
                PLATFORM.0
            )?;
        }
        Ok(())
    }
}

/// Finds or creates an organisation by code.
async fn ensure_org(
    db: &Db,
    report: &mut Report,
    parent: &Org,
    code: &str,
    name: &str,
    kind: OrgKind,
    region: Option<&str>,
) -> Result<Org, StartError> {
    if let Some(existing) = orgs::find_by_code_unscoped(db, code).await? {
        return Ok(existing);
    }
    let new = NewOrg {
        name: name.to_owned(),
        code: code.to_owned(),
        kind,
        region_code: region.map(str::to_owned),
        time_zone: DEFAULT_TIME_ZONE.to_owned(),
    };
    report.orgs_created += 1;
    Ok(orgs::insert(db, Some(parent), new).await?)
}

/// Loads the data set under the existing root organisation. Members' personal data is
/// sealed with `pii`, the service's own key, exactly as the API would.
pub async fn load(db: &Db, pii: &PiiCipher) -> Result<Report, StartError> {
    let mut report = Report::default();
    let root = orgs::find_root(db)
        .await?
        .ok_or("no root organisation: start the service once first")?;
    for (code, name, region) in CITIES {
        ensure_org(
            db,
            &mut report,
            &root,
            code,
            name,
            OrgKind::CityFederation,
            Some(region),
        )
        .await?;
    }
    for (parent_code, code, name, kind, region) in BELOW {
        let parent = orgs::find_by_code_unscoped(db, parent_code)
            .await?
            .ok_or_else(|| format!("demo data: parent {parent_code} missing"))?;
        ensure_org(db, &mut report, &parent, code, name, kind, region).await?;
    }
    let hash = password::hash(DEMO_PASSWORD.to_owned())
        .await
        .map_err(|e| e.to_string())?;
    for (username, display_name, org_code, role) in STAFF {
        let org = orgs::find_by_code_unscoped(db, org_code)
            .await?
            .ok_or_else(|| format!("demo data: org {org_code} missing"))?;
        let new = NewUser {
            username: username.to_owned(),
            password_hash: hash.clone(),
            display_name: display_name.to_owned(),
            org_id: org.id,
            roles: vec![RoleBinding {
                role,
                org_id: org.id,
            }],
        };
        match users::insert(db, new).await {
            Ok(_) => report.users_created += 1,
            Err(e @ StoreError::Conflict { .. }) if e.is_conflict_on("username") => {}
            Err(e) => return Err(e.into()),
        }
    }
    for (name, first17, phone, org_code, occupation, gig, employer) in MEMBERS {
        let org = orgs::find_by_code_unscoped(db, org_code)
            .await?
            .ok_or_else(|| format!("demo data: org {org_code} missing"))?;
        let check = id_check_char(first17.as_bytes()).ok_or("demo data: bad ID number body")?;
        let input = MemberIn {
            org_id: org.id.0,
            name: name.to_owned(),
            id_number: format!("{first17}{check}"),
            phone: phone.to_owned(),
            gender: None,
            birth_date: None,
            employer: Some(employer.to_owned()),
            occupation,
            employment_form: if gig {
                EmploymentForm::Gig
            } else {
                EmploymentForm::Standard
            },
            joined_on: None,
        };
        let new = new_member(pii, input).map_err(|e| format!("demo data: {name}: {e}"))?;
        let operator = Actor {
            user_id: None,
            request_id: None,
        };
        match members::insert(db, new, &operator).await {
            Ok(_) => report.members_created += 1,
            // Loaded before: the person is already an active member.
            Err(e) if e.is_conflict_on("id_number_hash") => {}
            Err(e) => return Err(e.into()),
        }
    }
    load_platform(db, pii, &mut report).await?;
    load_applications(db, pii, &hash, &mut report).await?;
    load_insurance(db, pii, &mut report).await?;
    load_palaces(db, &mut report).await?;
    competitions::load(db, pii, &hash, &mut report).await?;
    mediation::load(db, pii, &mut report).await?;
    stations::load(db, &mut report).await?;
    Ok(report)
}

/// Registers the demo platform (once) and syncs its roster: the demo members who ride
/// for it plus [`RIDER_NAMES`], most of them consenting.
async fn load_platform(db: &Db, pii: &PiiCipher, report: &mut Report) -> Result<(), StartError> {
    let (code, name, union_code) = PLATFORM;
    let platform = match platforms::get_by_code(db, code).await {
        Ok(p) => p,
        Err(StoreError::NotFound) => {
            let union = orgs::find_by_code_unscoped(db, union_code)
                .await?
                .ok_or_else(|| format!("demo data: org {union_code} missing"))?;
            let secret = random_token("uhs_");
            let client_id = format!("uhc_demo_{code}");
            let p = platforms::insert(
                db,
                NewPlatform {
                    code: code.to_owned(),
                    name: name.to_owned(),
                    org_id: union.id,
                    auto_enrol: true,
                    client_id: client_id.clone(),
                    client_secret_hash: hash_secret(&secret),
                    // No password matches a non-PHC string: client credentials only.
                    password_hash: "!platform-demo".to_owned(),
                },
            )
            .await?;
            report.platform_credentials = Some((client_id, secret));
            p
        }
        Err(e) => return Err(e.into()),
    };
    let report_of_sync = platforms_api::sync_snapshot(db, pii, &platform, &demo_roster()?)
        .await
        .map_err(|e| format!("demo data: roster sync: {e}"))?;
    report.riders_created = report_of_sync.created;
    report.riders_enrolled = report_of_sync.enrolled;
    report.riders_linked = report_of_sync.linked;
    Ok(())
}

/// The demo roster as the platform would send it (a JSON array).
fn demo_roster() -> Result<Vec<u8>, StartError> {
    let mut riders = Vec::new();
    for (name, first17, phone, org_code, ..) in MEMBERS {
        if org_code == PLATFORM.2 {
            riders.push((name.to_owned(), first17.to_owned(), phone.to_owned(), true));
        }
    }
    for (i, name) in RIDER_NAMES.iter().enumerate() {
        // Born 1985–1999 in Jizhou district, Ji'an; every seventh rider hasn't consented.
        let body = format!(
            "360802{}{:02}{:02}{:03}",
            1985 + i % 15,
            i % 12 + 1,
            i % 28 + 1,
            200 + i
        );
        riders.push((
            (*name).to_owned(),
            body,
            format!("1390796{i:04}"),
            i % 7 != 3,
        ));
    }
    let rows: Result<Vec<_>, StartError> = riders
        .into_iter()
        .enumerate()
        .map(|(i, (name, first17, phone, consent))| {
            let check =
                id_check_char(first17.as_bytes()).ok_or("demo data: bad rider ID number")?;
            Ok(serde_json::json!({
                "external_id": format!("MT-JA-{:05}", i + 1),
                "name": name,
                "phone": phone,
                "id_number": format!("{first17}{check}"),
                "region_code": "360802",
                "started_on": format!("2026-{:02}-15", i % 9 + 1),
                "consent_to_join": consent,
            }))
        })
        .collect();
    Ok(serde_json::to_vec(&rows?).map_err(|e| e.to_string())?)
}

/// Pending applications to the demo unions, each with an account password chosen
/// (the demo password), as if submitted by the applicants themselves.
async fn load_applications(
    db: &Db,
    pii: &PiiCipher,
    password_hash: &str,
    report: &mut Report,
) -> Result<(), StartError> {
    for (name, first17, phone, org_code, occupation, gig, employer) in APPLICANTS {
        let org = orgs::find_by_code_unscoped(db, org_code)
            .await?
            .ok_or_else(|| format!("demo data: org {org_code} missing"))?;
        let check = id_check_char(first17.as_bytes()).ok_or("demo data: bad ID number body")?;
        let input = MemberIn {
            org_id: org.id.0,
            name: name.to_owned(),
            id_number: format!("{first17}{check}"),
            phone: phone.to_owned(),
            gender: None,
            birth_date: None,
            employer: Some(employer.to_owned()),
            occupation,
            employment_form: if gig {
                EmploymentForm::Gig
            } else {
                EmploymentForm::Standard
            },
            joined_on: None,
        };
        let person = new_member(pii, input).map_err(|e| format!("demo data: {name}: {e}"))?;
        let new = NewApplication {
            person,
            password_hash: Some(password_hash.to_owned()),
            secret_hash: hash_secret(&random_token("uha_")),
            submitted_by: None,
        };
        match join_applications::insert(db, new).await {
            Ok(_) => report.applications_created += 1,
            // Loaded before: the application is still pending.
            Err(e) if e.is_conflict_on("pending_application") => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The claims the demo files on the hospital plan, one per state a claim can be in:
/// the state, the stay in days, and the incident's day of the term.
const DEMO_CLAIMS: [(ClaimStatus, u32, i64); 6] = [
    (ClaimStatus::Submitted, 5, 200),
    (ClaimStatus::UnderReview, 7, 190),
    (ClaimStatus::Approved, 10, 150),
    (ClaimStatus::Rejected, 4, 120),
    (ClaimStatus::Returned, 6, 100),
    (ClaimStatus::Paid, 12, 60),
];

/// The three example plans of this year, owned by the Ji'an federation: hospital
/// allowance (¥80 a share; ¥50 a day beyond 3 days, capped at ¥4,500 a share),
/// accident (¥40 a share, ¥20,000 sum insured) and critical illness (¥500 on days
/// 30–90, ¥10,000 after day 90).
fn demo_plans(year: i32) -> Result<[(&'static str, PlanTerms); 3], StartError> {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or("demo data: bad year")?;
    let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or("demo data: bad year")?;
    let terms = |premium, waiting_days, benefits| PlanTerms {
        share_premium_fen: premium,
        max_shares: 5,
        term_start: start,
        term_end: end,
        waiting_days,
        eligibility: Eligibility::default(),
        benefits,
    };
    Ok([
        (
            "职工住院津贴互助保障",
            terms(
                8_000,
                30,
                BenefitRules::HospitalAllowance {
                    daily_allowance_fen: 5_000,
                    deductible_days: 3,
                    term_cap_fen: 450_000,
                    per_claim_cap_fen: None,
                },
            ),
        ),
        (
            "新就业形态劳动者意外伤害互助保障",
            terms(
                4_000,
                0,
                BenefitRules::Accident {
                    sum_insured_fen: 2_000_000,
                    expense_deductible_fen: 10_000,
                    reimbursement_ratio_bp: 8_000,
                    disability_table: standard_disability_table(),
                    death_percent: 100,
                },
            ),
        ),
        (
            "职工重大疾病互助保障",
            terms(
                10_000,
                30,
                BenefitRules::CriticalIllness {
                    tiers: vec![
                        IllnessTier {
                            from_day: 30,
                            amount_per_share_fen: 50_000,
                        },
                        IllnessTier {
                            from_day: 91,
                            amount_per_share_fen: 1_000_000,
                        },
                    ],
                },
            ),
        ),
    ])
}

/// The demo plans (created and opened once, found by name afterwards), the platform
/// union's delivery riders enrolled as a group in the hospital and accident plans
/// (paid by the union, cover from the term start), and hospital claims in every state.
async fn load_insurance(db: &Db, pii: &PiiCipher, report: &mut Report) -> Result<(), StartError> {
    let owner = orgs::find_by_code_unscoped(db, "ja")
        .await?
        .ok_or("demo data: org ja missing")?;
    let union = orgs::find_by_code_unscoped(db, PLATFORM.2)
        .await?
        .ok_or_else(|| format!("demo data: org {} missing", PLATFORM.2))?;
    let owned = Reach::over(vec![owner.path.clone()]);
    let existing = insurance::list_plans(
        db,
        PlanScope::Administered(&owned),
        &PlanFilter {
            org_id: Some(owner.id),
            ..Default::default()
        },
        PageRequest {
            limit: 200,
            after: None,
        },
    )
    .await?
    .items;
    let operator = Actor {
        user_id: None,
        request_id: None,
    };
    let today = crate::routes::members::today_in_china();
    let mut plans = Vec::new();
    for (name, terms) in demo_plans(today.year())? {
        if let Some(plan) = existing.iter().find(|p| p.name == name) {
            plans.push(plan.clone());
            continue;
        }
        let draft = insurance::insert_plan(
            db,
            NewPlan {
                org_id: owner.id,
                name: name.to_owned(),
                terms,
            },
        )
        .await?;
        let open = insurance::update_plan(
            db,
            &draft,
            draft.version,
            PlanChanges {
                status: Some(PlanStatus::Open),
                ..Default::default()
            },
        )
        .await?;
        report.plans_created += 1;
        plans.push(open);
    }
    let demo_error = |e: crate::error::ApiError| format!("demo data: insurance: {e}");
    let txn = db::begin_write(db).await?;
    for plan in plans.iter().take(2) {
        let how = Enrolling {
            plan,
            shares: 1,
            paid_by: PaidBy::Union,
            cover_start: plan.terms.term_start,
            enrolled_by: None,
        };
        let whom = Whom::Selected(Selector {
            subtree: union.path.clone(),
            occupation: Some(Occupation::DeliveryRider),
            employment_form: None,
        });
        let enrolled = insurance_api::enroll(&txn, None, &how, whom)
            .await
            .map_err(demo_error)?;
        report.enrollments_created += usize::try_from(enrolled.enrolled).unwrap_or(0);
    }
    let hospital = &plans[0];
    let everyone = Reach::over(vec![owner.path.clone()]);
    let filed_before = insurance::list_claims(
        &txn,
        OwnerScope::Staff(&everyone),
        &ClaimFilter {
            plan_id: Some(hospital.id),
            ..Default::default()
        },
        PageRequest {
            limit: 1,
            after: None,
        },
    )
    .await?;
    if filed_before.items.is_empty() {
        let enrollments = insurance::list_enrollments(
            &txn,
            OwnerScope::Staff(&everyone),
            &EnrollmentFilter {
                plan_id: Some(hospital.id),
                member_id: None,
            },
            PageRequest {
                limit: 200,
                after: None,
            },
        )
        .await?
        .items;
        for ((target, days, on_day), enrollment) in DEMO_CLAIMS.into_iter().zip(enrollments) {
            let incident_date = hospital.terms.term_start + chrono::Duration::days(on_day);
            if incident_date > today {
                continue;
            }
            let facts = ClaimFacts {
                kind: ClaimKind::HospitalStay,
                incident_date,
                hospital_days: Some(days),
                expenses_fen: None,
                disability_grade: None,
                diagnosis: None,
            };
            let data = ClaimData {
                kind: ClaimKind::HospitalStay,
                incident_date,
                hospital_days: Some(days),
                expenses_fen: None,
                diagnosis_sealed: None,
                disability_grade: None,
                documents: vec![format!("demo/discharge-summary-{on_day}.pdf")],
            };
            let mut claim =
                insurance_api::file_claim(&txn, enrollment, facts, data, today, &operator)
                    .await
                    .map_err(demo_error)?;
            report.claims_created += 1;
            let steps: &[ClaimAction] = match target {
                ClaimStatus::Submitted => &[],
                ClaimStatus::UnderReview => &[ClaimAction::StartReview],
                ClaimStatus::Approved => &[
                    ClaimAction::StartReview,
                    ClaimAction::Decide(Decision::Approve),
                ],
                ClaimStatus::Rejected => &[ClaimAction::Decide(Decision::Reject)],
                ClaimStatus::Returned => &[
                    ClaimAction::StartReview,
                    ClaimAction::Decide(Decision::Return),
                ],
                ClaimStatus::Paid => &[ClaimAction::Decide(Decision::Approve), ClaimAction::Pay],
            };
            for step in steps {
                claim = match *step {
                    ClaimAction::Decide(decision) => {
                        let reason = match decision {
                            Decision::Approve => None,
                            Decision::Reject => {
                                Some("住院发生在保障期外的转院途中，不属于保障范围".to_owned())
                            }
                            Decision::Return => Some("请补充出院小结和住院费用清单".to_owned()),
                        };
                        insurance_api::decide_claim(
                            &txn, pii, &claim, decision, reason, None, &operator,
                        )
                        .await
                        .map_err(demo_error)?
                    }
                    ClaimAction::Pay => insurance_api::move_claim(
                        &txn,
                        &claim,
                        ClaimAction::Pay,
                        Some(format!("DEMO-PAY-{on_day:03}")),
                        &operator,
                    )
                    .await
                    .map_err(demo_error)?,
                    other => insurance_api::move_claim(&txn, &claim, other, None, &operator)
                        .await
                        .map_err(demo_error)?,
                };
            }
        }
    }
    txn.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// A demo palace: union code, name, address, region, (lat, lng), phone.
type DemoPalace = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    (f64, f64),
    &'static str,
);

/// The demo palaces.
const PALACES: [DemoPalace; 3] = [
    (
        "jj-palace",
        "九江市职工文化宫",
        "九江市浔阳区浔阳东路 1 号",
        "360403",
        (29.7166, 116.0017),
        "0792-8221234",
    ),
    (
        "nc",
        "南昌市工人文化宫",
        "南昌市东湖区八一大道 301 号",
        "360102",
        (28.6822, 115.9042),
        "0791-86661234",
    ),
    (
        "ja",
        "吉安市职工文化活动中心",
        "吉安市吉州区井冈山大道 88 号",
        "360802",
        (27.1138, 114.9927),
        "0796-8221234",
    ),
];

/// Demo venues per palace (index into [`PALACES`]): name, kind, units, slot minutes,
/// whether guests may book (at ¥20 a unit and slot).
const VENUES: [(
    usize,
    &str,
    unionhall_domain::palaces::VenueKind,
    u32,
    u32,
    bool,
); 13] = {
    use unionhall_domain::palaces::VenueKind::*;
    [
        (0, "乒乓球馆", TableTennis, 8, 60, false),
        (0, "篮球馆", Basketball, 2, 60, true),
        (0, "网球场", Tennis, 2, 60, true),
        (0, "门球场", Gateball, 2, 60, false),
        (0, "飞镖室", Darts, 6, 30, true),
        (0, "射箭馆", Archery, 8, 30, false),
        (1, "乒乓球馆", TableTennis, 10, 60, false),
        (1, "篮球馆", Basketball, 2, 60, true),
        (1, "网球场", Tennis, 3, 60, true),
        (2, "乒乓球室", TableTennis, 6, 60, false),
        (2, "门球场", Gateball, 2, 60, false),
        (2, "飞镖室", Darts, 4, 30, true),
        (2, "射箭场", Archery, 6, 30, false),
    ]
};

/// The demo palaces in Jiujiang, Nanchang and Ji'an with their venues (found by name
/// when loaded before), and a week of bookings by the demo members starting tomorrow:
/// one hour a day each, at 15:00–20:00 local time, never twice for the same member,
/// venue and start. Bookings go through the same capacity hold as the API's.
async fn load_palaces(db: &Db, report: &mut Report) -> Result<(), StartError> {
    use chrono::{Days, TimeDelta, TimeZone};
    use unionhall_domain::palaces::{BookingRules, OpeningHours, TimeRange, local_date};
    use unionhall_persistence::members::MemberFilter;
    use unionhall_persistence::palaces::{
        self as repo, BookingFilter, BookingScope, NewBooking, PalaceData, PalaceFilter, VenueData,
    };

    let range = |from: (u32, u32), to: (u32, u32)| {
        TimeRange::new(from, to).ok_or("demo data: bad opening hours")
    };
    let weekday = vec![range((8, 0), (12, 0))?, range((14, 0), (21, 0))?];
    let weekend = vec![range((9, 0), (21, 0))?];
    let hours = OpeningHours {
        mon: weekday.clone(),
        tue: weekday.clone(),
        wed: weekday.clone(),
        thu: weekday.clone(),
        fri: weekday,
        sat: weekend.clone(),
        sun: weekend,
    };
    let page = PageRequest {
        limit: 200,
        after: None,
    };
    let mut venues = Vec::new();
    for (i, (org_code, name, address, region, (lat, lng), phone)) in PALACES.iter().enumerate() {
        let org = orgs::find_by_code_unscoped(db, org_code)
            .await?
            .ok_or_else(|| format!("demo data: org {org_code} missing"))?;
        let filter = PalaceFilter {
            region_code: None,
            org_path: Some(org.path.clone()),
        };
        let existing = repo::list_palaces(db, &filter, page).await?.items;
        let palace = match existing.into_iter().find(|p| p.name == *name) {
            Some(p) => p,
            None => {
                report.palaces_created += 1;
                repo::insert_palace(
                    db,
                    org.id,
                    PalaceData {
                        name: (*name).to_owned(),
                        address: (*address).to_owned(),
                        region_code: (*region).to_owned(),
                        location: Some((*lat, *lng)),
                        contact_name: None,
                        contact_phone: Some((*phone).to_owned()),
                        photos: Vec::new(),
                        time_zone: DEFAULT_TIME_ZONE.to_owned(),
                    },
                )
                .await?
            }
        };
        let existing = repo::list_venues(db, palace.id, page).await?.items;
        for (_, venue_name, kind, units, slot_minutes, guests) in VENUES.iter().filter(|v| v.0 == i)
        {
            let venue = match existing.iter().find(|v| v.data.name == *venue_name) {
                Some(v) => v.clone(),
                None => {
                    report.venues_created += 1;
                    let rules = BookingRules {
                        members_only: !guests,
                        max_days_ahead: 7,
                        ..BookingRules::default()
                    };
                    repo::insert_venue(
                        db,
                        palace.id,
                        VenueData {
                            name: (*venue_name).to_owned(),
                            kind: *kind,
                            units: *units,
                            slot_minutes: *slot_minutes,
                            opening_hours: hours.clone(),
                            booking_rules: rules,
                            member_price_fen: 0,
                            guest_price_fen: if *guests { 2_000 } else { 0 },
                        },
                    )
                    .await?
                }
            };
            venues.push(venue);
        }
    }

    let root = orgs::find_root(db)
        .await?
        .ok_or("no root organisation: start the service once first")?;
    let demo_members = members::list(
        db,
        &Reach::over(vec![root.path]),
        &MemberFilter {
            status: Some(unionhall_domain::members::MemberStatus::Active),
            ..Default::default()
        },
        PageRequest {
            limit: u64::try_from(MEMBERS.len()).unwrap_or(12),
            after: None,
        },
    )
    .await?
    .items;
    let booker = users::credentials(db, "jj-palace-staff")
        .await?
        .ok_or("demo data: jj-palace-staff missing")?
        .0;
    let tz = chrono_tz::Asia::Shanghai;
    let today = crate::routes::members::today_in_china();
    for day in 1..=7u64 {
        let date = today
            .checked_add_days(Days::new(day))
            .ok_or("demo data: date out of range")?;
        for (k, member) in demo_members.iter().enumerate() {
            let Some(venue) =
                venues.get((k * 3 + usize::try_from(day).unwrap_or(0)) % venues.len())
            else {
                continue;
            };
            let hour = 15 + u32::try_from(k % 5).unwrap_or(0);
            let start = tz
                .from_local_datetime(&date.and_hms_opt(hour, 0, 0).ok_or("demo data: bad hour")?)
                .earliest()
                .ok_or("demo data: bad local time")?
                .with_timezone(&chrono::Utc);
            let end = start + TimeDelta::hours(1);
            let booked = repo::list_bookings(
                db,
                BookingScope::Member(member.id),
                &BookingFilter {
                    venue_id: Some(venue.id),
                    date: Some(date),
                    ..Default::default()
                },
                chrono::Utc::now(),
                page,
            )
            .await?;
            if booked.items.iter().any(|b| b.start == start) {
                continue;
            }
            let txn = db::begin_write(db).await?;
            match repo::hold_capacity(&txn, venue.id, start, end, 1, venue.data.units).await {
                Ok(()) => {}
                Err(repo::HoldError::Full { .. }) => continue,
                Err(repo::HoldError::Store(e)) => return Err(e.into()),
            }
            repo::insert_booking(
                &txn,
                NewBooking {
                    venue_id: venue.id,
                    member_id: Some(member.id),
                    member_org_id: Some(member.org_id),
                    guest_name: None,
                    start,
                    end,
                    local_date: local_date(start, tz),
                    units: 1,
                    minutes: 60,
                    price_fen: 0,
                    grace_minutes: venue.data.booking_rules.no_show_grace_minutes,
                    created_by: booker,
                },
            )
            .await?;
            txn.commit().await.map_err(StoreError::from)?;
            report.bookings_created += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_region_code_is_current() {
        for (_, _, region) in CITIES {
            assert!(
                unionhall_domain::orgs::check_region_code(region).is_ok(),
                "{region}"
            );
        }
        for (_, _, _, _, region) in BELOW {
            if let Some(region) = region {
                assert!(
                    unionhall_domain::orgs::check_region_code(region).is_ok(),
                    "{region}"
                );
            }
        }
    }
}

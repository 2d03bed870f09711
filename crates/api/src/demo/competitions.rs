//! The demo's competitions, one of each kind, in the states a client meets them:
//!
//! - the province's "Tiangong Cup" skills contest, over: four judges' sheets, trimmed
//!   means, results published with prizes and the provincial technical-expert title;
//! - the Nanchang federation's speech contest, open for registration, its panel named;
//! - the province's party-history knowledge quiz, running: twenty questions and a few
//!   hundred submitted attempts on its leaderboard.
//!
//! The entrants are members the demo enrols for the purpose in three grassroots and
//! industry unions. Everything is written as the API would write it (the results by
//! [`rank_and_award`]), in one transaction; a second load finds the quiz and changes
//! nothing.

use super::Report;
use crate::pii::PiiCipher;
use crate::routes::competitions::rank_and_award;
use crate::routes::members::{MemberIn, new_member};
use crate::server::StartError;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeMap, BTreeSet};
use unionhall_domain::competitions::{
    AwardRules, CompetitionKind, CompetitionStatus, CompetitionTerms, Criterion,
    EntrantEligibility, PrizeTier, Question, QuestionKind, RankBand, RankKind, ScoringMethod,
    TieBreak, Windows, deadline, paper_seed, score_answers, shuffled_paper, time_taken_ms,
};
use unionhall_domain::members::{EmploymentForm, Occupation};
use unionhall_domain::orgs::Org;
use unionhall_domain::person::id_check_char;
use unionhall_domain::roles::Role;
use unionhall_domain::users::RoleBinding;
use unionhall_domain::{MemberId, OrgId, UserId};
use unionhall_persistence::competitions::{self as repo, Competition, CompetitionData, Submitted};
use unionhall_persistence::members::{self, Actor};
use unionhall_persistence::users::{self, NewUser};
use unionhall_persistence::{DatabaseTransaction, Db, StoreError, db, orgs};

const SKILLS: &str = "第十届江西省“天工杯”职业技能大赛（信息通信网络运行管理员）";
const SPEECH: &str = "“永远跟党走 奋进新征程”南昌市职工演讲比赛";
const QUIZ: &str = "江西省职工党史知识网络竞赛";

/// Entrants enrolled for the demo: (union code, region of birth, employer, occupation).
const ENTRANT_UNIONS: [(&str, &str, &str, Occupation); 3] = [
    (
        "nc-donghu-express",
        "360102",
        "顺丰速运南昌东湖分部",
        Occupation::Courier,
    ),
    ("jj-palace", "360403", "九江市职工文化宫", Occupation::Other),
    (
        "gz-rare-earth",
        "360702",
        "赣州稀土集团",
        Occupation::FactoryWorker,
    ),
];
/// How many members take the quiz; a few more register and never start.
const QUIZ_TAKERS: usize = 300;
const ENTRANTS: usize = 320;

const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "胡", "朱", "高", "罗",
];
const GIVEN: [&str; 20] = [
    "伟", "芳", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "霞", "平", "刚",
    "桂英", "建华", "志刚", "秀兰",
];

/// Staff the demo's contests need: username, display name, org code, role.
const STAFF: [(&str, &str, &str, Role); 8] = [
    (
        "jx-contests",
        "省总工会劳动和经济工作部",
        "",
        Role::UnionAdmin,
    ),
    ("judge-li", "李评委（高级工程师）", "", Role::Judge),
    ("judge-wang", "王评委（高级技师）", "", Role::Judge),
    ("judge-zhang", "张评委（教授）", "", Role::Judge),
    ("judge-zhao", "赵评委（技能大师）", "", Role::Judge),
    ("nc-judge-hu", "胡评委（播音指导）", "nc", Role::Judge),
    ("nc-judge-xu", "徐评委（语文教师）", "nc", Role::Judge),
    ("nc-judge-luo", "罗评委（宣传干部）", "nc", Role::Judge),
];

/// The quiz's bank: kind, prompt, options, indexes of the correct ones.
type DemoQuestion = (
    QuestionKind,
    &'static str,
    &'static [&'static str],
    &'static [usize],
);

const TRUE_FALSE: &[&str] = &["正确", "错误"];

const QUESTIONS: [DemoQuestion; 20] = {
    use QuestionKind::*;
    [
        (
            SingleChoice,
            "中国共产党第一次全国代表大会于哪一年召开？",
            &["1919年", "1921年", "1927年", "1949年"],
            &[1],
        ),
        (
            SingleChoice,
            "八一南昌起义发生在哪一年？",
            &["1926年", "1927年", "1929年", "1931年"],
            &[1],
        ),
        (
            SingleChoice,
            "中国共产党创建的第一个农村革命根据地是？",
            &[
                "井冈山革命根据地",
                "中央革命根据地",
                "陕甘革命根据地",
                "鄂豫皖革命根据地",
            ],
            &[0],
        ),
        (
            SingleChoice,
            "安源路矿工人大罢工发生于哪一年？",
            &["1921年", "1922年", "1923年", "1925年"],
            &[1],
        ),
        (
            SingleChoice,
            "中华苏维埃共和国临时中央政府成立于哪里？",
            &["江西瑞金", "陕西延安", "江西井冈山", "贵州遵义"],
            &[0],
        ),
        (
            SingleChoice,
            "中华全国总工会成立于哪一年？",
            &["1921年", "1925年", "1937年", "1948年"],
            &[1],
        ),
        (
            SingleChoice,
            "中国劳动组合书记部成立于哪一年？",
            &["1920年", "1921年", "1922年", "1925年"],
            &[1],
        ),
        (
            SingleChoice,
            "遵义会议召开于哪一年？",
            &["1934年", "1935年", "1936年", "1937年"],
            &[1],
        ),
        (
            SingleChoice,
            "中国人民解放军建军节是哪一天？",
            &["8月1日", "10月1日", "7月1日", "5月4日"],
            &[0],
        ),
        (
            SingleChoice,
            "下列哪一项属于劳模精神的内容？",
            &["爱岗敬业、争创一流", "因循守旧", "急功近利", "墨守成规"],
            &[0],
        ),
        (
            SingleChoice,
            "下列哪一项属于工匠精神的内容？",
            &["精益求精", "得过且过", "粗制滥造", "敷衍了事"],
            &[0],
        ),
        (
            MultipleChoice,
            "下列哪些属于井冈山精神的内容？",
            &[
                "坚定执着追理想",
                "实事求是闯新路",
                "艰苦奋斗攻难关",
                "闭关自守求安稳",
            ],
            &[0, 1, 2],
        ),
        (
            MultipleChoice,
            "下列哪些革命旧址位于江西省？",
            &[
                "井冈山茨坪革命旧址群",
                "瑞金叶坪革命旧址群",
                "安源路矿工人俱乐部旧址",
                "遵义会议会址",
            ],
            &[0, 1, 2],
        ),
        (
            MultipleChoice,
            "下列哪些属于苏区精神的内容？",
            &["坚定信念", "求真务实", "一心为民", "贪图享乐"],
            &[0, 1, 2],
        ),
        (
            MultipleChoice,
            "中央红军长征从下列哪些地方出发？",
            &["江西瑞金", "江西于都", "陕西延安", "湖南长沙"],
            &[0, 1],
        ),
        (
            TrueFalse,
            "中国工会是中国共产党领导的职工自愿结合的工人阶级群众组织。",
            TRUE_FALSE,
            &[0],
        ),
        (
            TrueFalse,
            "国际劳动节源于1886年美国芝加哥工人争取八小时工作制的大罢工。",
            TRUE_FALSE,
            &[0],
        ),
        (
            TrueFalse,
            "中华人民共和国成立于1949年10月1日。",
            TRUE_FALSE,
            &[0],
        ),
        (
            TrueFalse,
            "井冈山革命根据地创建于1937年。",
            TRUE_FALSE,
            &[1],
        ),
        (TrueFalse, "秋收起义发生于1927年。", TRUE_FALSE, &[0]),
    ]
};

/// A deterministic stand-in for chance: the same demo every time.
fn roll(a: usize, b: usize) -> usize {
    let mut x =
        (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (b as u64).wrapping_add(0xBF58_476D);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    usize::try_from(x % 1_000_000).unwrap_or(0)
}

fn demo_error(e: impl std::fmt::Display) -> StartError {
    format!("demo data: competitions: {e}").into()
}

/// Loads the competitions (once).
pub async fn load(
    db: &Db,
    pii: &PiiCipher,
    password_hash: &str,
    report: &mut Report,
) -> Result<(), StartError> {
    let root = orgs::find_root(db)
        .await?
        .ok_or("no root organisation: start the service once first")?;
    if repo::find_competition_by_name(db, root.id, QUIZ)
        .await?
        .is_some()
    {
        report
            .areas
            .push("competitions: loaded before, nothing changed".to_owned());
        return Ok(());
    }
    let now = Utc::now();
    let txn = db::begin_write(db).await?;
    let staff = ensure_staff(&txn, &root, password_hash).await?;
    let organiser = staff[0];
    let entrants = enrol_entrants(&txn, pii).await?;

    let skills = skills_contest(&txn, &root, &staff[1..5], organiser, &entrants, now).await?;
    let speech = speech_contest(&txn, &staff[5..8], organiser, &entrants, now).await?;
    let attempts = quiz(&txn, &root, organiser, &entrants, now).await?;
    txn.commit().await.map_err(StoreError::from)?;
    report.areas.push(format!(
        "competitions: {} members enrolled as entrants; skills contest with {} ranked \
         ({} awarded), speech contest open with {} registered, party-history quiz with \
         {attempts} submitted attempts",
        entrants.len(),
        skills.0,
        skills.1,
        speech,
    ));
    Ok(())
}

/// The contests' administrator and judges (found by username when they exist).
async fn ensure_staff(
    txn: &DatabaseTransaction,
    root: &Org,
    password_hash: &str,
) -> Result<Vec<UserId>, StartError> {
    let mut ids = Vec::with_capacity(STAFF.len());
    for (username, display_name, org_code, role) in STAFF {
        if let Some((id, ..)) = users::credentials(txn, username).await? {
            ids.push(id);
            continue;
        }
        let org_id = if org_code.is_empty() {
            root.id
        } else {
            orgs::find_by_code_unscoped(txn, org_code)
                .await?
                .ok_or_else(|| demo_error(format!("org {org_code} missing")))?
                .id
        };
        let user = users::insert(
            txn,
            NewUser {
                username: username.to_owned(),
                password_hash: password_hash.to_owned(),
                display_name: display_name.to_owned(),
                org_id,
                roles: vec![RoleBinding { role, org_id }],
            },
        )
        .await?;
        ids.push(user.id);
    }
    Ok(ids)
}

/// Enrols [`ENTRANTS`] members across [`ENTRANT_UNIONS`], round robin, with valid ID
/// numbers (born 1970–1999) and mobile numbers of their own.
async fn enrol_entrants(
    txn: &DatabaseTransaction,
    pii: &PiiCipher,
) -> Result<Vec<(MemberId, OrgId)>, StartError> {
    let mut unions = Vec::new();
    for (code, ..) in ENTRANT_UNIONS {
        let org = orgs::find_by_code_unscoped(txn, code)
            .await?
            .ok_or_else(|| demo_error(format!("org {code} missing")))?;
        unions.push(org.id);
    }
    let mut news = Vec::with_capacity(ENTRANTS);
    let mut orgs_of = Vec::with_capacity(ENTRANTS);
    for i in 0..ENTRANTS {
        let u = i % ENTRANT_UNIONS.len();
        let (_, region, employer, occupation) = ENTRANT_UNIONS[u];
        let first17 = format!(
            "{region}{}{:02}{:02}{:03}",
            1970 + i % 30,
            i % 12 + 1,
            i % 28 + 1,
            300 + i
        );
        let check = id_check_char(first17.as_bytes()).ok_or_else(|| demo_error("ID number"))?;
        let name = format!(
            "{}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i / SURNAMES.len() + i) % GIVEN.len()]
        );
        let input = MemberIn {
            org_id: unions[u].0,
            name,
            id_number: format!("{first17}{check}"),
            phone: format!("1357079{i:04}"),
            gender: None,
            birth_date: None,
            employer: Some(employer.to_owned()),
            occupation,
            employment_form: if occupation == Occupation::Courier {
                EmploymentForm::Gig
            } else {
                EmploymentForm::Standard
            },
            joined_on: None,
        };
        news.push(new_member(pii, input).map_err(demo_error)?);
        orgs_of.push(unions[u]);
    }
    let actor = Actor {
        user_id: None,
        request_id: None,
    };
    let ids = members::insert_many(txn, news, &actor).await?;
    Ok(ids
        .into_iter()
        .zip(orgs_of)
        .filter_map(|(id, org)| id.map(|id| (id, org)))
        .collect())
}

/// Inserts a competition and moves it straight to `status`: the demo sets the scene
/// rather than living through the weeks before it.
async fn insert(
    txn: &DatabaseTransaction,
    org_id: OrgId,
    data: CompetitionData,
    status: CompetitionStatus,
    organiser: UserId,
) -> Result<Competition, StartError> {
    let c = repo::insert_competition(txn, org_id, data.clone(), organiser).await?;
    repo::update_competition(txn, c.id, c.version, status, data)
        .await
        .map_err(|e| demo_error(format!("{e:?}")))
}

fn days(n: i64) -> TimeDelta {
    TimeDelta::days(n)
}

fn criterion(key: &str, name: &str, weight_bp: u32, max_points: i64) -> Criterion {
    Criterion {
        key: key.to_owned(),
        name: name.to_owned(),
        weight_bp,
        max_hundredths: max_points * 100,
    }
}

/// The skills contest, judged six weeks ago by four judges and published: (ranked,
/// awarded).
async fn skills_contest(
    txn: &DatabaseTransaction,
    root: &Org,
    judges: &[UserId],
    organiser: UserId,
    entrants: &[(MemberId, OrgId)],
    now: DateTime<Utc>,
) -> Result<(usize, u64), StartError> {
    let data = CompetitionData {
        name: SKILLS.to_owned(),
        category: Some("信息技术".to_owned()),
        terms: CompetitionTerms {
            kind: CompetitionKind::Skills,
            windows: Windows {
                registration_opens: now - days(75),
                registration_closes: now - days(60),
                run_starts: now - days(45),
                run_ends: now - days(44),
            },
            capacity: Some(60),
            eligibility: EntrantEligibility { occupations: None },
            criteria: vec![
                criterion("theory", "理论知识", 3000, 30),
                criterion("practical", "实际操作", 7000, 70),
            ],
            scoring_method: ScoringMethod::TrimmedMean,
            rank_kind: RankKind::Competition,
            tie_breaks: vec![TieBreak::Criterion("practical".to_owned())],
            time_limit_seconds: None,
            exclude_own_union_judges: true,
        },
    };
    let c = insert(txn, root.id, data, CompetitionStatus::Judging, organiser).await?;
    for judge in judges {
        repo::assign_judge(txn, c.id, *judge, organiser).await?;
    }
    for (i, (member, org)) in entrants.iter().take(12).enumerate() {
        let reg = repo::register(txn, c.id, *member, *org, organiser)
            .await
            .map_err(|e| demo_error(format!("{e:?}")))?;
        for (j, judge) in judges.iter().enumerate() {
            // Each entrant has a level; each judge sees it a little differently.
            let level = 60 + (roll(i, 0) % 35) as i64;
            let spread = (roll(i, j + 1) % 700) as i64 - 350;
            let theory = (level * 30 + spread / 3).clamp(0, 3000);
            let practical = (level * 70 + spread).clamp(0, 7000);
            let scores = BTreeMap::from([
                ("theory".to_owned(), theory),
                ("practical".to_owned(), practical),
            ]);
            repo::record_sheet(txn, c.id, reg.id, *judge, &scores).await?;
        }
    }
    let rules = AwardRules::Rank {
        bands: vec![
            RankBand {
                from_rank: 1,
                to_rank: 1,
                tier: PrizeTier::First,
                honour_title: Some("江西省技术能手".to_owned()),
            },
            RankBand {
                from_rank: 2,
                to_rank: 3,
                tier: PrizeTier::Second,
                honour_title: None,
            },
            RankBand {
                from_rank: 4,
                to_rank: 6,
                tier: PrizeTier::Third,
                honour_title: None,
            },
            RankBand {
                from_rank: 7,
                to_rank: 10,
                tier: PrizeTier::Excellence,
                honour_title: None,
            },
        ],
    };
    let c = repo::get_competition(txn, c.id).await?;
    let (rows, awarded) = rank_and_award(txn, &c, &rules)
        .await
        .map_err(|e| demo_error(format!("{e:?}")))?;
    let ranked = rows.len();
    repo::publish_results(txn, &c, c.status, rows).await?;
    Ok((ranked, awarded))
}

/// The speech contest, open for registration with its panel named: how many registered.
async fn speech_contest(
    txn: &DatabaseTransaction,
    judges: &[UserId],
    organiser: UserId,
    entrants: &[(MemberId, OrgId)],
    now: DateTime<Utc>,
) -> Result<usize, StartError> {
    let nc = orgs::find_by_code_unscoped(txn, "nc")
        .await?
        .ok_or_else(|| demo_error("org nc missing"))?;
    let data = CompetitionData {
        name: SPEECH.to_owned(),
        category: Some("演讲".to_owned()),
        terms: CompetitionTerms {
            kind: CompetitionKind::Speech,
            windows: Windows {
                registration_opens: now - days(5),
                registration_closes: now + days(10),
                run_starts: now + days(14),
                run_ends: now + days(15),
            },
            capacity: Some(40),
            eligibility: EntrantEligibility { occupations: None },
            criteria: vec![
                criterion("content", "演讲内容", 10_000, 40),
                criterion("delivery", "语言表达", 10_000, 35),
                criterion("presence", "形象风度", 10_000, 25),
            ],
            scoring_method: ScoringMethod::TrimmedMean,
            rank_kind: RankKind::Dense,
            tie_breaks: vec![TieBreak::Criterion("content".to_owned())],
            time_limit_seconds: None,
            exclude_own_union_judges: false,
        },
    };
    let c = insert(txn, nc.id, data, CompetitionStatus::Registration, organiser).await?;
    for judge in judges {
        repo::assign_judge(txn, c.id, *judge, organiser).await?;
    }
    // The Nanchang couriers (the first union of ENTRANT_UNIONS) may enter; eight have.
    let mut registered = 0;
    for (member, org) in entrants.iter().step_by(ENTRANT_UNIONS.len()).take(8) {
        repo::register(txn, c.id, *member, *org, organiser)
            .await
            .map_err(|e| demo_error(format!("{e:?}")))?;
        registered += 1;
    }
    Ok(registered)
}

/// The quiz, running for three days of its ten, with [`QUIZ_TAKERS`] attempts submitted
/// at ten-minute intervals since it opened: how many.
async fn quiz(
    txn: &DatabaseTransaction,
    root: &Org,
    organiser: UserId,
    entrants: &[(MemberId, OrgId)],
    now: DateTime<Utc>,
) -> Result<usize, StartError> {
    let windows = Windows {
        registration_opens: now - days(10),
        registration_closes: now - days(3),
        run_starts: now - days(3),
        run_ends: now + days(7),
    };
    let data = CompetitionData {
        name: QUIZ.to_owned(),
        category: Some("党史学习教育".to_owned()),
        terms: CompetitionTerms {
            kind: CompetitionKind::Quiz,
            windows,
            capacity: None,
            eligibility: EntrantEligibility { occupations: None },
            criteria: Vec::new(),
            scoring_method: ScoringMethod::Mean,
            rank_kind: RankKind::Competition,
            tie_breaks: vec![TieBreak::TimeTaken],
            time_limit_seconds: Some(20 * 60),
            exclude_own_union_judges: false,
        },
    };
    let c = insert(txn, root.id, data, CompetitionStatus::Running, organiser).await?;
    let mut bank = Vec::with_capacity(QUESTIONS.len());
    for (kind, prompt, options, correct) in QUESTIONS {
        let q = Question {
            id: uuid::Uuid::now_v7(),
            kind,
            prompt: prompt.to_owned(),
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            correct: correct.to_vec(),
            points: 5,
        };
        q.validate()
            .map_err(|p| demo_error(format!("question {prompt}: {p:?}")))?;
        bank.push(repo::insert_question(txn, c.id, &q).await?);
    }
    let mut submitted = 0;
    for (i, (member, org)) in entrants.iter().enumerate() {
        repo::register(txn, c.id, *member, *org, organiser)
            .await
            .map_err(|e| demo_error(format!("{e:?}")))?;
        if i >= QUIZ_TAKERS {
            continue;
        }
        let started = windows.run_starts + TimeDelta::minutes(10 * i as i64);
        let attempt = repo::start_attempt(txn, c.id, *member, started)
            .await
            .map_err(|e| demo_error(format!("{e:?}")))?;
        let seed = paper_seed(attempt.id);
        // Each taker knows 55–98% of the answers and takes 4–19 minutes.
        let knows = 550_000 + roll(i, 100) % 430_000;
        let mut answers: BTreeMap<uuid::Uuid, BTreeSet<String>> = BTreeMap::new();
        for (n, q) in shuffled_paper(&bank, seed).into_iter().enumerate() {
            let question = bank
                .iter()
                .find(|b| b.id == q.question_id)
                .ok_or_else(|| demo_error("paper question not in the bank"))?;
            let right: BTreeSet<&str> = question
                .correct
                .iter()
                .filter_map(|&k| question.options.get(k).map(String::as_str))
                .collect();
            let correct = roll(i, n + 200) < knows;
            let keys = q
                .options
                .iter()
                .filter(|o| right.contains(o.text.as_str()) == correct)
                .map(|o| o.key.clone())
                .take(if correct { usize::MAX } else { 1 })
                .collect();
            answers.insert(q.question_id, keys);
        }
        let at = started + TimeDelta::seconds(240 + (roll(i, 300) % 900) as i64);
        let until = deadline(
            started,
            c.terms.time_limit().unwrap_or_default(),
            windows.run_ends,
        );
        let outcome = Submitted {
            at,
            score: score_answers(&bank, &answers, seed),
            time_taken_ms: time_taken_ms(started, at, until),
        };
        if repo::submit(txn, attempt.id, &answers, outcome).await? {
            submitted += 1;
        }
    }
    Ok(submitted)
}

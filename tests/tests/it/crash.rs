//! Crashes. Issue 3: "a roster sync interrupted by a crash leaves either all of its
//! writes or none". The app runs as a process of its own (`unionhall-child`), is
//! killed with SIGKILL while it applies a snapshot, and an app opened afterwards on
//! the same database must show the roster and the memberships exactly as they were
//! before that sync or exactly as the sync would have left them — never a mix.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unionhall_tests::riders::{external_id, rider};
use unionhall_tests::{
    ADMIN_PASSWORD, ADMIN_USERNAME, JWT_SECRET, PII_KEY, Reply, ScratchDatabase, TestApp,
};

const PLATFORM: &str = "mt-crash";

/// What is synced and when the process is killed.
struct Scenario {
    /// Riders per snapshot, all consenting.
    riders: u32,
    /// Whether the platform enrols them as members of its union.
    auto_enrol: bool,
    /// When to kill, in quarters of the last whole sync's time, round by round.
    quarters: &'static [u32],
    /// Kills that must come before the answer.
    kills: u32,
}

/// The app in a child process, SIGKILLed when dropped (so a failing test leaves no
/// server behind).
struct ChildApp {
    child: Child,
    /// `127.0.0.1:port`.
    addr: String,
    client: reqwest::Client,
}

impl ChildApp {
    /// Starts `unionhall-child` on `db` with the harness's settings and waits until
    /// it serves.
    async fn start(db: &ScratchDatabase) -> ChildApp {
        let mut command = Command::new(env!("CARGO_BIN_EXE_unionhall-child"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("UNIONHALL_") {
                command.env_remove(name);
            }
        }
        command
            .env("UNIONHALL_CONFIG", db.dir.path().join("no-such-file.toml"))
            .env("UNIONHALL_BIND", "127.0.0.1:0")
            .env("UNIONHALL_DATA_DIR", db.dir.path())
            .env("UNIONHALL_DATABASE_URL", &db.url)
            .env("UNIONHALL_JWT_SECRET", JWT_SECRET)
            .env("UNIONHALL_PII_KEY", PII_KEY)
            .env("UNIONHALL_ADMIN_USERNAME", ADMIN_USERNAME)
            .env("UNIONHALL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("UNIONHALL_WORKERS", "2")
            .env("UNIONHALL_DB_MAX_CONNECTIONS", "5")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("start unionhall-child");
        let stdout = child.stdout.take().unwrap();
        let mut app = ChildApp {
            child,
            addr: String::new(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        };
        let first_line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        });
        let line = tokio::time::timeout(Duration::from_secs(120), first_line)
            .await
            .expect("unionhall-child starts within 2 minutes")
            .unwrap()
            .unwrap();
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            panic!(
                "unionhall-child said {line:?} and then {:?}",
                app.child.try_wait()
            );
        };
        app.addr = addr.to_owned();
        app
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn token(&self, body: &Value) -> String {
        let reply = Reply::from(
            self.client
                .post(self.url("/v1/auth/token"))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json["access_token"].as_str().unwrap().to_owned()
    }

    async fn call(&self, method: Method, path: &str, token: &str, body: Option<&Value>) -> Reply {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::from(request.send().await.unwrap()).await
    }

    /// SIGKILL, and how the process ended.
    fn kill(&mut self) -> ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for ChildApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a roster snapshot PUT on a connection of its own and returns once every
/// byte of it has been handed to the server.
async fn send_snapshot(addr: &str, token: &str, body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT /v1/platforms/{PLATFORM}/roster HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

/// Everything the server sends until it closes the connection, how reading ended,
/// and when.
async fn read_until_closed(mut stream: TcpStream) -> (Vec<u8>, std::io::Result<usize>, Instant) {
    let mut bytes = Vec::new();
    let end = stream.read_to_end(&mut bytes).await;
    (bytes, end, Instant::now())
}

/// The status and JSON body of a whole HTTP/1.1 response (`Connection: close`,
/// sized body).
fn parse_response(bytes: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").expect("a whole response");
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "{head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn snapshot(serials: &std::ops::Range<u32>) -> Vec<u8> {
    let riders: Vec<Value> = serials.clone().map(|n| rider(n, true)).collect();
    serde_json::to_vec(&riders).unwrap()
}

/// Every item of a paged list, following `next_cursor`.
async fn all_pages(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let separator = if path.contains('?') { '&' } else { '?' };
    loop {
        let mut page = format!("{path}{separator}limit=200");
        if let Some(c) = &cursor {
            page.push_str(&format!("&cursor={c}"));
        }
        let reply = app.get(&page, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        out.extend(reply.json["items"].as_array().unwrap().iter().cloned());
        match reply.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn text_set<'a>(items: impl IntoIterator<Item = &'a Value>, field: &str) -> HashSet<String> {
    items
        .into_iter()
        .map(|v| {
            v[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} in {v}"))
                .to_owned()
        })
        .collect()
}

/// The riders of a snapshot, by `external_id`.
fn ids(serials: &std::ops::Range<u32>) -> HashSet<String> {
    serials.clone().map(external_id).collect()
}

/// Whether the platform's roster and its union's memberships, read over HTTP, show
/// the snapshot `new` applied whole (`true`) or not at all (`false`). Before it,
/// `old` was the roster and `earlier` its riders who had left. Anything else — some
/// riders of `new`, part of `old` inactive, a membership without its rider, riders
/// sharing one — fails.
async fn roster_state(
    app: &TestApp,
    token: &str,
    org_id: &str,
    enrolled: bool,
    (earlier, old, new): (&HashSet<String>, &HashSet<String>, &HashSet<String>),
) -> bool {
    let riders_path = format!("/v1/platforms/{PLATFORM}/riders");
    let active = all_pages(app, token, &format!("{riders_path}?status=active")).await;
    let inactive = all_pages(app, token, &format!("{riders_path}?status=inactive")).await;
    let (active_ids, inactive_ids) = (
        text_set(&active, "external_id"),
        text_set(&inactive, "external_id"),
    );
    let applied = if &active_ids == old && &inactive_ids == earlier {
        false
    } else if &active_ids == new && inactive_ids == earlier | old {
        true
    } else {
        let count = |ids: &HashSet<String>, of: &HashSet<String>| ids.intersection(of).count();
        panic!(
            "a sync half applied: {} riders active ({} of the old roster, {} of the new), \
             {} inactive ({} who had left, {} of the old roster, {} of the new)",
            active.len(),
            count(&active_ids, old),
            count(&active_ids, new),
            inactive.len(),
            count(&inactive_ids, earlier),
            count(&inactive_ids, old),
            count(&inactive_ids, new),
        );
    };
    // No rider listed twice (there are no other statuses).
    assert_eq!(active.len(), active_ids.len());
    assert_eq!(inactive.len(), inactive_ids.len());
    let every: Vec<&Value> = active.iter().chain(&inactive).collect();

    // Every rider consented. On an auto-enrolling platform each has a membership of
    // their own, kept when they leave, and the union has no other memberships; on
    // another, no rider has one and neither has the union.
    let members = all_pages(app, token, &format!("/v1/members?org_id={org_id}")).await;
    if !enrolled {
        assert!(every.iter().all(|r| r["member_id"].is_null()));
        assert_eq!(members.len(), 0, "{members:?}");
        return applied;
    }
    let linked = text_set(every.iter().copied(), "member_id");
    assert_eq!(linked.len(), every.len(), "riders sharing a membership");
    let member_ids = text_set(&members, "id");
    assert_eq!(member_ids.len(), members.len());
    assert_eq!(
        members.len(),
        every.len(),
        "{} memberships for {} riders ({} of the memberships linked to a rider)",
        members.len(),
        every.len(),
        linked.intersection(&member_ids).count()
    );
    assert_eq!(member_ids, linked, "every membership is a rider's");
    assert!(
        members
            .iter()
            .all(|m| m["status"] == "active" && m["occupation"] == "delivery_rider"),
        "memberships stay active when riders leave"
    );
    applied
}

fn counts(report: &Value) -> [u64; 6] {
    [
        "created",
        "updated",
        "unchanged",
        "deactivated",
        "rejected",
        "enrolled",
    ]
    .map(|k| {
        report[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {report}"))
    })
}

// ---------------------------------------------------------------------------------

/// Most of an enrolling sync's time goes into enrolment (a membership, its card
/// number and its history per rider); the rider rows are written at the end.
#[tokio::test]
async fn a_roster_sync_killed_while_enrolling_leaves_all_of_its_writes_or_none() {
    kill_syncs(Scenario {
        riders: 2_000,
        auto_enrol: true,
        quarters: &[1, 2, 3, 1, 2, 1],
        kills: 3,
    })
    .await;
}

/// Without enrolment, the time goes into checking and sealing rows and then writing
/// riders (created in batches, the old roster deactivated in batches).
#[tokio::test]
async fn a_roster_sync_killed_while_writing_riders_leaves_all_of_its_writes_or_none() {
    kill_syncs(Scenario {
        riders: 6_000,
        auto_enrol: false,
        quarters: &[2, 3, 2, 3, 2, 3],
        kills: 2,
    })
    .await;
}

/// The app as its own process on a database of its own: a platform, its first
/// snapshot synced whole (timed), then rounds of a new snapshot killed partway
/// through, each followed by a look at the database through another app.
async fn kill_syncs(scenario: Scenario) {
    let Scenario {
        riders,
        auto_enrol,
        quarters,
        kills,
    } = scenario;
    let n = u64::from(riders);
    let e = if auto_enrol { n } else { 0 };
    let db = ScratchDatabase::create().await;
    let backend = if db.on_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let mut child = ChildApp::start(&db).await;

    // An auto-enrolling platform of the root federation, and its token.
    let admin = child
        .token(&json!({"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
        .await;
    let me = child.call(Method::GET, "/v1/me", &admin, None).await;
    let org_id = me.json["roles"][0]["org_id"].as_str().unwrap().to_owned();
    let platform = child
        .call(
            Method::POST,
            "/v1/platforms",
            &admin,
            Some(&json!({"code": PLATFORM, "name": "美团外卖", "org_id": org_id, "auto_enrol": auto_enrol})),
        )
        .await;
    assert_eq!(platform.status, StatusCode::CREATED, "{}", platform.text);
    let token = child
        .token(&json!({
            "grant_type": "client_credentials",
            "client_id": platform.json["client_id"],
            "client_secret": platform.json["client_secret"],
        }))
        .await;

    // The first snapshot, whole: how long does a sync take from the last byte sent?
    let mut roster = 0..riders;
    let stream = send_snapshot(&child.addr, &token, &snapshot(&roster)).await;
    let sent = Instant::now();
    let (bytes, _, answered) = read_until_closed(stream).await;
    let mut took = answered - sent;
    let first_took = took;
    let (status, report) = parse_response(&bytes);
    assert_eq!(status, 200, "{report}");
    assert_eq!(counts(&report), [n, 0, 0, 0, 0, e], "{report}");
    let mut earlier = HashSet::new();

    // Rounds: a snapshot of N riders never seen — N to create (and enrol), and the
    // whole roster to deactivate: more work than the first sync — and SIGKILL some
    // quarters of the last whole sync's time after its last byte was sent; a new
    // process each round. A snapshot the kill undid is sent again next round. Rounds
    // go on until enough kills have come before the answer (when the sync wins the
    // race it must be whole, and its time becomes the measure).
    let mut log = Vec::new();
    let mut interrupted = 0;
    let mut pending: Option<std::ops::Range<u32>> = None;
    for &quarters in quarters {
        if interrupted == kills {
            break;
        }
        if !log.is_empty() {
            child = ChildApp::start(&db).await;
        }
        let serials = pending.take().unwrap_or(roster.end..roster.end + riders);
        let stream = send_snapshot(&child.addr, &token, &snapshot(&serials)).await;
        let sent = Instant::now();
        let reader = tokio::spawn(read_until_closed(stream));
        tokio::time::sleep(took * quarters / 4).await;
        let killed_after = sent.elapsed();
        let exit = child.kill();
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(exit.signal(), Some(9), "{exit:?}");
        }
        #[cfg(not(unix))]
        assert!(!exit.success(), "{exit:?}");
        let (bytes, end, closed) = tokio::time::timeout(Duration::from_secs(10), reader)
            .await
            .expect("the connection closes with the process")
            .unwrap();
        let answered = !bytes.is_empty();
        if answered {
            let (status, report) = parse_response(&bytes);
            assert_eq!(status, 200, "{report}");
            assert_eq!(counts(&report), [n, 0, 0, n, 0, e], "{report}");
            took = closed - sent;
        } else {
            assert!(matches!(end, Ok(0)) || end.is_err(), "{end:?}");
            interrupted += 1;
        }

        // The same database, opened by another app: the new snapshot whole, or none.
        let app = TestApp::spawn_on(&db.url).await;
        let admin = app.admin_token().await;
        let old = ids(&roster);
        let new = ids(&serials);
        let applied = roster_state(&app, &admin, &org_id, auto_enrol, (&earlier, &old, &new)).await;
        app.handle.stop(false).await;
        assert!(applied || !answered, "answered, yet not applied");
        log.push(format!(
            "{} after {killed_after:?}: {}",
            if answered {
                "answered, then killed"
            } else {
                "killed"
            },
            if applied { "all of it" } else { "none of it" }
        ));
        if applied {
            earlier.extend(old);
            roster = serials;
        } else {
            pending = Some(serials);
        }
    }
    assert_eq!(
        interrupted, kills,
        "the sync beat the kill too often: {log:?}"
    );

    // Nothing was left half-done or locked: the snapshot the last kill undid (or the
    // roster, if it got through) again, on a new process, applies (or finds) all of
    // itself.
    child = ChildApp::start(&db).await;
    let serials = pending.unwrap_or(roster.clone());
    let stream = send_snapshot(&child.addr, &token, &snapshot(&serials)).await;
    let sent = Instant::now();
    let (bytes, _, answered) = read_until_closed(stream).await;
    let last_took = answered - sent;
    let (status, report) = parse_response(&bytes);
    assert_eq!(status, 200, "{report}");
    let expected = if serials == roster {
        [0, 0, n, 0, 0, 0]
    } else {
        [n, 0, 0, n, 0, e]
    };
    assert_eq!(counts(&report), expected, "{report}");
    drop(child);
    let app = TestApp::spawn_on(&db.url).await;
    let admin = app.admin_token().await;
    let (old, new) = (ids(&roster), ids(&serials));
    let applied = roster_state(&app, &admin, &org_id, auto_enrol, (&earlier, &old, &new)).await;
    assert!(applied || serials == roster);
    eprintln!(
        "{backend}, {}: {riders} riders a snapshot; the first sync took {first_took:?}, the \
         last {last_took:?} (from the last byte sent to the answer); rounds: {}",
        if auto_enrol {
            "enrolling"
        } else {
            "not enrolling"
        },
        log.join("; ")
    );
}

//! Outdoor-worker service stations: create, read and change with ETags; every bad body
//! and bad search parameter as a 422 with its pointer (and nothing written); the radius
//! search checked against a brute-force haversine over a few hundred stations spread
//! across the province; GCJ-02 in and out against published reference points; open-now
//! in the operator's own time zone; public reads without a token; the per-address rate
//! limit; check-ins counted per local day (concurrently, too); isolation between cities'
//! administrators; the overview totals; the demo stations.

use chrono::{Days, FixedOffset, NaiveDate, Timelike, Utc};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use unionhall_domain::orgs::{OrgPath, Reach};
use unionhall_persistence::stations as repo;
use unionhall_tests::{Reply, TestApp, TwoCities, USER_PASSWORD, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// The same hours every day.
fn daily(ranges: Value) -> Value {
    json!({"mon": ranges, "tue": ranges, "wed": ranges, "thu": ranges,
        "fri": ranges, "sat": ranges, "sun": ranges})
}

fn all_day() -> Value {
    daily(json!([{"from": "00:00", "to": "24:00"}]))
}

/// A valid station body of `org` at (`lat`, `lng`).
fn body(org: &str, name: &str, lat: f64, lng: f64) -> Value {
    json!({
        "org_id": org,
        "name": name,
        "address": "南昌市东湖区八一大道 357 号",
        "location": {"lat": lat, "lng": lng},
        "amenities": ["rest", "charging", "meal_heating"],
        "opening_hours": all_day(),
        "phone": "0791-86661234",
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let reply = app.post("/v1/stations", token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json
}

/// A request without a token.
async fn anonymous(app: &TestApp, method: Method, path: &str) -> Reply {
    Reply::from(app.request(method, path, None).send().await.unwrap()).await
}

fn assert_refused(reply: &Reply, pointer: &str, code: &str) {
    reply.assert_problem(422, "validation");
    let found = reply.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["pointer"] == pointer && e["code"] == code);
    assert!(found, "expected {code} at {pointer}: {}", reply.text);
}

fn items(reply: &Reply) -> &Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap()
}

fn ids(reply: &Reply) -> Vec<String> {
    items(reply)
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

/// Great-circle distance in metres, written out here independently of the service:
/// the haversine on a sphere of the Earth's mean radius.
fn haversine(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let r = 6_371_008.8_f64;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * a.sqrt().asin()
}

/// A small deterministic generator, so the generated stations are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

async fn db(app: &TestApp) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap()
}

async fn org_path(app: &TestApp, org_id: &str) -> OrgPath {
    repo::org_path(&db(app).await, org_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
}

/// A zone these tests use: its IANA name and its UTC offset in hours, which never
/// changes (none of them has daylight saving time).
type Zone = (&'static str, i32);

const SHANGHAI_TZ: Zone = ("Asia/Shanghai", 8);
/// Half a day behind Shanghai (15 hours).
const PHOENIX_TZ: Zone = ("America/Phoenix", -7);
const KIRITIMATI_TZ: Zone = ("Pacific/Kiritimati", 14);
const PAGO_PAGO_TZ: Zone = ("Pacific/Pago_Pago", -11);

fn offset((_, hours): Zone) -> FixedOffset {
    FixedOffset::east_opt(hours * 3600).unwrap()
}

/// Today's date in a zone.
fn today_in(zone: Zone) -> NaiveDate {
    Utc::now().with_timezone(&offset(zone)).date_naive()
}

// ---------------------------------------------------------------------------------
// Create, read, change
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn stations_are_created_read_publicly_and_changed_with_if_match() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let ja = id(&c.ja);
    let mut input = body(ja, "井冈山大道户外劳动者驿站", 27.1119, 114.9899);
    input["amenities"] = json!(["wifi", "rest", "toilet"]);
    input["opening_hours"] =
        json!({"mon": [{"from": "07:30", "to": "12:00"}, {"from": "13:15", "to": "21:45"}]});
    let reply = app.post("/v1/stations", &c.ja_token, &input).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let station = &reply.json;
    let path = format!("/v1/stations/{}", id(station));
    assert_eq!(reply.header("location"), Some(path.as_str()));
    assert_eq!(station["org_id"], ja);
    assert_eq!(
        station["location"],
        json!({"lat": 27.1119, "lng": 114.9899})
    );
    assert_eq!(station["coord_sys"], "wgs84");
    // Amenities come back in the spec's order, whatever order they were sent in.
    assert_eq!(station["amenities"], json!(["rest", "toilet", "wifi"]));
    assert_eq!(
        station["opening_hours"]["mon"][1],
        json!({"from": "13:15", "to": "21:45"})
    );
    assert_eq!(station["opening_hours"]["tue"], json!([]));
    assert_eq!(station["time_zone"], "Asia/Shanghai");
    assert_eq!(station["status"], "open");
    assert_eq!(station["phone"], "0791-86661234");
    assert!(station["open_now"].is_boolean());
    assert!(station.get("distance_m").is_none(), "only in a near search");

    // Anyone reads it, token or not, with an ETag.
    let read = anonymous(&app, Method::GET, &path).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json["name"], "井冈山大道户外劳动者驿站");
    let etag = read.header("etag").unwrap().to_owned();

    // A change with the current ETag; the phone cleared with null.
    let changed = app
        .patch(
            &path,
            &c.ja_token,
            Some(&etag),
            &json!({"status": "temporarily_closed", "phone": null, "amenities": ["charging"],
                "location": {"lat": 27.1125, "lng": 114.99}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.json["status"], "temporarily_closed");
    assert_eq!(changed.json["open_now"], false);
    assert_eq!(changed.json["phone"], Value::Null);
    assert_eq!(changed.json["amenities"], json!(["charging"]));
    assert_eq!(
        changed.json["location"],
        json!({"lat": 27.1125, "lng": 114.99})
    );
    assert_eq!(changed.json["name"], "井冈山大道户外劳动者驿站");
    let new_etag = changed.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);

    // The old ETag is stale now: 412, and nothing changes.
    let stale = app
        .patch(&path, &c.ja_token, Some(&etag), &json!({"name": "改名"}))
        .await;
    stale.assert_problem(412, "precondition-failed");
    let read = app.get(&path, &c.ja_token).await;
    assert_eq!(read.json["name"], "井冈山大道户外劳动者驿站");
    assert_eq!(read.header("etag"), Some(new_etag.as_str()));

    // Idempotent creation: the same key and body replay the first answer.
    let keyed = |key: &'static str| {
        app.request(Method::POST, "/v1/stations", Some(&c.ja_token))
            .header("Idempotency-Key", key)
            .json(&body(ja, "吉安西站户外劳动者服务站", 27.1219, 114.9297))
            .send()
    };
    let first = Reply::from(keyed("station-1").await.unwrap()).await;
    let again = Reply::from(keyed("station-1").await.unwrap()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.json["id"], first.json["id"]);
    let listed = app.get("/v1/stations?limit=200", &c.ja_token).await;
    assert_eq!(items(&listed).len(), 2);
}

#[tokio::test]
async fn bad_bodies_are_422_with_pointers_and_write_nothing() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let ja = id(&c.ja);
    let good = body(ja, "驿站", 27.11, 114.99);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"location": {"lat": 90.5, "lng": 114.99}}),
            "/location/lat",
            "range",
        ),
        (
            json!({"location": {"lat": 27.1, "lng": -180.01}}),
            "/location/lng",
            "range",
        ),
        (
            json!({"location": {"lat": 27.1}}),
            "/location/lng",
            "required",
        ),
        (
            json!({"location": {"lat": 27.1, "lng": 114.9, "alt": 3}}),
            "/location/alt",
            "unknown_field",
        ),
        (
            json!({"amenities": ["rest", "shower"]}),
            "/amenities/1",
            "enum",
        ),
        (
            json!({"amenities": ["rest", "wifi", "rest"]}),
            "/amenities/2",
            "duplicate",
        ),
        (
            json!({"opening_hours": {"mon": [{"from": "09:00", "to": "08:00"}]}}),
            "/opening_hours/mon/0/to",
            "not_after_from",
        ),
        (
            json!({"opening_hours": {"mon": [{"from": "08:00", "to": "12:00"}, {"from": "11:00", "to": "13:00"}]}}),
            "/opening_hours/mon/1/from",
            "overlapping",
        ),
        (
            json!({"opening_hours": {"mon": [{"from": "08:00", "to": "25:00"}]}}),
            "/opening_hours/mon/0/to",
            "type",
        ),
        (
            json!({"opening_hours": {"monday": []}}),
            "/opening_hours/monday",
            "unknown_field",
        ),
        (json!({"status": "demolished"}), "/status", "enum"),
        (json!({"coord_sys": "bd09"}), "/coord_sys", "enum"),
        (json!({"phone": "call me"}), "/phone", "phone"),
        (json!({"name": ""}), "/name", "length"),
        (json!({"address": "\u{7}"}), "/address", "text"),
        (json!({"version": 3}), "/version", "unknown_field"),
        (
            json!({"id": "01900000-0000-7000-8000-000000000000"}),
            "/id",
            "unknown_field",
        ),
        (
            json!({"org_id": "01900000-0000-7000-8000-000000000000"}),
            "/org_id",
            "not_found",
        ),
    ];
    for (change, pointer, code) in cases {
        let mut input = good.clone();
        for (k, v) in change.as_object().unwrap() {
            input[k] = v.clone();
        }
        let reply = app.post("/v1/stations", &c.ja_token, &input).await;
        assert_refused(&reply, pointer, code);
    }
    for missing in ["org_id", "name", "address", "location", "opening_hours"] {
        let mut input = good.clone();
        input.as_object_mut().unwrap().remove(missing);
        let reply = app.post("/v1/stations", &c.ja_token, &input).await;
        assert_refused(&reply, &format!("/{missing}"), "required");
    }
    // Several problems at once are all named.
    let mut input = good.clone();
    input["amenities"] = json!(["rest", "rest"]);
    input["opening_hours"] = json!({"sun": [{"from": "10:00", "to": "09:00"}]});
    let reply = app.post("/v1/stations", &c.ja_token, &input).await;
    assert_eq!(
        reply.pointers(),
        vec!["/amenities/1", "/opening_hours/sun/0/to"]
    );

    let listed = app.get("/v1/stations", &c.admin).await;
    assert!(
        items(&listed).is_empty(),
        "nothing written: {}",
        listed.text
    );

    // The same rules on a change, which then changes nothing.
    let station = create(&app, &c.ja_token, &good).await;
    let path = format!("/v1/stations/{}", id(&station));
    for (change, pointer, code) in [
        (
            json!({"location": {"lat": -91.0, "lng": 0.0}}),
            "/location/lat",
            "range",
        ),
        (
            json!({"amenities": ["toilet", "toilet"]}),
            "/amenities/1",
            "duplicate",
        ),
        (json!({"org_id": ja}), "/org_id", "unknown_field"),
        (json!({"phone": "1"}), "/phone", "phone"),
    ] {
        let reply = app.patch(&path, &c.ja_token, None, &change).await;
        assert_refused(&reply, pointer, code);
    }
    let read = app.get(&path, &c.ja_token).await;
    assert_eq!(read.json, station);
}

// ---------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn bad_search_parameters_are_422_at_the_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (query, pointer, code) in [
        ("near=28.68", "/near", "format"),
        ("near=28.68;115.86", "/near", "format"),
        ("near=28.68,%20115.86", "/near", "format"),
        ("near=north,east", "/near", "format"),
        ("near=NaN,115", "/near", "format"),
        ("near=90.5,115.86", "/near", "range"),
        ("near=28.68,181", "/near", "range"),
        ("near=28.68,115.86&radius_m=50001", "/radius_m", "range"),
        ("near=28.68,115.86&radius_m=0", "/radius_m", "range"),
        ("near=28.68,115.86&radius_m=-5", "/radius_m", "type"),
        ("radius_m=3000", "/radius_m", "requires_near"),
        ("amenity=shower", "/amenity", "enum"),
        ("amenity=rest,shower", "/amenity", "enum"),
        ("amenity=rest&amenity=", "/amenity", "enum"),
        ("near=28.68,115.86&amenity=Rest", "/amenity", "enum"),
        ("open_now=maybe", "/open_now", "type"),
        ("status=gone", "/status", "enum"),
        ("coord_sys=bd09", "/coord_sys", "enum"),
        ("org_id=nope", "/org_id", "type"),
        (
            "org_id=01900000-0000-7000-8000-000000000000",
            "/org_id",
            "not_found",
        ),
        ("near=28.68,115.86&cursor=abc", "/cursor", "not_with_near"),
        ("near=28.68,115.86&limit=201", "/limit", "range"),
        ("limit=0", "/limit", "range"),
        ("cursor=forged", "/cursor", "cursor"),
        ("sort=name", "/sort", "unknown_parameter"),
        ("near=28.68,115.86&near=28.7,115.9", "/near", "duplicate"),
    ] {
        let reply = app.get(&format!("/v1/stations?{query}"), &admin).await;
        assert_refused(&reply, pointer, code);
    }
    // Problems of one search are reported together.
    let reply = app
        .get(
            "/v1/stations?near=95,115&radius_m=60000&amenity=spa",
            &admin,
        )
        .await;
    let mut pointers = reply.pointers();
    pointers.sort();
    assert_eq!(pointers, vec!["/amenity", "/near", "/radius_m"]);
    // Without a token the same answers.
    let reply = anonymous(&app, Method::GET, "/v1/stations?near=28.68").await;
    assert_refused(&reply, "/near", "format");
}

/// One generated station: its id, WGS-84 position and amenities.
struct Made {
    id: String,
    lat: f64,
    lng: f64,
    amenities: Vec<&'static str>,
}

const AMENITIES: [&str; 7] = [
    "rest",
    "charging",
    "meal_heating",
    "drinking_water",
    "toilet",
    "first_aid",
    "wifi",
];

/// Centres of the generated clusters: the province's southern and northern edges,
/// Nanchang and the east.
const CLUSTERS: [(f64, f64); 4] = [
    (24.62, 114.60),
    (29.98, 116.05),
    (28.68, 115.86),
    (27.30, 118.30),
];

/// 320 stations: 65 in a disc of 60 km around each cluster centre (a few right on top
/// of it), 60 scattered over the whole province's box.
async fn generate(app: &TestApp, token: &str, org: &str) -> Vec<Made> {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut specs = Vec::new();
    for (lat0, lng0) in CLUSTERS {
        for k in 0..65 {
            // Uniform over the disc; the first two within metres of the centre.
            let r = if k < 2 {
                0.5 + 3.0 * rng.next()
            } else {
                60_000.0 * rng.next().sqrt()
            };
            let bearing = rng.next() * std::f64::consts::TAU;
            let dlat = r * bearing.cos() / 111_195.0;
            let dlng = r * bearing.sin() / (111_195.0 * lat0.to_radians().cos());
            specs.push((lat0 + dlat, lng0 + dlng));
        }
    }
    for _ in 0..60 {
        specs.push((24.5 + 5.6 * rng.next(), 113.6 + 4.9 * rng.next()));
    }
    let mut made = Vec::new();
    for chunk in specs.chunks(20) {
        let requests = chunk.iter().map(|&(lat, lng)| {
            let mask = (rng.next() * 128.0) as usize;
            let amenities: Vec<&'static str> = AMENITIES
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, a)| *a)
                .collect();
            let mut input = body(org, "生成的驿站", lat, lng);
            input["amenities"] = json!(amenities);
            async move {
                let reply = app.post("/v1/stations", token, &input).await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
                Made {
                    id: id(&reply.json).to_owned(),
                    lat,
                    lng,
                    amenities,
                }
            }
        });
        made.extend(join_all(requests).await);
    }
    made
}

#[tokio::test]
async fn the_radius_search_matches_a_brute_force_haversine_across_the_province() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let made = generate(&app, &admin, &app.root_org_id).await;
    let mut rng = Rng(0xfeed_0000_0000_0042);
    let mut centres: Vec<(f64, f64)> = CLUSTERS.to_vec();
    centres.extend((0..6).map(|_| (24.5 + 5.6 * rng.next(), 113.6 + 4.9 * rng.next())));
    let mut compared = 0;
    for (lat, lng) in centres {
        for radius in [1_000u32, 3_000, 20_000, 50_000] {
            for wanted in [&[][..], &["charging"][..], &["rest", "wifi"][..]] {
                let mut expected: Vec<(f64, &str)> = made
                    .iter()
                    .filter(|m| wanted.iter().all(|a| m.amenities.contains(a)))
                    .map(|m| (haversine(lat, lng, m.lat, m.lng), m.id.as_str()))
                    .filter(|(d, _)| *d <= f64::from(radius))
                    .collect();
                expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
                expected.truncate(200);
                let mut query =
                    format!("/v1/stations?near={lat},{lng}&radius_m={radius}&limit=200");
                for a in wanted {
                    query.push_str(&format!("&amenity={a}"));
                }
                let reply = app.get(&query, &admin).await;
                let got = items(&reply);
                let got_ids: Vec<&str> = got.iter().map(|s| s["id"].as_str().unwrap()).collect();
                let want_ids: Vec<&str> = expected.iter().map(|e| e.1).collect();
                assert_eq!(got_ids, want_ids, "near {lat},{lng} r={radius} {wanted:?}");
                for (s, (d, _)) in got.iter().zip(&expected) {
                    let shown = f(&s["distance_m"]);
                    assert!((shown - d).abs() <= 1.0, "{shown} vs {d}");
                }
                assert_eq!(reply.json["next_cursor"], Value::Null);
                compared += got.len();
            }
        }
    }
    assert!(compared > 300, "the comparison saw {compared} results");

    // The limit keeps the nearest; the default radius is 3 km.
    let (lat, lng) = CLUSTERS[2];
    let reply = app
        .get(
            &format!("/v1/stations?near={lat},{lng}&radius_m=50000&limit=5"),
            &admin,
        )
        .await;
    let all = app
        .get(
            &format!("/v1/stations?near={lat},{lng}&radius_m=50000&limit=200"),
            &admin,
        )
        .await;
    assert_eq!(ids(&reply), ids(&all)[..5].to_vec());
    let default = app
        .get(&format!("/v1/stations?near={lat},{lng}"), &admin)
        .await;
    assert!(
        items(&default)
            .iter()
            .all(|s| f(&s["distance_m"]) <= 3_000.0)
    );
    let within_3km = made
        .iter()
        .filter(|m| haversine(lat, lng, m.lat, m.lng) <= 3_000.0)
        .count();
    assert_eq!(items(&default).len(), within_3km);
}

#[tokio::test]
async fn lists_without_near_page_by_creation_and_filter() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let (ja, jj) = (id(&c.ja), id(&c.jj));
    let mut made = Vec::new();
    for (i, org) in [ja, jj, ja, jj, ja].into_iter().enumerate() {
        let mut input = body(
            org,
            &format!("驿站 {i}"),
            27.1 + f64::from(i as u32) * 0.01,
            114.99,
        );
        input["amenities"] = match i {
            0 => json!(["rest", "charging", "toilet"]),
            1 => json!(["charging"]),
            2 => json!(["toilet", "charging"]),
            _ => json!([]),
        };
        if i == 4 {
            input["status"] = json!("closed");
        }
        made.push(id(&create(&app, &c.admin, &input).await).to_owned());
    }
    // Creation order, two at a time, never skipping or repeating.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/v1/stations?limit=2".to_owned(),
            Some(next) => format!("/v1/stations?limit=2&cursor={next}"),
        };
        let page = anonymous(&app, Method::GET, &path).await;
        seen.extend(ids(&page));
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, made);
    let filtered = |q: &'static str| {
        let app = &app;
        async move { ids(&anonymous(app, Method::GET, &format!("/v1/stations?{q}")).await) }
    };
    assert_eq!(
        filtered("amenity=charging&amenity=toilet").await,
        vec![made[0].clone(), made[2].clone()]
    );
    assert_eq!(
        filtered("amenity=toilet,charging").await,
        vec![made[0].clone(), made[2].clone()]
    );
    assert_eq!(
        filtered("amenity=rest,charging,toilet").await,
        vec![made[0].clone()]
    );
    assert_eq!(filtered("status=closed").await, vec![made[4].clone()]);
    let by_org = ids(&anonymous(&app, Method::GET, &format!("/v1/stations?org_id={jj}")).await);
    assert_eq!(by_org, vec![made[1].clone(), made[3].clone()]);
    // The root's subtree holds them all.
    let by_root = ids(&anonymous(
        &app,
        Method::GET,
        &format!("/v1/stations?org_id={}", app.root_org_id),
    )
    .await);
    assert_eq!(by_root, made);
    // The county below Ji'an runs none.
    let county = anonymous(
        &app,
        Method::GET,
        &format!("/v1/stations?org_id={}", id(&c.ja_county)),
    )
    .await;
    assert!(items(&county).is_empty());
}

// ---------------------------------------------------------------------------------
// GCJ-02
// ---------------------------------------------------------------------------------

/// WGS-84 → GCJ-02 pairs published with googollee/eviltransform (go/transform_test.go):
/// Beijing, Shanghai.
const BEIJING: ((f64, f64), (f64, f64)) = (
    (39.911954, 116.377817),
    (39.91334545536069, 116.38404722455657),
);
const SHANGHAI: ((f64, f64), (f64, f64)) = (
    (31.1774276, 121.5272106),
    (31.17530398364597, 121.531541859215),
);
/// Nanchang's Bayi Square, its GCJ-02 position computed with the published algorithm
/// and constants by a separate (Python) implementation.
const BAYI: ((f64, f64), (f64, f64)) = (
    (28.6746, 115.9036),
    (28.671228276308558, 115.90843813019413),
);

fn close(v: &Value, (lat, lng): (f64, f64), tolerance: f64) -> bool {
    (f(&v["lat"]) - lat).abs() < tolerance && (f(&v["lng"]) - lng).abs() < tolerance
}

#[tokio::test]
async fn gcj02_positions_are_converted_on_the_way_in_and_out() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let root = app.root_org_id.clone();

    // Sent in WGS-84, shown in GCJ-02 on request.
    for (i, (wgs, gcj)) in [BEIJING, SHANGHAI, BAYI].into_iter().enumerate() {
        let station = create(&app, &admin, &body(&root, &format!("站 {i}"), wgs.0, wgs.1)).await;
        let path = format!("/v1/stations/{}", id(&station));
        let shown = app.get(&format!("{path}?coord_sys=gcj02"), &admin).await;
        assert_eq!(shown.json["coord_sys"], "gcj02");
        assert!(close(&shown.json["location"], gcj, 1e-9), "{}", shown.text);
        let plain = app.get(&path, &admin).await;
        assert_eq!(plain.json["location"], json!({"lat": wgs.0, "lng": wgs.1}));
    }

    // Sent in GCJ-02: stored as WGS-84 (to better than 1e-7°), answered in GCJ-02.
    let mut input = body(&root, "GCJ 站", BAYI.1.0, BAYI.1.1);
    input["coord_sys"] = json!("gcj02");
    let station = create(&app, &admin, &input).await;
    assert_eq!(station["coord_sys"], "gcj02");
    assert!(close(&station["location"], BAYI.1, 1e-9), "{station}");
    let path = format!("/v1/stations/{}", id(&station));
    let stored = app.get(&path, &admin).await;
    assert!(
        close(&stored.json["location"], BAYI.0, 1e-7),
        "{}",
        stored.text
    );

    // A search near a GCJ-02 point finds what stands there (the Bayi pair twice: the
    // WGS-84 station and the GCJ-02 one), at ~0 m; the same numbers read as WGS-84 are
    // the offset away, about 600 m.
    let (glat, glng) = BAYI.1;
    let near_gcj = app
        .get(
            &format!("/v1/stations?near={glat},{glng}&radius_m=100&coord_sys=gcj02"),
            &admin,
        )
        .await;
    let found = items(&near_gcj);
    assert_eq!(found.len(), 2, "{}", near_gcj.text);
    for s in found {
        assert!(f(&s["distance_m"]) <= 1.0, "{s}");
        assert_eq!(s["coord_sys"], "gcj02");
        assert!(close(&s["location"], BAYI.1, 1e-7), "{s}");
    }
    let as_wgs = app
        .get(
            &format!("/v1/stations?near={glat},{glng}&radius_m=2000"),
            &admin,
        )
        .await;
    let offset = haversine(BAYI.0.0, BAYI.0.1, glat, glng);
    assert!((500.0..700.0).contains(&offset));
    for s in items(&as_wgs) {
        assert!((f(&s["distance_m"]) - offset).abs() <= 1.0, "{s}");
        assert_eq!(s["coord_sys"], "wgs84");
    }

    // A change in GCJ-02 moves it to the published WGS-84 point.
    let etag = stored.header("etag").unwrap().to_owned();
    let moved = app
        .patch(
            &path,
            &admin,
            Some(&etag),
            &json!({"coord_sys": "gcj02", "location": {"lat": BEIJING.1.0, "lng": BEIJING.1.1}}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert!(close(&moved.json["location"], BEIJING.1, 1e-9));
    let stored = app.get(&path, &admin).await;
    assert!(
        close(&stored.json["location"], BEIJING.0, 1e-7),
        "{}",
        stored.text
    );
    // A change without a position leaves it exactly as stored.
    let renamed = app
        .patch(
            &path,
            &admin,
            None,
            &json!({"coord_sys": "gcj02", "name": "改名"}),
        )
        .await;
    assert!(close(&renamed.json["location"], BEIJING.1, 1e-9));
    let after = app.get(&path, &admin).await;
    assert_eq!(after.json["location"], stored.json["location"]);

    // Outside China the two systems agree.
    let london = create(&app, &admin, &body(&root, "London", 51.5007, -0.1246)).await;
    let shown = app
        .get(
            &format!("/v1/stations/{}?coord_sys=gcj02", id(&london)),
            &admin,
        )
        .await;
    assert_eq!(
        shown.json["location"],
        json!({"lat": 51.5007, "lng": -0.1246})
    );
}

// ---------------------------------------------------------------------------------
// Open now
// ---------------------------------------------------------------------------------

/// Hours around the current local hour of `zone` (from an hour before to two after,
/// within the day), and hours that exclude it by at least an hour either side.
fn hours_around_now(zone: Zone) -> (Value, Value) {
    let hour = Utc::now().with_timezone(&offset(zone)).hour();
    let from = hour.saturating_sub(1);
    let to = (hour + 2).min(24);
    let around = json!([{"from": format!("{from:02}:00"), "to": format!("{to:02}:00")}]);
    let away = if hour < 12 {
        json!([{"from": "14:00", "to": "23:00"}])
    } else {
        json!([{"from": "01:00", "to": "10:00"}])
    };
    (daily(around), daily(away))
}

#[tokio::test]
async fn open_now_uses_the_operator_organisations_time_zone() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let ja = id(&c.ja);
    let reply = app
        .post(
            "/v1/orgs",
            &c.admin,
            &json!({"name": "凤凰城华人劳工联合会", "code": "phoenix-workers", "kind": "grassroots_union",
                "parent_id": ja, "time_zone": PHOENIX_TZ.0}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let phx = id(&reply.json).to_owned();
    let (around_sh, away_sh) = hours_around_now(SHANGHAI_TZ);
    let (around_phx, _) = hours_around_now(PHOENIX_TZ);

    let make = |org: String, name: &'static str, hours: Value, status: &'static str| {
        let app = &app;
        let token = c.admin.clone();
        async move {
            let mut input = body(&org, name, 27.11, 114.99);
            input["opening_hours"] = hours;
            input["status"] = json!(status);
            id(&create(app, &token, &input).await).to_owned()
        }
    };
    let always = make(ja.to_owned(), "全天", all_day(), "open").await;
    let now_sh = make(ja.to_owned(), "此刻开放", around_sh.clone(), "open").await;
    let later_sh = make(ja.to_owned(), "此刻关闭", away_sh, "open").await;
    let never = make(ja.to_owned(), "无营业时间", json!({}), "open").await;
    let paused = make(ja.to_owned(), "暂停", all_day(), "temporarily_closed").await;
    // Open around Phoenix's present hour, which is 15 hours from Shanghai's: only the
    // operator's own zone makes it open now.
    let now_phx = make(phx.clone(), "纽约此刻开放", around_phx, "open").await;
    // Shanghai's present hours in a Phoenix union: closed now.
    let sh_hours_in_phx = make(phx.clone(), "上海时间", around_sh, "open").await;

    let expect_open = vec![always.clone(), now_sh.clone(), now_phx.clone()];
    let listed = anonymous(
        &app,
        Method::GET,
        &format!("/v1/stations?open_now=true&org_id={ja}"),
    )
    .await;
    assert_eq!(ids(&listed), expect_open);
    let near = anonymous(
        &app,
        Method::GET,
        "/v1/stations?open_now=true&near=27.11,114.99&radius_m=100",
    )
    .await;
    let mut near_ids = ids(&near);
    near_ids.sort();
    let mut sorted = expect_open.clone();
    sorted.sort();
    assert_eq!(near_ids, sorted);
    // open_now=false filters nothing; each station says whether it is open.
    let everything = anonymous(&app, Method::GET, "/v1/stations?open_now=false").await;
    assert_eq!(items(&everything).len(), 7);
    for s in items(&everything) {
        let sid = s["id"].as_str().unwrap().to_owned();
        assert_eq!(s["open_now"], json!(expect_open.contains(&sid)), "{s}");
        let tz = if sid == now_phx || sid == sh_hours_in_phx {
            PHOENIX_TZ.0
        } else {
            SHANGHAI_TZ.0
        };
        assert_eq!(s["time_zone"], tz);
    }
    for closed in [later_sh, never, paused, sh_hours_in_phx] {
        let read = anonymous(&app, Method::GET, &format!("/v1/stations/{closed}")).await;
        assert_eq!(read.json["open_now"], false, "{}", read.text);
    }
}

#[tokio::test]
async fn an_open_now_list_pages_past_long_closed_stretches() {
    use sea_orm::TransactionTrait;
    use unionhall_domain::geo::LatLng;
    use unionhall_domain::palaces::OpeningHours;
    use unionhall_domain::stations::{Amenities, StationStatus};
    let app = TestApp::spawn().await;
    let db = db(&app).await;
    let root = unionhall_domain::OrgId(app.root_org_id.parse().unwrap());
    let data = |name: &str, hours: OpeningHours| repo::StationData {
        name: name.to_owned(),
        address: "江西省南昌市".to_owned(),
        location: LatLng::new(28.68, 115.86).unwrap(),
        amenities: Amenities::default(),
        opening_hours: hours,
        status: StationStatus::Open,
        phone: None,
    };
    // More closed stations than one list request reads, then an open one.
    let txn = db.begin().await.unwrap();
    for i in 0..2_050 {
        repo::insert_station(
            &txn,
            root,
            data(&format!("无营业时间 {i}"), OpeningHours::default()),
        )
        .await
        .unwrap();
    }
    let all_day = serde_json::from_value(all_day()).unwrap();
    let open = repo::insert_station(&txn, root, data("全天", all_day))
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let first = anonymous(&app, Method::GET, "/v1/stations?open_now=true&limit=10").await;
    assert!(items(&first).is_empty(), "{}", first.text);
    let cursor = first.json["next_cursor"]
        .as_str()
        .expect("the scan goes on")
        .to_owned();
    let second = anonymous(
        &app,
        Method::GET,
        &format!("/v1/stations?open_now=true&limit=10&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&second), vec![open.id.to_string()]);
    assert_eq!(second.json["next_cursor"], Value::Null);
}

// ---------------------------------------------------------------------------------
// Public access and its limit
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn reads_and_check_ins_are_public_and_writes_are_not() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let station = create(&app, &c.ja_token, &body(id(&c.ja), "驿站", 27.11, 114.99)).await;
    let path = format!("/v1/stations/{}", id(&station));
    let list = anonymous(&app, Method::GET, "/v1/stations?near=27.11,114.99").await;
    assert_eq!(ids(&list), vec![id(&station).to_owned()]);
    let head = anonymous(&app, Method::HEAD, &path).await;
    assert_eq!(head.status, StatusCode::OK);
    let read = anonymous(&app, Method::GET, &path).await;
    assert_eq!(read.status, StatusCode::OK);
    let visit = anonymous(&app, Method::POST, &format!("{path}/visits")).await;
    assert_eq!(visit.status, StatusCode::NO_CONTENT, "{}", visit.text);
    anonymous(&app, Method::GET, &format!("{path}/visits"))
        .await
        .assert_problem(401, "unauthenticated");
    anonymous(&app, Method::POST, "/v1/stations")
        .await
        .assert_problem(401, "unauthenticated");
    anonymous(&app, Method::PATCH, &path)
        .await
        .assert_problem(401, "unauthenticated");
    // A token, when sent, must be valid.
    let bad = Reply::from(
        app.request(Method::GET, &path, Some("not-a-token"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    bad.assert_problem(401, "unauthenticated");
    anonymous(
        &app,
        Method::GET,
        "/v1/stations/01900000-0000-7000-8000-000000000000",
    )
    .await
    .assert_problem(404, "not-found");
    anonymous(&app, Method::GET, "/v1/stations/not-a-uuid")
        .await
        .assert_problem(404, "not-found");
    anonymous(&app, Method::DELETE, &path)
        .await
        .assert_problem(405, "method-not-allowed");
}

#[tokio::test]
async fn anonymous_callers_are_limited_per_address_and_signed_in_ones_are_not() {
    let app = TestApp::spawn_with(|c| c.public_requests_per_minute = 3).await;
    let admin = app.admin_token().await;
    let station = create(&app, &admin, &body(&app.root_org_id, "驿站", 27.11, 114.99)).await;
    let path = format!("/v1/stations/{}", id(&station));
    // Three at once pass, bad ones counted too.
    assert_eq!(
        anonymous(&app, Method::GET, &path).await.status,
        StatusCode::OK
    );
    anonymous(&app, Method::GET, "/v1/stations?near=bad")
        .await
        .assert_problem(422, "validation");
    assert_eq!(
        anonymous(&app, Method::POST, &format!("{path}/visits"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for (method, target) in [
        (Method::GET, path.clone()),
        (Method::GET, "/v1/stations?near=27.11,114.99".to_owned()),
        (Method::POST, format!("{path}/visits")),
    ] {
        let limited = anonymous(&app, method, &target).await;
        limited.assert_problem(429, "too-many-requests");
        let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
        // Three a minute: the next one is free in at most 20 s.
        assert!((1..=20).contains(&wait), "Retry-After {wait}");
    }
    // Signed in, no limit.
    for _ in 0..10 {
        assert_eq!(app.get(&path, &admin).await.status, StatusCode::OK);
    }
    let visit = app
        .post(&format!("{path}/visits"), &admin, &json!({}))
        .await;
    assert_eq!(visit.status, StatusCode::NO_CONTENT);
    // The refused check-ins weren't counted: one anonymous, one signed in.
    let visits = app.get(&format!("{path}/visits"), &admin).await;
    assert_eq!(visits.json["total"], 2, "{}", visits.text);
}

#[test]
fn the_public_limit_must_be_positive() {
    let config = unionhall_api::config::Config {
        public_requests_per_minute: 0,
        ..Default::default()
    };
    let err = config.check().unwrap_err();
    assert_eq!(err.setting, "UNIONHALL_PUBLIC_REQUESTS_PER_MINUTE");
    assert_eq!(
        unionhall_api::config::Config::default().public_requests_per_minute,
        120
    );
}

// ---------------------------------------------------------------------------------
// Visits
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn check_ins_are_counted_per_local_day() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let station = create(&app, &c.ja_token, &body(id(&c.ja), "驿站", 27.11, 114.99)).await;
    let path = format!("/v1/stations/{}", id(&station));
    let visits = format!("{path}/visits");
    // Twenty at once, each counted.
    let posts = (0..20).map(|_| anonymous(&app, Method::POST, &visits));
    for reply in join_all(posts).await {
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    }
    // Earlier days, as they would have been counted then.
    let today = today_in(SHANGHAI_TZ);
    let day = |n: u64| today.checked_sub_days(Days::new(n)).unwrap();
    let db = db(&app).await;
    let station_id = id(&station).parse().unwrap();
    repo::add_visits(&db, station_id, day(1), 7).await.unwrap();
    repo::add_visits(&db, station_id, day(1), 2).await.unwrap();
    repo::add_visits(&db, station_id, day(40), 5).await.unwrap();

    let report = app.get(&visits, &c.ja_token).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.json["station_id"], id(&station));
    assert_eq!(report.json["time_zone"], "Asia/Shanghai");
    assert_eq!(report.json["to"], today.to_string());
    assert_eq!(report.json["from"], day(29).to_string());
    let days = report.json["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29], json!({"date": today.to_string(), "visits": 20}));
    assert_eq!(days[28], json!({"date": day(1).to_string(), "visits": 9}));
    assert!(days[..28].iter().all(|d| d["visits"] == 0));
    assert_eq!(report.json["total"], 29);

    let range = app
        .get(
            &format!("{visits}?from={}&to={}", day(40), day(39)),
            &c.ja_token,
        )
        .await;
    assert_eq!(
        range.json["days"],
        json!([
            {"date": day(40).to_string(), "visits": 5},
            {"date": day(39).to_string(), "visits": 0},
        ])
    );
    assert_eq!(range.json["total"], 5);

    for (query, pointer, code) in [
        (
            format!("from={}&to={}", day(1), day(2)),
            "/from",
            "after_to",
        ),
        (format!("from={}", day(366)), "/to", "range"),
        ("from=2026-02-30".to_owned(), "/from", "type"),
        ("to=yesterday".to_owned(), "/to", "type"),
        ("days=7".to_owned(), "/days", "unknown_parameter"),
    ] {
        let reply = app.get(&format!("{visits}?{query}"), &c.ja_token).await;
        assert_refused(&reply, pointer, code);
    }
    let year = app
        .get(&format!("{visits}?from={}", day(365)), &c.ja_token)
        .await;
    assert_eq!(year.json["days"].as_array().unwrap().len(), 366);
    assert_eq!(year.json["total"], 34);

    // A station that isn't open takes no check-ins; an unknown one is a 404.
    let etag = app
        .get(&path, &c.ja_token)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let paused = app
        .patch(
            &path,
            &c.ja_token,
            Some(&etag),
            &json!({"status": "temporarily_closed"}),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK);
    let refused = anonymous(&app, Method::POST, &visits).await;
    refused.assert_problem(409, "conflict");
    assert_eq!(refused.json["conflict"], "status");
    anonymous(
        &app,
        Method::POST,
        "/v1/stations/01900000-0000-7000-8000-000000000000/visits",
    )
    .await
    .assert_problem(404, "not-found");
    let after = app.get(&visits, &c.ja_token).await;
    assert_eq!(after.json["total"], 29);
}

#[tokio::test]
async fn a_check_in_counts_for_the_operators_local_day() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Kiritimati (UTC+14) and Pago Pago (UTC−11): a day apart at every moment of the
    // day, so one of them differs from Shanghai's date whenever this runs.
    for (code, zone) in [
        ("tz-kiritimati", KIRITIMATI_TZ),
        ("tz-pago-pago", PAGO_PAGO_TZ),
    ] {
        let reply = app
            .post(
                "/v1/orgs",
                &admin,
                &json!({"name": format!("{} 工会", zone.0), "code": code,
                    "kind": "grassroots_union", "parent_id": app.root_org_id, "time_zone": zone.0}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let station = create(&app, &admin, &body(id(&reply.json), "驿站", 27.11, 114.99)).await;
        let visits = format!("/v1/stations/{}/visits", id(&station));
        let before = today_in(zone);
        let checked = anonymous(&app, Method::POST, &visits).await;
        assert_eq!(checked.status, StatusCode::NO_CONTENT);
        let after = today_in(zone);
        let report = app.get(&visits, &admin).await;
        assert_eq!(report.json["time_zone"], zone.0);
        let counted: Vec<&Value> = report.json["days"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["visits"] == 1)
            .collect();
        assert_eq!(counted.len(), 1, "{}", report.text);
        let date: NaiveDate = counted[0]["date"].as_str().unwrap().parse().unwrap();
        assert!(date == before || date == after, "{date} in {}", zone.0);
    }
    assert_ne!(today_in(KIRITIMATI_TZ), today_in(PAGO_PAGO_TZ));
}

// ---------------------------------------------------------------------------------
// Who may change what
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn administrators_act_only_within_their_reach() {
    let app = TestApp::spawn().await;
    let c: TwoCities = app.two_cities().await;
    let ja = id(&c.ja);
    let station = create(&app, &c.ja_token, &body(ja, "吉安驿站", 27.11, 114.99)).await;
    let path = format!("/v1/stations/{}", id(&station));

    // Another city's administrator can't see it to change it, nor its visits.
    let reply = app
        .patch(&path, &c.jj_token, None, &json!({"name": "九江的"}))
        .await;
    reply.assert_problem(404, "not-found");
    app.get(&format!("{path}/visits"), &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    // Nor open one for that city.
    let reply = app
        .post(
            "/v1/stations",
            &c.jj_token,
            &body(ja, "越权", 27.11, 114.99),
        )
        .await;
    assert_refused(&reply, "/org_id", "not_found");
    // But reads it like anyone.
    assert_eq!(app.get(&path, &c.jj_token).await.status, StatusCode::OK);

    // A county administrator below Ji'an doesn't reach the city's station either.
    app.create_user(&c.admin, "ja-county-admin", id(&c.ja_county), "union_admin")
        .await;
    let county = app.login("ja-county-admin", USER_PASSWORD).await.0;
    app.patch(&path, &county, None, &json!({"name": "县里的"}))
        .await
        .assert_problem(404, "not-found");
    // The city admin may open one for the county.
    create(
        &app,
        &c.ja_token,
        &body(id(&c.ja_county), "青原驿站", 27.1, 115.0),
    )
    .await;

    // Staff without an administering role: 403.
    app.create_user(&c.admin, "ja-staff", ja, "palace_staff")
        .await;
    let staff = app.login("ja-staff", USER_PASSWORD).await.0;
    app.post("/v1/stations", &staff, &body(ja, "职员", 27.11, 114.99))
        .await
        .assert_problem(403, "forbidden");
    app.patch(&path, &staff, None, &json!({"name": "职员的"}))
        .await
        .assert_problem(403, "forbidden");
    app.get(&format!("{path}/visits"), &staff)
        .await
        .assert_problem(403, "forbidden");

    // The province's federation admin reaches everything.
    let renamed = app
        .patch(&path, &c.admin, None, &json!({"name": "省里改的"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let unchanged = app.get(&path, &c.ja_token).await;
    assert_eq!(unchanged.json["name"], "省里改的");
}

// ---------------------------------------------------------------------------------
// Totals for the federation overview
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn totals_count_stations_and_this_months_visits_within_a_reach() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let (ja, jj) = (id(&c.ja), id(&c.jj));
    let a1 = create(&app, &c.ja_token, &body(ja, "吉安一", 27.11, 114.99)).await;
    let mut closed = body(id(&c.ja_county), "青原二", 27.1, 115.0);
    closed["status"] = json!("closed");
    let a2 = create(&app, &c.ja_token, &closed).await;
    let j1 = create(&app, &c.jj_token, &body(jj, "九江一", 29.7, 116.0)).await;
    let db = db(&app).await;
    let june = |d: u32| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
    for (station, date, n) in [
        (&a1, june(1), 3),
        (&a1, june(30), 4),
        (&a2, june(15), 5),
        (&a1, NaiveDate::from_ymd_opt(2026, 5, 31).unwrap(), 100),
        (&a1, NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(), 100),
        (&j1, june(10), 7),
    ] {
        repo::add_visits(&db, id(station).parse().unwrap(), date, n)
            .await
            .unwrap();
    }
    let (from, until) = unionhall_domain::stations::month_of(june(20));
    let totals = |paths: Vec<OrgPath>| {
        let db = &db;
        async move {
            repo::totals_in_reach(db, &Reach::over(paths), from, until)
                .await
                .unwrap()
        }
    };
    let ja_path = org_path(&app, ja).await;
    let jj_path = org_path(&app, jj).await;
    let root_path = org_path(&app, &app.root_org_id).await;
    let t = totals(vec![ja_path.clone()]).await;
    assert_eq!((t.stations, t.open, t.visits), (2, 1, 12));
    let t = totals(vec![jj_path.clone()]).await;
    assert_eq!((t.stations, t.open, t.visits), (1, 1, 7));
    let t = totals(vec![ja_path, jj_path]).await;
    assert_eq!((t.stations, t.open, t.visits), (3, 2, 19));
    let t = totals(vec![root_path]).await;
    assert_eq!((t.stations, t.open, t.visits), (3, 2, 19));
    let t = totals(vec![org_path(&app, id(&c.jj_county)).await]).await;
    assert_eq!((t.stations, t.open, t.visits), (0, 0, 0));
    let t = totals(vec![]).await;
    assert_eq!(t, repo::StationTotals::default());
}

// ---------------------------------------------------------------------------------
// Demo data
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_demo_loads_stations_in_every_city_once() {
    let app = TestApp::spawn().await;
    let state = unionhall_api::server::prepare(app.config.clone())
        .await
        .unwrap();
    let first = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    let line = first
        .areas
        .iter()
        .find(|l| l.starts_with("stations:"))
        .unwrap();
    assert!(
        line.starts_with("stations: 33 service stations created (33 in all)"),
        "{line}"
    );
    let admin = app.admin_token().await;
    let all = app.get("/v1/stations?limit=200", &admin).await;
    let stations = items(&all);
    assert_eq!(stations.len(), 33);
    let cities: std::collections::BTreeSet<&str> = stations
        .iter()
        .map(|s| s["org_id"].as_str().unwrap())
        .collect();
    assert_eq!(cities.len(), 11);
    // Every demo station lies in Jiangxi, and Nanchang's are found from Bayi Square.
    for s in stations {
        let (lat, lng) = (f(&s["location"]["lat"]), f(&s["location"]["lng"]));
        assert!(
            (24.5..=30.1).contains(&lat) && (113.6..=118.5).contains(&lng),
            "{s}"
        );
    }
    let near = app
        .get("/v1/stations?near=28.6746,115.9036&radius_m=20000", &admin)
        .await;
    assert_eq!(items(&near).len(), 3, "{}", near.text);
    assert_eq!(items(&near)[0]["distance_m"], 0);
    let statuses: Vec<&str> = stations
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"temporarily_closed"));
    let visits = app
        .get(
            &format!("/v1/stations/{}/visits", id(&items(&near)[0])),
            &admin,
        )
        .await;
    assert!(
        visits.json["total"].as_u64().unwrap() > 0,
        "{}",
        visits.text
    );

    let again = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    let line = again
        .areas
        .iter()
        .find(|l| l.starts_with("stations:"))
        .unwrap();
    assert_eq!(
        line,
        "stations: 0 service stations created (33 in all) and 0 check-ins recorded"
    );
    let visits_again = app
        .get(
            &format!("/v1/stations/{}/visits", id(&items(&near)[0])),
            &admin,
        )
        .await;
    assert_eq!(visits_again.json["total"], visits.json["total"]);
}

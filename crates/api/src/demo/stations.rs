//! The demo's outdoor-worker service stations: three in each of Jiangxi's eleven cities,
//! run by the city federations, at street addresses near each city's centre (WGS-84
//! positions), with varied amenities and hours (round the clock, daytime, meal times),
//! one temporarily closed, and two weeks of check-ins for each new one.
//!
//! A station is found by its name under its city federation, so a second load adds
//! nothing; check-ins are written only with the station that a load creates.

use super::Report;
use crate::server::StartError;
use chrono::Days;
use unionhall_domain::geo::LatLng;
use unionhall_domain::palaces::{OpeningHours, TimeRange};
use unionhall_domain::stations::{Amenities, Amenity, StationStatus};
use unionhall_persistence::stations::{self as repo, StationData, StationFilter};
use unionhall_persistence::{Db, PageRequest, orgs};

/// When a demo station is open.
#[derive(Clone, Copy)]
enum Hours {
    /// 00:00–24:00 every day.
    AllDay,
    /// 07:00–21:00 every day.
    Daytime,
    /// Weekdays 08:00–20:00, weekends 09:00–18:00.
    Office,
    /// 10:00–14:00 and 17:00–22:00 every day: around the delivery rush hours.
    Meals,
}

/// A demo station: city code, name, address, WGS-84 (lat, lng), amenities, hours,
/// status, phone.
type DemoStation = (
    &'static str,
    &'static str,
    &'static str,
    (f64, f64),
    &'static [Amenity],
    Hours,
    StationStatus,
    Option<&'static str>,
);

use Amenity::{Charging, DrinkingWater, FirstAid, MealHeating, Rest, Toilet, Wifi};
use StationStatus::{Open, TemporarilyClosed};

const EVERYTHING: &[Amenity] = &[
    Rest,
    Charging,
    MealHeating,
    DrinkingWater,
    Toilet,
    FirstAid,
    Wifi,
];
const BASIC: &[Amenity] = &[Rest, DrinkingWater, Charging];
const MEALS: &[Amenity] = &[Rest, MealHeating, DrinkingWater, Charging, Wifi];
const CARE: &[Amenity] = &[Rest, DrinkingWater, Toilet, FirstAid];

const STATIONS: [DemoStation; 33] = [
    (
        "nc",
        "八一广场户外劳动者服务站",
        "南昌市东湖区八一大道 357 号",
        (28.6746, 115.9036),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "nc",
        "红谷滩万达骑手驿站",
        "南昌市红谷滩区会展路 999 号",
        (28.6921, 115.8592),
        MEALS,
        Hours::Meals,
        Open,
        Some("0791-86661201"),
    ),
    (
        "nc",
        "南昌西站户外劳动者服务站",
        "南昌市新建区西站大街 1 号",
        (28.6228, 115.7815),
        CARE,
        Hours::Daytime,
        Open,
        None,
    ),
    (
        "jdz",
        "陶溪川户外劳动者驿站",
        "景德镇市珠山区新厂西路 150 号",
        (29.2956, 117.2256),
        BASIC,
        Hours::Daytime,
        Open,
        Some("0798-8221201"),
    ),
    (
        "jdz",
        "人民广场户外劳动者服务站",
        "景德镇市珠山区珠山中路 1 号",
        (29.2689, 117.2063),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "jdz",
        "昌江快递员之家",
        "景德镇市昌江区瓷都大道 1185 号",
        (29.3032, 117.1746),
        MEALS,
        Hours::Office,
        Open,
        None,
    ),
    (
        "px",
        "安源户外劳动者服务站",
        "萍乡市安源区建设中路 60 号",
        (27.6304, 113.8701),
        CARE,
        Hours::Daytime,
        Open,
        Some("0799-6821201"),
    ),
    (
        "px",
        "萍乡北站骑手驿站",
        "萍乡市安源区站前大道 8 号",
        (27.6633, 113.8436),
        MEALS,
        Hours::Meals,
        Open,
        None,
    ),
    (
        "px",
        "湘东户外劳动者服务站",
        "萍乡市湘东区湘东大道 112 号",
        (27.6405, 113.7325),
        BASIC,
        Hours::Office,
        TemporarilyClosed,
        Some("12351"),
    ),
    (
        "jj",
        "浔阳楼户外劳动者驿站",
        "九江市浔阳区滨江东路 908 号",
        (29.7196, 116.0025),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "jj",
        "八里湖骑手之家",
        "九江市濂溪区八里湖大道 66 号",
        (29.6848, 115.9605),
        MEALS,
        Hours::Meals,
        Open,
        Some("0792-8221201"),
    ),
    (
        "jj",
        "九江站户外劳动者服务站",
        "九江市濂溪区前进东路 1 号",
        (29.6734, 116.0301),
        CARE,
        Hours::Daytime,
        Open,
        None,
    ),
    (
        "xy",
        "抱石公园户外劳动者驿站",
        "新余市渝水区劳动北路 2 号",
        (27.8203, 114.9275),
        BASIC,
        Hours::Daytime,
        Open,
        Some("0790-6441201"),
    ),
    (
        "xy",
        "新余北站快递员之家",
        "新余市渝水区仙来西大道 1 号",
        (27.8468, 114.9006),
        MEALS,
        Hours::Office,
        Open,
        None,
    ),
    (
        "xy",
        "仙女湖户外劳动者服务站",
        "新余市渝水区仙女湖大道 18 号",
        (27.7751, 114.8398),
        CARE,
        Hours::Daytime,
        Open,
        Some("12351"),
    ),
    (
        "yt",
        "鹰潭站户外劳动者驿站",
        "鹰潭市月湖区站江路 1 号",
        (28.2471, 117.0578),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "yt",
        "胜利路骑手之家",
        "鹰潭市月湖区胜利西路 10 号",
        (28.2389, 117.0342),
        MEALS,
        Hours::Meals,
        Open,
        None,
    ),
    (
        "yt",
        "龙虎山户外劳动者服务站",
        "鹰潭市余江区龙虎山大道 3 号",
        (28.2077, 116.8208),
        BASIC,
        Hours::Daytime,
        Open,
        Some("0701-6221201"),
    ),
    (
        "gz",
        "八境台户外劳动者驿站",
        "赣州市章贡区章江路 11 号",
        (25.8718, 114.9381),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "gz",
        "文清路骑手之家",
        "赣州市章贡区文清路 46 号",
        (25.8543, 114.9312),
        MEALS,
        Hours::Meals,
        Open,
        Some("0797-8221201"),
    ),
    (
        "gz",
        "赣州西站户外劳动者服务站",
        "赣州市章贡区站前大道 1 号",
        (25.8433, 114.8651),
        CARE,
        Hours::Daytime,
        Open,
        None,
    ),
    (
        "ja",
        "井冈山大道户外劳动者驿站",
        "吉安市吉州区井冈山大道 88 号",
        (27.1119, 114.9899),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "ja",
        "庐陵文化园骑手之家",
        "吉安市青原区庐陵大道 8 号",
        (27.0971, 115.0109),
        MEALS,
        Hours::Meals,
        Open,
        Some("0796-8221201"),
    ),
    (
        "ja",
        "吉安西站户外劳动者服务站",
        "吉安市吉州区站前路 1 号",
        (27.1219, 114.9297),
        BASIC,
        Hours::Office,
        Open,
        None,
    ),
    (
        "yc",
        "宜阳大道户外劳动者驿站",
        "宜春市袁州区宜阳大道 555 号",
        (27.8093, 114.4003),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "yc",
        "明月山骑手之家",
        "宜春市袁州区明月北路 21 号",
        (27.8235, 114.3852),
        MEALS,
        Hours::Meals,
        Open,
        None,
    ),
    (
        "yc",
        "宜春站户外劳动者服务站",
        "宜春市袁州区袁州大道 1 号",
        (27.7996, 114.3984),
        CARE,
        Hours::Daytime,
        Open,
        Some("0795-3221201"),
    ),
    (
        "fz",
        "赣东大道户外劳动者驿站",
        "抚州市临川区赣东大道 1388 号",
        (27.9556, 116.3521),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "fz",
        "文昌里骑手之家",
        "抚州市临川区文昌大道 1 号",
        (27.9769, 116.3449),
        MEALS,
        Hours::Meals,
        Open,
        None,
    ),
    (
        "fz",
        "抚州东站户外劳动者服务站",
        "抚州市临川区站前大道 2 号",
        (27.9728, 116.4181),
        BASIC,
        Hours::Daytime,
        Open,
        Some("0794-8221201"),
    ),
    (
        "sr",
        "五三大道户外劳动者驿站",
        "上饶市信州区五三大道 58 号",
        (28.4468, 117.9715),
        EVERYTHING,
        Hours::AllDay,
        Open,
        Some("12351"),
    ),
    (
        "sr",
        "上饶站骑手之家",
        "上饶市信州区站前路 1 号",
        (28.4573, 117.9679),
        MEALS,
        Hours::Meals,
        Open,
        None,
    ),
    (
        "sr",
        "三清山户外劳动者服务站",
        "上饶市玉山县三清大道 1 号",
        (28.6803, 118.2405),
        CARE,
        Hours::Office,
        Open,
        Some("0793-8221201"),
    ),
];

/// Check-ins written for each station a load creates: the 14 days before today.
const VISIT_DAYS: u64 = 14;

fn week(weekday: &[TimeRange], weekend: &[TimeRange]) -> OpeningHours {
    OpeningHours {
        mon: weekday.to_vec(),
        tue: weekday.to_vec(),
        wed: weekday.to_vec(),
        thu: weekday.to_vec(),
        fri: weekday.to_vec(),
        sat: weekend.to_vec(),
        sun: weekend.to_vec(),
    }
}

fn opening_hours(kind: Hours) -> Result<OpeningHours, StartError> {
    let range = |from: (u32, u32), to: (u32, u32)| {
        TimeRange::new(from, to).ok_or("demo data: bad station hours")
    };
    Ok(match kind {
        Hours::AllDay => OpeningHours::every_day(&[range((0, 0), (24, 0))?]),
        Hours::Daytime => OpeningHours::every_day(&[range((7, 0), (21, 0))?]),
        Hours::Office => week(&[range((8, 0), (20, 0))?], &[range((9, 0), (18, 0))?]),
        Hours::Meals => {
            OpeningHours::every_day(&[range((10, 0), (14, 0))?, range((17, 0), (22, 0))?])
        }
    })
}

/// Loads the stations (see the module notes) and reports one line.
pub async fn load(db: &Db, report: &mut Report) -> Result<(), StartError> {
    let page = PageRequest {
        limit: 200,
        after: None,
    };
    let today = crate::routes::members::today_in_china();
    let (mut created, mut visits) = (0usize, 0i64);
    for (i, (city, name, address, (lat, lng), amenities, hours, status, phone)) in
        STATIONS.iter().enumerate()
    {
        let org = orgs::find_by_code_unscoped(db, city)
            .await?
            .ok_or_else(|| format!("demo data: org {city} missing"))?;
        let filter = StationFilter {
            org_path: Some(org.path.clone()),
            ..StationFilter::default()
        };
        let existing = repo::list_stations(db, &filter, page).await?.items;
        if existing.iter().any(|s| s.data.name == *name) {
            continue;
        }
        let station = repo::insert_station(
            db,
            org.id,
            StationData {
                name: (*name).to_owned(),
                address: (*address).to_owned(),
                location: LatLng::new(*lat, *lng).map_err(|e| format!("demo data: {name}: {e}"))?,
                amenities: Amenities::from_list(amenities)
                    .map_err(|p| format!("demo data: {name}: {}", p.detail))?,
                opening_hours: opening_hours(*hours)?,
                status: *status,
                phone: phone.map(str::to_owned),
            },
        )
        .await?;
        created += 1;
        if *status != StationStatus::Open {
            continue;
        }
        for day in 1..=VISIT_DAYS {
            let date = today
                .checked_sub_days(Days::new(day))
                .ok_or("demo data: date out of range")?;
            // Busier round-the-clock stations; counts vary by day and station.
            let base = if matches!(hours, Hours::AllDay) {
                40
            } else {
                15
            };
            let count = base + i64::try_from((i * 7 + day as usize * 13) % 29).unwrap_or(0);
            repo::add_visits(db, station.id, date, count).await?;
            visits += count;
        }
    }
    let total = repo::count_stations(db).await?;
    report.areas.push(format!(
        "stations: {created} service stations created ({total} in all) and {visits} check-ins recorded"
    ));
    Ok(())
}

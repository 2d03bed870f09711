//! Positions on the Earth: WGS-84 latitude and longitude, great-circle distance, the
//! bounding box a radius search prefilters with, and the GCJ-02 offset that Chinese
//! map SDKs (Amap, Tencent, Apple Maps in China) draw in.
//!
//! - **Storage is WGS-84.** A position given in GCJ-02 is converted on the way in and
//!   back on the way out ([`CoordSys`]); distances are always between WGS-84 points.
//! - **Distance** is the haversine great-circle distance on a sphere of the Earth's mean
//!   radius ([`EARTH_RADIUS_M`]): within about 0.5 % of the ellipsoid, which is far
//!   below anything a rider notices, and the same formula everywhere in the service.
//! - **The box.** [`BoundingBox::around`] is the smallest latitude/longitude box that
//!   holds every point within a radius: its latitude half-height is the radius's angle,
//!   and its longitude half-width is widened for the latitude (about `1/cos(lat)`, exactly
//!   `asin(sin(d)/cos(lat))`, which is where the circle is widest). It doesn't wrap across
//!   the antimeridian (it is clamped at ±180°), which no station of a Chinese union is
//!   near. Storage indexes the box through [`lat_band`]s.

use crate::insurance::wire_enum;
use std::f64::consts::PI;
use thiserror::Error;

/// The Earth's mean radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Latitude bands per degree: a band is 0.01° of latitude, about 1.1 km.
pub const LAT_BANDS_PER_DEGREE: f64 = 100.0;

/// A WGS-84 position (or a GCJ-02 one where a function says so), in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

/// Why a position was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum GeoError {
    #[error("expected `lat,lng` as two decimal numbers, e.g. `28.6820,115.8579`")]
    Format,
    #[error("latitude must be between -90 and 90")]
    Latitude,
    #[error("longitude must be between -180 and 180")]
    Longitude,
}

impl GeoError {
    /// The stable code of the problem.
    pub fn code(self) -> &'static str {
        match self {
            GeoError::Format => "format",
            GeoError::Latitude | GeoError::Longitude => "range",
        }
    }
}

impl LatLng {
    /// A position; refused unless both numbers are finite and in range.
    pub fn new(lat: f64, lng: f64) -> Result<LatLng, GeoError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(GeoError::Latitude);
        }
        if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
            return Err(GeoError::Longitude);
        }
        Ok(LatLng { lat, lng })
    }

    /// Parses `lat,lng` (as in `?near=28.682,115.858`): two plain decimal numbers and
    /// one comma, nothing else (no spaces, exponents, `NaN` or `inf`).
    pub fn parse(text: &str) -> Result<LatLng, GeoError> {
        let (lat, lng) = text.split_once(',').ok_or(GeoError::Format)?;
        LatLng::new(decimal(lat)?, decimal(lng)?)
    }
}

/// A decimal number as people write coordinates: an optional sign, digits, and an
/// optional fraction.
fn decimal(text: &str) -> Result<f64, GeoError> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty())
        && digits.len() <= 24;
    if !plain {
        return Err(GeoError::Format);
    }
    text.parse().map_err(|_| GeoError::Format)
}

/// The great-circle distance between two WGS-84 points, metres (haversine).
pub fn haversine_m(a: LatLng, b: LatLng) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// A latitude/longitude box, degrees, bounds included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lng: f64,
    pub max_lng: f64,
}

/// Slack added to every side of a box, degrees (about 0.1 mm): floating-point rounding
/// must never move a point on the circle's edge outside the box.
const BOX_SLACK_DEG: f64 = 1e-9;

impl BoundingBox {
    /// The smallest box holding every point within `radius_m` of `center` (see the
    /// module notes), clamped to ±90° and ±180°. A box reaching a pole spans every
    /// longitude.
    pub fn around(center: LatLng, radius_m: f64) -> BoundingBox {
        let angle = radius_m / EARTH_RADIUS_M;
        let half_height = angle.to_degrees() + BOX_SLACK_DEG;
        let min_lat = (center.lat - half_height).max(-90.0);
        let max_lat = (center.lat + half_height).min(90.0);
        let widening = angle.sin() / center.lat.to_radians().cos();
        if max_lat >= 90.0 || min_lat <= -90.0 || !widening.is_finite() || widening >= 1.0 {
            return BoundingBox {
                min_lat,
                max_lat,
                min_lng: -180.0,
                max_lng: 180.0,
            };
        }
        let half_width = widening.asin().to_degrees() + BOX_SLACK_DEG;
        BoundingBox {
            min_lat,
            max_lat,
            min_lng: (center.lng - half_width).max(-180.0),
            max_lng: (center.lng + half_width).min(180.0),
        }
    }

    /// Whether `p` is inside (bounds included).
    pub fn contains(&self, p: LatLng) -> bool {
        (self.min_lat..=self.max_lat).contains(&p.lat)
            && (self.min_lng..=self.max_lng).contains(&p.lng)
    }

    /// The latitude bands that cover the box, always the same number for boxes of the
    /// same height (so a search of a given radius always runs the same statement): the
    /// first is the band of `min_lat`, and there are `floor(height × 100) + 2`, the most
    /// a box of this height can touch. A band past the box matches nothing the
    /// latitude bounds let through.
    pub fn lat_bands(&self) -> Vec<i32> {
        let first = lat_band(self.min_lat);
        let count = ((self.max_lat - self.min_lat) * LAT_BANDS_PER_DEGREE).floor() as i32 + 2;
        (first..first + count).collect()
    }
}

/// The latitude band of `lat`: `floor(lat × 100)`, -9000 to 9000. Storage keeps it
/// beside each position and indexes it with the longitude, so a box is one index range
/// per band.
pub fn lat_band(lat: f64) -> i32 {
    (lat * LAT_BANDS_PER_DEGREE).floor() as i32
}

/// Each item within `radius_m` of `center` with its distance in metres, nearest first
/// (ties by `tie`), at most `limit` of them.
pub fn nearest_first<T, K: Ord>(
    center: LatLng,
    radius_m: f64,
    items: impl IntoIterator<Item = T>,
    position: impl Fn(&T) -> LatLng,
    tie: impl Fn(&T) -> K,
    limit: usize,
) -> Vec<(T, f64)> {
    let mut within: Vec<(T, f64)> = items
        .into_iter()
        .map(|item| {
            let d = haversine_m(center, position(&item));
            (item, d)
        })
        .filter(|(_, d)| *d <= radius_m)
        .collect();
    within.sort_by(|(a, da), (b, db)| da.total_cmp(db).then_with(|| tie(a).cmp(&tie(b))));
    within.truncate(limit);
    within
}

wire_enum!(
    /// The coordinate system of positions in a request or response. Storage is always
    /// WGS-84; GCJ-02 is converted on the way in and out.
    CoordSys {
        /// WGS-84, as GPS and most of the world's maps use.
        Wgs84 => "wgs84",
        /// GCJ-02, the offset system of maps published in mainland China (Amap,
        /// Tencent Maps, Apple Maps in China). Outside China it equals WGS-84.
        Gcj02 => "gcj02",
    }
);

impl CoordSys {
    /// A position in this system as WGS-84.
    pub fn to_wgs84(self, p: LatLng) -> LatLng {
        match self {
            CoordSys::Wgs84 => p,
            CoordSys::Gcj02 => gcj02_to_wgs84(p),
        }
    }

    /// A WGS-84 position in this system.
    pub fn from_wgs84(self, p: LatLng) -> LatLng {
        match self {
            CoordSys::Wgs84 => p,
            CoordSys::Gcj02 => wgs84_to_gcj02(p),
        }
    }
}

// ─── GCJ-02 ─────────────────────────────────────────────────────────────────
//
// The published algorithm (as in googollee/eviltransform and its many ports): an offset
// computed on the Krasovsky 1940 ellipsoid, applied inside a rough rectangle around
// China and nowhere else.

/// Krasovsky 1940 semi-major axis, metres.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// Krasovsky 1940 first eccentricity squared.
#[expect(
    clippy::excessive_precision,
    reason = "the constant as the algorithm publishes it, digit for digit"
)]
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943_23;

/// Whether GCJ-02 leaves `p` alone: outside the rectangle the algorithm applies in
/// (longitude 72.004–137.8347, latitude 0.8293–55.8271).
pub fn out_of_china(p: LatLng) -> bool {
    !(72.004..=137.8347).contains(&p.lng) || !(0.8293..=55.8271).contains(&p.lat)
}

/// The offset polynomial in degrees-from-(35°N, 105°E) terms: `(dlat, dlng)` before
/// scaling to degrees.
fn offset_terms(x: f64, y: f64) -> (f64, f64) {
    let xy = x * y;
    let abs_x = x.abs().sqrt();
    let (x_pi, y_pi) = (x * PI, y * PI);
    let shared = 20.0 * (6.0 * x_pi).sin() + 20.0 * (2.0 * x_pi).sin();
    let mut lat = shared;
    let mut lng = shared;
    lat += 20.0 * y_pi.sin() + 40.0 * (y_pi / 3.0).sin();
    lng += 20.0 * x_pi.sin() + 40.0 * (x_pi / 3.0).sin();
    lat += 160.0 * (y_pi / 12.0).sin() + 320.0 * (y_pi / 30.0).sin();
    lng += 150.0 * (x_pi / 12.0).sin() + 300.0 * (x_pi / 30.0).sin();
    lat *= 2.0 / 3.0;
    lng *= 2.0 / 3.0;
    lat += -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * abs_x;
    lng += 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * abs_x;
    (lat, lng)
}

/// The GCJ-02 offset at WGS-84 `p`, degrees.
fn gcj02_offset(p: LatLng) -> (f64, f64) {
    let (dlat, dlng) = offset_terms(p.lng - 105.0, p.lat - 35.0);
    let rad_lat = p.lat.to_radians();
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlng = (dlng * 180.0) / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (dlat, dlng)
}

/// WGS-84 → GCJ-02; the identity outside China ([`out_of_china`]).
pub fn wgs84_to_gcj02(p: LatLng) -> LatLng {
    if out_of_china(p) {
        return p;
    }
    let (dlat, dlng) = gcj02_offset(p);
    LatLng {
        lat: p.lat + dlat,
        lng: p.lng + dlng,
    }
}

/// How close [`gcj02_to_wgs84`] gets: its answer maps forward to within this many
/// degrees (about 0.1 mm) of the GCJ-02 point given.
pub const GCJ02_INVERSE_TOLERANCE_DEG: f64 = 1e-9;

/// GCJ-02 → WGS-84, by fixed-point iteration: guess, map the guess forward, move the
/// guess by what's left, until the forward image is within
/// [`GCJ02_INVERSE_TOLERANCE_DEG`] of `p` (three or four rounds; the offset changes
/// slowly). The identity outside China.
pub fn gcj02_to_wgs84(p: LatLng) -> LatLng {
    if out_of_china(p) {
        return p;
    }
    let mut guess = p;
    for _ in 0..30 {
        let image = wgs84_to_gcj02(guess);
        let (err_lat, err_lng) = (image.lat - p.lat, image.lng - p.lng);
        if err_lat.abs().max(err_lng.abs()) < GCJ02_INVERSE_TOLERANCE_DEG {
            break;
        }
        guess = LatLng {
            lat: guess.lat - err_lat,
            lng: guess.lng - err_lng,
        };
    }
    guess
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(lat: f64, lng: f64) -> LatLng {
        LatLng::new(lat, lng).unwrap()
    }

    /// WGS-84 → GCJ-02 pairs published with googollee/eviltransform
    /// (`go/transform_test.go`, reproduced by its C, PHP and Python ports), computed with
    /// the Krasovsky constants: Shanghai, Shenzhen, Beijing.
    const PUBLISHED: [(f64, f64, f64, f64); 3] = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
    ];

    #[test]
    fn gcj02_matches_the_published_pairs() {
        for (wlat, wlng, glat, glng) in PUBLISHED {
            let g = wgs84_to_gcj02(at(wlat, wlng));
            assert!((g.lat - glat).abs() < 1e-12, "{wlat},{wlng}: {g:?}");
            assert!((g.lng - glng).abs() < 1e-12, "{wlat},{wlng}: {g:?}");
            let w = gcj02_to_wgs84(at(glat, glng));
            assert!((w.lat - wlat).abs() < 1e-7 && (w.lng - wlng).abs() < 1e-7);
        }
        // Tiananmen: the offset is several hundred metres, mostly eastwards.
        let tiananmen = at(39.90734, 116.39089);
        let shifted = wgs84_to_gcj02(tiananmen);
        assert!((shifted.lat - 39.908_741_069).abs() < 1e-8, "{shifted:?}");
        assert!((shifted.lng - 116.397_130_942).abs() < 1e-8, "{shifted:?}");
        let moved = haversine_m(tiananmen, shifted);
        assert!((500.0..700.0).contains(&moved), "{moved}");
    }

    #[test]
    fn gcj02_round_trips_across_jiangxi_to_better_than_1e_7_degrees() {
        let mut worst: f64 = 0.0;
        for i in 0..=56 {
            for j in 0..=49 {
                let p = at(24.5 + f64::from(i) * 0.1, 113.6 + f64::from(j) * 0.1);
                let g = wgs84_to_gcj02(p);
                assert_ne!(g, p, "Jiangxi is inside China");
                let back = gcj02_to_wgs84(g);
                worst = worst.max((back.lat - p.lat).abs().max((back.lng - p.lng).abs()));
            }
        }
        assert!(worst < 1e-7, "worst round trip error {worst}°");
        let nanchang = at(28.68, 115.86);
        let shown = CoordSys::Gcj02.from_wgs84(nanchang);
        assert!(
            haversine_m(nanchang, shown) > 100.0,
            "GCJ-02 moves it: {shown:?}"
        );
        assert!(haversine_m(nanchang, CoordSys::Gcj02.to_wgs84(shown)) < 0.01);
        assert_eq!(CoordSys::Wgs84.from_wgs84(nanchang), nanchang);
        assert_eq!(CoordSys::Wgs84.to_wgs84(shown), shown);
    }

    #[test]
    fn outside_china_gcj02_is_the_identity() {
        for p in [
            at(51.5007, -0.1246),
            at(35.6586, 139.7454),
            at(-33.8568, 151.2153),
            at(0.5, 100.0),
        ] {
            assert!(out_of_china(p));
            assert_eq!(wgs84_to_gcj02(p), p);
            assert_eq!(gcj02_to_wgs84(p), p);
            assert_eq!(CoordSys::Gcj02.from_wgs84(p), p);
        }
    }

    #[test]
    fn haversine_agrees_with_known_distances() {
        // One degree of latitude on the mean sphere.
        let d = haversine_m(at(28.0, 115.0), at(29.0, 115.0));
        assert!((d - 111_195.08).abs() < 0.01, "{d}");
        // Nanchang to Ganzhou city centres, about 330 km.
        let d = haversine_m(at(28.6820, 115.8579), at(25.8310, 114.9336));
        assert!((d - 329_915.82).abs() < 0.01, "{d}");
        assert_eq!(haversine_m(at(28.0, 115.0), at(28.0, 115.0)), 0.0);
        // Antipodes: half the circumference, without NaN from rounding.
        let d = haversine_m(at(0.0, 0.0), at(0.0, 180.0));
        assert!((d - PI * EARTH_RADIUS_M).abs() < 1e-6, "{d}");
    }

    #[test]
    fn positions_parse_strictly() {
        assert_eq!(LatLng::parse("28.682,115.858"), Ok(at(28.682, 115.858)));
        assert_eq!(LatLng::parse("-33.5,+151"), Ok(at(-33.5, 151.0)));
        for bad in [
            "",
            "28.682",
            "28.682;115.858",
            "28.682, 115.858",
            " 28.6,115.8",
            "a,b",
            "28.,115",
            ".5,115",
            "1e1,115",
            "NaN,115",
            "inf,115",
            "28.6,115.8,1",
            "--1,2",
        ] {
            assert_eq!(LatLng::parse(bad), Err(GeoError::Format), "{bad:?}");
        }
        assert_eq!(LatLng::parse("90.0001,115"), Err(GeoError::Latitude));
        assert_eq!(LatLng::parse("-91,115"), Err(GeoError::Latitude));
        assert_eq!(LatLng::parse("28,180.5"), Err(GeoError::Longitude));
        assert_eq!(LatLng::new(f64::NAN, 0.0), Err(GeoError::Latitude));
        assert_eq!(GeoError::Format.code(), "format");
        assert_eq!(GeoError::Longitude.code(), "range");
    }

    #[test]
    fn the_box_holds_the_whole_circle_across_the_province() {
        // Walk the circle's edge (just inside) at many bearings, from centres all over
        // Jiangxi and for the radii a search allows: every point is in the box, and the
        // box is no wider than it must be (its corners are outside the circle).
        for &(lat, lng) in &[(24.5, 113.6), (27.0, 115.0), (30.1, 118.5), (28.68, 115.86)] {
            for radius in [1.0, 3_000.0, 50_000.0] {
                let center = at(lat, lng);
                let bbox = BoundingBox::around(center, radius);
                let angle = radius / EARTH_RADIUS_M;
                for step in 0..3600 {
                    let bearing = f64::from(step).to_radians() / 10.0;
                    let p = destination(center, angle * (1.0 - 1e-9), bearing);
                    assert!(bbox.contains(p), "{p:?} outside {bbox:?} for r={radius}");
                }
                let corner = at(bbox.max_lat, bbox.max_lng);
                assert!(haversine_m(center, corner) > radius);
                // Wider than 1/cos(lat) alone: the circle is widest poleward of its centre.
                let naive = angle.to_degrees() / lat.to_radians().cos();
                assert!(bbox.max_lng - lng >= naive);
                assert!(bbox.max_lng - lng < naive * 1.0001 + 2.0 * BOX_SLACK_DEG);
            }
        }
    }

    /// The point `angle` radians from `from` on `bearing` (great circle).
    fn destination(from: LatLng, angle: f64, bearing: f64) -> LatLng {
        let lat1 = from.lat.to_radians();
        let lat2 = (lat1.sin() * angle.cos() + lat1.cos() * angle.sin() * bearing.cos()).asin();
        let lng2 = from.lng.to_radians()
            + (bearing.sin() * angle.sin() * lat1.cos())
                .atan2(angle.cos() - lat1.sin() * lat2.sin());
        LatLng {
            lat: lat2.to_degrees(),
            lng: lng2.to_degrees(),
        }
    }

    #[test]
    fn boxes_are_clamped_at_the_poles_and_the_antimeridian() {
        let polar = BoundingBox::around(at(89.99, 10.0), 5_000.0);
        assert_eq!(
            (polar.max_lat, polar.min_lng, polar.max_lng),
            (90.0, -180.0, 180.0)
        );
        let east = BoundingBox::around(at(0.0, 179.99), 5_000.0);
        assert_eq!(east.max_lng, 180.0);
    }

    #[test]
    fn bands_cover_the_box_and_their_count_depends_only_on_the_radius() {
        assert_eq!(lat_band(28.6799), 2867);
        assert_eq!(lat_band(-0.001), -1);
        assert_eq!(lat_band(90.0), 9000);
        let mut counts = std::collections::BTreeSet::new();
        for i in 0..1000 {
            let lat = 24.5 + f64::from(i) * 0.005_57;
            let bbox = BoundingBox::around(at(lat, 115.0), 3_000.0);
            let bands = bbox.lat_bands();
            assert!(bands.contains(&lat_band(bbox.min_lat)));
            assert!(bands.contains(&lat_band(bbox.max_lat)));
            assert!(bands.windows(2).all(|w| w[1] == w[0] + 1));
            counts.insert(bands.len());
        }
        assert_eq!(counts.into_iter().collect::<Vec<_>>(), vec![7]);
    }

    #[test]
    fn nearest_first_filters_sorts_and_limits() {
        let center = at(28.68, 115.86);
        let points = vec![
            (3, at(28.70, 115.86)), // ~2.2 km
            (1, at(28.68, 115.87)), // ~0.98 km
            (2, at(28.68, 115.87)), // the same place: the id breaks the tie
            (4, at(28.80, 115.86)), // ~13 km
        ];
        let near = nearest_first(center, 3_000.0, points.clone(), |p| p.1, |p| p.0, 10);
        let ids: Vec<i32> = near.iter().map(|(p, _)| p.0).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert!(near.windows(2).all(|w| w[0].1 <= w[1].1));
        let two = nearest_first(center, 3_000.0, points, |p| p.1, |p| p.0, 2);
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn coord_sys_wire_names() {
        assert_eq!("gcj02".parse::<CoordSys>(), Ok(CoordSys::Gcj02));
        assert_eq!("wgs84".parse::<CoordSys>(), Ok(CoordSys::Wgs84));
        assert!("bd09".parse::<CoordSys>().is_err());
    }
}

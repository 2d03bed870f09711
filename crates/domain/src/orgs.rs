//! The organisation tree: kinds, which kind may sit under which, region codes,
//! time zones, and the materialised path that makes subtree queries cheap.

use crate::ids::OrgId;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use thiserror::Error;

/// What an organisation is, from the provincial federation down to a grassroots union.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    ProvincialFederation,
    CityFederation,
    CountyFederation,
    IndustryUnion,
    GrassrootsUnion,
    GigFederation,
}

impl OrgKind {
    /// Every kind, in the order the spec lists them.
    pub const ALL: [OrgKind; 6] = [
        OrgKind::ProvincialFederation,
        OrgKind::CityFederation,
        OrgKind::CountyFederation,
        OrgKind::IndustryUnion,
        OrgKind::GrassrootsUnion,
        OrgKind::GigFederation,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::ProvincialFederation => "provincial_federation",
            OrgKind::CityFederation => "city_federation",
            OrgKind::CountyFederation => "county_federation",
            OrgKind::IndustryUnion => "industry_union",
            OrgKind::GrassrootsUnion => "grassroots_union",
            OrgKind::GigFederation => "gig_federation",
        }
    }

    /// Whether an organisation of this kind may be created under `parent`.
    ///
    /// The provincial federation is the root and is never anyone's child. Cities sit
    /// under the province, counties under cities. Industry unions and gig-economy
    /// federations exist at every level above grassroots. Grassroots unions may sit
    /// anywhere, including under another grassroots union (a branch union).
    pub fn may_sit_under(self, parent: OrgKind) -> bool {
        use OrgKind::*;
        match self {
            ProvincialFederation => false,
            CityFederation => parent == ProvincialFederation,
            CountyFederation => parent == CityFederation,
            IndustryUnion | GigFederation => parent != GrassrootsUnion,
            GrassrootsUnion => true,
        }
    }
}

impl FromStr for OrgKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// Why an organisation's attributes were refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrgRuleError {
    #[error("`{0}` is not a current GB/T 2260 administrative division code")]
    UnknownRegion(String),
    #[error("`{0}` is not an IANA time zone name")]
    UnknownTimeZone(String),
    #[error("a {child} can't be created under a {parent}")]
    KindNotAllowedUnder {
        child: &'static str,
        parent: &'static str,
    },
}

impl OrgRuleError {
    /// A stable machine-readable code for API error details.
    pub fn code(&self) -> &'static str {
        match self {
            OrgRuleError::UnknownRegion(_) => "region_code",
            OrgRuleError::UnknownTimeZone(_) => "time_zone",
            OrgRuleError::KindNotAllowedUnder { .. } => "kind_not_allowed",
        }
    }
}

/// Checks a six-digit GB/T 2260 code against the current table (e.g. 360800 Ji'an).
pub fn check_region_code(code: &str) -> Result<(), OrgRuleError> {
    match region_name(code) {
        Some(_) => Ok(()),
        None => Err(OrgRuleError::UnknownRegion(code.to_owned())),
    }
}

/// The Chinese name of a region code, when it is current (the 2016-07 revision, in
/// `gb2260_2016`).
pub fn region_name(code: &str) -> Option<&'static str> {
    use crate::gb2260_2016::{CODES, NAME_ENDS, NAMES};
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let i = CODES.binary_search(&code.parse().ok()?).ok()?;
    let start = match i {
        0 => 0,
        _ => usize::try_from(NAME_ENDS[i - 1]).ok()?,
    };
    NAMES.get(start..usize::try_from(NAME_ENDS[i]).ok()?)
}

/// Checks an IANA time zone name (`Asia/Shanghai`).
pub fn check_time_zone(name: &str) -> Result<chrono_tz::Tz, OrgRuleError> {
    name.parse::<chrono_tz::Tz>()
        .map_err(|_| OrgRuleError::UnknownTimeZone(name.to_owned()))
}

/// The time zone organisations use unless they say otherwise.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";

/// Checks that a child of kind `child` may sit under a parent of kind `parent`.
pub fn check_placement(child: OrgKind, parent: OrgKind) -> Result<(), OrgRuleError> {
    if child.may_sit_under(parent) {
        Ok(())
    } else {
        Err(OrgRuleError::KindNotAllowedUnder {
            child: child.as_str(),
            parent: parent.as_str(),
        })
    }
}

/// An organisation's place in the tree: the ids from the root down to itself,
/// stored as `/<root>/<child>/…/<self>/`.
///
/// Every descendant's path starts with its ancestor's path, so "the subtree of X" is
/// one index range scan: `path >= X.path AND path < X.path_upper_bound()`. (Paths are
/// stored with byte-wise collation so the range means what it says.)
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgPath(String);

impl OrgPath {
    /// The path of a root organisation.
    pub fn root(id: OrgId) -> Self {
        OrgPath(format!("/{}/", id.0.simple()))
    }

    /// The path of a new child of this organisation.
    pub fn child(&self, id: OrgId) -> Self {
        OrgPath(format!("{}{}/", self.0, id.0.simple()))
    }

    /// Wraps a stored path.
    pub fn from_stored(path: String) -> Self {
        OrgPath(path)
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The organisation the path leads to: its last segment.
    pub fn org_id(&self) -> Option<OrgId> {
        let last = self.0.strip_suffix('/')?.rsplit('/').next()?;
        uuid::Uuid::try_parse(last).ok().map(OrgId)
    }

    /// Levels below the root (the root is 0).
    pub fn depth(&self) -> usize {
        // Bytes, not chars: `/` is ASCII, and a byte count vectorises where the
        // char searcher (~650 instructions a path) does not.
        self.0
            .bytes()
            .filter(|b| *b == b'/')
            .count()
            .saturating_sub(2)
    }

    /// The exclusive upper bound of this subtree's paths: the path with its final `/`
    /// replaced by the next byte, `0`.
    pub fn upper_bound(&self) -> String {
        let trimmed = self.0.strip_suffix('/').unwrap_or(&self.0);
        format!("{trimmed}0")
    }

    /// Whether `other` is this organisation or one of its descendants.
    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }
}

/// An organisation as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub id: OrgId,
    pub name: String,
    pub code: String,
    pub kind: OrgKind,
    pub parent_id: Option<OrgId>,
    pub path: OrgPath,
    pub region_code: Option<String>,
    pub time_zone: String,
    /// Bumped on every change; the API's `ETag`.
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The organisations a caller may act on for some purpose: the subtrees below each
/// organisation a qualifying role is bound to. Empty means nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Reach {
    roots: Vec<OrgPath>,
}

impl Reach {
    /// A reach over the subtrees of these paths (nested ones are folded away).
    pub fn over(mut paths: Vec<OrgPath>) -> Self {
        paths.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut roots: Vec<OrgPath> = Vec::with_capacity(paths.len());
        for p in paths {
            if !roots.iter().any(|r| r.contains(&p)) {
                roots.push(p);
            }
        }
        Reach { roots }
    }

    /// The subtree roots, outermost only.
    pub fn roots(&self) -> &[OrgPath] {
        &self.roots
    }

    /// Whether nothing is in reach.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Whether the organisation at `path` is in reach.
    pub fn covers(&self, path: &OrgPath) -> bool {
        self.roots.iter().any(|r| r.contains(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in OrgKind::ALL {
            assert_eq!(kind.as_str().parse::<OrgKind>(), Ok(kind));
        }
        assert!("province".parse::<OrgKind>().is_err());
    }

    #[test]
    fn placement_follows_the_federation_tree() {
        use OrgKind::*;
        assert!(check_placement(CityFederation, ProvincialFederation).is_ok());
        assert!(check_placement(CountyFederation, CityFederation).is_ok());
        assert!(check_placement(GrassrootsUnion, GrassrootsUnion).is_ok());
        assert!(check_placement(GigFederation, CityFederation).is_ok());
        assert!(check_placement(CityFederation, CityFederation).is_err());
        assert!(check_placement(CountyFederation, ProvincialFederation).is_err());
        assert!(check_placement(IndustryUnion, GrassrootsUnion).is_err());
        for parent in OrgKind::ALL {
            assert!(check_placement(ProvincialFederation, parent).is_err());
        }
    }

    #[test]
    fn region_codes_come_from_the_current_table() {
        assert!(check_region_code("360000").is_ok()); // 江西省
        assert!(check_region_code("360800").is_ok()); // 吉安市
        assert!(check_region_code("360100").is_ok()); // 南昌市
        assert_eq!(region_name("360400"), Some("九江市"));
        assert!(check_region_code("369999").is_err());
        assert!(check_region_code("36080").is_err());
        assert!(check_region_code("36080a").is_err());
        assert_eq!(
            check_region_code("999999").map_err(|e| e.code()),
            Err("region_code")
        );
    }

    #[test]
    fn the_region_table_reads_back_every_name_at_both_ends() {
        use crate::gb2260_2016::{CODES, NAME_ENDS, NAMES};
        // Sorted (the lookup is a binary search), one end per code, ends inside NAMES.
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(NAME_ENDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(NAME_ENDS.last().map(|&e| e as usize), Some(NAMES.len()));
        assert_eq!(region_name("110000"), Some("北京市")); // the first entry
        assert_eq!(region_name("110101"), Some("东城区"));
        assert_eq!(region_name("361130"), Some("婺源县"));
        // Every code has a non-empty name ending on a character boundary.
        for code in CODES {
            let name = region_name(&code.to_string());
            assert!(name.is_some_and(|n| !n.is_empty()), "{code}");
        }
        assert_eq!(region_name("３６０８００"), None);
        assert_eq!(region_name("+36080"), None);
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert!(check_time_zone("Asia/Shanghai").is_ok());
        assert!(check_time_zone("Asia/Urumqi").is_ok());
        assert!(check_time_zone("Mars/Olympus").is_err());
        assert!(check_time_zone("").is_err());
    }

    #[test]
    fn reach_folds_nested_subtrees_and_covers_descendants() {
        let root = OrgPath::root(OrgId::new());
        let a = root.child(OrgId::new());
        let a1 = a.child(OrgId::new());
        let b = root.child(OrgId::new());
        let reach = Reach::over(vec![a1.clone(), a.clone()]);
        assert_eq!(reach.roots(), std::slice::from_ref(&a));
        assert!(reach.covers(&a1));
        assert!(reach.covers(&a));
        assert!(!reach.covers(&b));
        assert!(!reach.covers(&root));
        assert!(Reach::default().is_empty());
        assert!(!Reach::default().covers(&a));
    }

    #[test]
    fn paths_nest_and_bound_their_subtrees() {
        let root = OrgPath::root(OrgId::new());
        let city = root.child(OrgId::new());
        let county = city.child(OrgId::new());
        let other_city = root.child(OrgId::new());
        assert_eq!(root.depth(), 0);
        assert_eq!(city.depth(), 1);
        assert_eq!(county.depth(), 2);
        assert!(root.contains(&county));
        assert!(city.contains(&county));
        assert!(city.contains(&city));
        assert!(!city.contains(&other_city));
        assert!(!county.contains(&city));
        // The range [path, upper_bound) holds exactly the subtree.
        let in_range = |p: &OrgPath, of: &OrgPath| {
            p.as_str() >= of.as_str() && p.as_str() < of.upper_bound().as_str()
        };
        assert!(in_range(&county, &city));
        assert!(in_range(&city, &city));
        assert!(!in_range(&other_city, &city));
        assert!(!in_range(&root, &city));
    }

    #[test]
    fn a_path_names_the_organisation_it_leads_to() {
        let (root_id, city_id) = (OrgId::new(), OrgId::new());
        let root = OrgPath::root(root_id);
        assert_eq!(root.org_id(), Some(root_id));
        assert_eq!(root.child(city_id).org_id(), Some(city_id));
        assert_eq!(
            OrgPath::from_stored("/not-an-id/".to_owned()).org_id(),
            None
        );
    }
}

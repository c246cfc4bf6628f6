//! Organisation and estate (domain.md §1): the company, its management offices
//! (管理处), estates (小区), buildings (楼栋), units (单元) and houses (房屋).
//!
//! R-ORG-1: every house belongs to exactly one management office, through its
//! estate; the office is what data scopes are cut by.

use std::str::FromStr;

use crate::text_enum;

/// The VIP card prefix a new company starts with (R-VIP-4).
pub const DEFAULT_VIP_CARD_PREFIX: &str = "JK";
/// The time zone a new company starts with (R-X-3).
pub const DEFAULT_TIME_ZONE: &str = "Asia/Shanghai";
/// Longest name of an office, estate, building or unit, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// Longest house number (房号), in characters.
pub const HOUSE_NUMBER_MAX_CHARS: usize = 20;
/// Lowest floor a house can be on (basements are negative).
pub const FLOOR_MIN: i32 = -20;
/// Highest floor a house can be on.
pub const FLOOR_MAX: i32 = 300;
/// Largest area of a single house, in m².
pub const AREA_MAX_SQM: f64 = 100_000.0;

text_enum! {
    /// What a house is used for (房屋类型).
    pub enum HouseType {
        /// 住宅
        Residential => "residential",
        /// 商铺
        Shop => "shop",
        /// 办公
        Office => "office",
        /// 车位
        Parking => "parking",
        /// 储藏室
        Storage => "storage",
        /// 其他
        Other => "other",
    }
}

text_enum! {
    /// Where a house stands in its life with an owner (房屋状态).
    pub enum HouseState {
        /// 未售 — not yet sold by the developer.
        Unsold => "unsold",
        /// 空置 — sold (or handed over) but nobody lives there.
        Vacant => "vacant",
        /// 装修中 — being renovated.
        Renovating => "renovating",
        /// 已入住 — the owner lives there.
        Occupied => "occupied",
        /// 出租 — let to a tenant.
        Rented => "rented",
    }
}

/// Why an organisation value or rule was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    /// A VIP card prefix must be exactly two capital letters (R-VIP-4).
    #[error("VIP card prefix must be two capital letters A–Z")]
    InvalidVipCardPrefix,
    /// Not a time zone of the IANA database.
    #[error("unknown time zone")]
    UnknownTimeZone,
    /// An area that is negative, not a number, or implausibly large.
    #[error("area must be between 0 and {AREA_MAX_SQM} m²")]
    AreaOutOfRange,
    /// 套内面积 (usable area) larger than 建筑面积 (building area).
    #[error("usable area exceeds building area")]
    UsableAreaExceedsBuildingArea,
    /// A floor outside the range a building can have.
    #[error("floor must be between {FLOOR_MIN} and {FLOOR_MAX}")]
    FloorOutOfRange,
}

impl OrgError {
    /// The stable machine code of the rule, as the API reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidVipCardPrefix => "invalid_vip_card_prefix",
            Self::UnknownTimeZone => "unknown_time_zone",
            Self::AreaOutOfRange => "area_out_of_range",
            Self::UsableAreaExceedsBuildingArea => "usable_area_exceeds_building_area",
            Self::FloorOutOfRange => "floor_out_of_range",
        }
    }
}

/// The two-letter company prefix of every VIP card number (R-VIP-4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipCardPrefix(String);

impl VipCardPrefix {
    /// Parses `JK`-style prefixes: exactly two ASCII capital letters.
    pub fn parse(input: &str) -> Result<Self, OrgError> {
        if input.len() == 2 && input.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(input.to_owned()))
        } else {
            Err(OrgError::InvalidVipCardPrefix)
        }
    }

    /// The prefix itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<VipCardPrefix> for String {
    fn from(prefix: VipCardPrefix) -> Self {
        prefix.0
    }
}

/// The company's time zone: deadlines and day boundaries use it (R-X-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompanyTimeZone(chrono_tz::Tz);

impl CompanyTimeZone {
    /// Parses an IANA time-zone name such as `Asia/Shanghai`.
    pub fn parse(input: &str) -> Result<Self, OrgError> {
        chrono_tz::Tz::from_str(input)
            .map(Self)
            .map_err(|_| OrgError::UnknownTimeZone)
    }

    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zone, for date arithmetic.
    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }
}

/// A floor area in m², kept exactly as hundredths of a square metre so sums
/// and comparisons never drift the way floating point does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Area {
    hundredths: i64,
}

impl Area {
    /// Rounds square metres half up (四舍五入) to 0.01 m²; refuses
    /// negative, non-finite or implausibly large values.
    ///
    /// Rounding works on the decimal the client wrote, not on the binary
    /// double: `1.005` is `1.00499…` as an `f64`, yet rounds to 1.01, as
    /// it would on paper. The shortest text that reads back as the same
    /// `f64` (Rust's `Display`) is exactly that decimal.
    pub fn from_sqm(sqm: f64) -> Result<Self, OrgError> {
        if !sqm.is_finite() || !(0.0..=AREA_MAX_SQM).contains(&sqm) {
            return Err(OrgError::AreaOutOfRange);
        }
        let text = sqm.to_string();
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let digit = |i: usize| i64::from(fraction.as_bytes().get(i).map_or(0, |b| b - b'0'));
        let whole: i64 = whole.parse().map_err(|_| OrgError::AreaOutOfRange)?;
        let round_up = i64::from(digit(2) >= 5);
        Ok(Self {
            hundredths: whole * 100 + digit(0) * 10 + digit(1) + round_up,
        })
    }

    /// Rebuilds an area read back from storage.
    pub fn from_hundredths(hundredths: i64) -> Self {
        Self { hundredths }
    }

    /// Hundredths of a square metre, as stored.
    pub fn hundredths(self) -> i64 {
        self.hundredths
    }

    /// Square metres, for display.
    #[allow(clippy::cast_precision_loss)]
    pub fn sqm(self) -> f64 {
        self.hundredths as f64 / 100.0
    }
}

/// The two areas every house has: 建筑面积 (building area, what fees are
/// charged on) and 套内面积 (usable area), which can never exceed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseAreas {
    /// 建筑面积
    pub building: Area,
    /// 套内面积
    pub usable: Area,
}

impl HouseAreas {
    /// Checks that the usable area fits in the building area.
    pub fn new(building: Area, usable: Area) -> Result<Self, OrgError> {
        if usable > building {
            return Err(OrgError::UsableAreaExceedsBuildingArea);
        }
        Ok(Self { building, usable })
    }
}

/// Checks a floor number (basements negative).
pub fn check_floor(floor: i32) -> Result<i32, OrgError> {
    if (FLOOR_MIN..=FLOOR_MAX).contains(&floor) {
        Ok(floor)
    } else {
        Err(OrgError::FloorOutOfRange)
    }
}

/// A record that can be archived only while nothing active hangs below it:
/// an office with active estates, an estate with active buildings, a building
/// or unit with active houses. Archiving hides, never deletes, so history
/// (requests, fees, letters) keeps its house.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveBlocked {
    /// How many active records still depend on it.
    pub active_children: i64,
}

/// Decides whether a parent can be archived, given its active children.
pub fn ensure_archivable(active_children: i64) -> Result<(), ArchiveBlocked> {
    if active_children > 0 {
        Err(ArchiveBlocked { active_children })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vip_prefix_is_two_capitals() {
        assert_eq!(VipCardPrefix::parse("JK").unwrap().as_str(), "JK");
        for bad in ["", "J", "jk", "JKL", "J1", "京K"] {
            assert_eq!(
                VipCardPrefix::parse(bad),
                Err(OrgError::InvalidVipCardPrefix),
                "{bad}"
            );
        }
    }

    #[test]
    fn time_zone_must_be_iana() {
        assert_eq!(
            CompanyTimeZone::parse(DEFAULT_TIME_ZONE).unwrap().name(),
            "Asia/Shanghai"
        );
        assert_eq!(
            CompanyTimeZone::parse("Mars/Olympus"),
            Err(OrgError::UnknownTimeZone)
        );
        assert_eq!(CompanyTimeZone::parse(""), Err(OrgError::UnknownTimeZone));
    }

    #[test]
    fn areas_round_to_hundredths() {
        assert_eq!(Area::from_sqm(89.534).unwrap().hundredths(), 8953);
        assert_eq!(Area::from_sqm(89.535).unwrap().sqm(), 89.54);
        assert_eq!(Area::from_sqm(0.0).unwrap().hundredths(), 0);
        assert_eq!(Area::from_sqm(AREA_MAX_SQM).unwrap().sqm(), AREA_MAX_SQM);
    }

    #[test]
    fn areas_round_half_up_on_the_written_decimal() {
        for (sqm, hundredths) in [
            (1.005, 101),
            (0.145, 15),
            (1.015, 102),
            (0.125, 13),
            (72.105, 7211),
            (0.004_999, 0),
            (0.0000001, 0),
            (99_999.995, 10_000_000),
            (3.0, 300),
        ] {
            assert_eq!(
                Area::from_sqm(sqm).unwrap().hundredths(),
                hundredths,
                "{sqm}"
            );
        }
    }

    #[test]
    fn areas_refuse_nonsense() {
        for bad in [-0.01, f64::NAN, f64::INFINITY, AREA_MAX_SQM + 0.01] {
            assert_eq!(Area::from_sqm(bad), Err(OrgError::AreaOutOfRange), "{bad}");
        }
    }

    #[test]
    fn usable_area_never_exceeds_building_area() {
        let big = Area::from_sqm(100.0).unwrap();
        let small = Area::from_sqm(80.0).unwrap();
        assert!(HouseAreas::new(big, small).is_ok());
        assert!(HouseAreas::new(big, big).is_ok());
        assert_eq!(
            HouseAreas::new(small, big),
            Err(OrgError::UsableAreaExceedsBuildingArea)
        );
    }

    #[test]
    fn floors_allow_basements_within_bounds() {
        assert_eq!(check_floor(-2), Ok(-2));
        assert_eq!(check_floor(FLOOR_MAX), Ok(FLOOR_MAX));
        assert_eq!(check_floor(FLOOR_MIN - 1), Err(OrgError::FloorOutOfRange));
        assert_eq!(check_floor(FLOOR_MAX + 1), Err(OrgError::FloorOutOfRange));
    }

    #[test]
    fn archive_is_blocked_by_active_children() {
        assert_eq!(ensure_archivable(0), Ok(()));
        assert_eq!(
            ensure_archivable(3),
            Err(ArchiveBlocked { active_children: 3 })
        );
    }

    #[test]
    fn house_enums_round_trip_through_text() {
        for state in HouseState::ALL {
            assert_eq!(state.as_str().parse::<HouseState>().unwrap(), *state);
        }
        for kind in HouseType::ALL {
            assert_eq!(String::from(*kind).parse::<HouseType>().unwrap(), *kind);
        }
        assert!("sold".parse::<HouseState>().is_err());
    }
}

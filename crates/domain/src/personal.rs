//! Personal data (R-CRM-2, R-X-5): the values that are masked unless the
//! caller may see them, and their masks.

/// Why a personal-data value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PersonalDataError {
    /// Not an 11-digit mainland mobile number starting `1[3-9]`.
    #[error("not a mainland mobile phone number")]
    InvalidMobilePhone,
}

impl PersonalDataError {
    /// The stable machine code, as the API reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidMobilePhone => "invalid_mobile_phone",
        }
    }
}

/// A mainland mobile phone number (手机号), 11 digits, `1[3-9]…`; a `+86`
/// or `86` prefix and spaces or dashes are accepted and dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilePhone(String);

impl MobilePhone {
    /// Parses a number as typed or as WeChat returns it.
    pub fn parse(input: &str) -> Result<Self, PersonalDataError> {
        let digits: String = input
            .trim()
            .trim_start_matches('+')
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let digits = match digits.strip_prefix("86") {
            Some(rest) if rest.len() == 11 => rest.to_owned(),
            _ => digits,
        };
        let bytes = digits.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if valid {
            Ok(Self(digits))
        } else {
            Err(PersonalDataError::InvalidMobilePhone)
        }
    }

    /// The full number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks a stored phone number: the first three and last four characters
/// stay (`138****5678`); anything too short to mask that way is all stars.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

/// Keeps `head` leading and `tail` trailing characters and stars the rest
/// (`110***********123X` for an ID number with 3 and 4); text too short to
/// keep anything hidden becomes all stars.
pub fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut masked: String = chars[..head].iter().collect();
    masked.push_str(&"*".repeat(chars.len() - head - tail));
    masked.extend(&chars[chars.len() - tail..]);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_phones_parse_and_mask() {
        for input in ["13812345678", "+86 138-1234-5678", "8613812345678"] {
            assert_eq!(MobilePhone::parse(input).unwrap().as_str(), "13812345678");
        }
        for input in [
            "12812345678",
            "1381234567",
            "138123456789",
            "1381234567a",
            "",
        ] {
            assert!(MobilePhone::parse(input).is_err(), "{input}");
        }
        assert_eq!(
            MobilePhone::parse("13812345678").unwrap().masked(),
            "138****5678"
        );
    }

    #[test]
    fn masks_keep_head_and_tail_only() {
        assert_eq!(
            mask_middle("11010519491231002X", 3, 4),
            "110***********002X"
        );
        assert_eq!(mask_phone("1234567"), "*******");
        assert_eq!(mask_phone(""), "");
    }
}

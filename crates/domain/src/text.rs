//! Free-text values shared by every area: names, numbers, addresses.

use serde::{Deserialize, Serialize};

/// Why a piece of text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Nothing but white space.
    #[error("must not be blank")]
    Blank,
    /// Longer than allowed, counted in characters (not bytes).
    #[error("longer than {max} characters")]
    TooLong {
        /// The maximum number of characters.
        max: usize,
    },
    /// Contains control characters (line breaks, tabs, NUL …).
    #[error("contains control characters")]
    ControlCharacter,
}

/// A short single-line text such as a name or a house number: trimmed, not
/// blank, no control characters, at most `max` characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Label(String);

impl Label {
    /// Parses user input into a label of at most `max` characters.
    ///
    /// The length counts the input as sent, before trimming, so the rule is
    /// exactly the `maxLength` the contract states.
    pub fn parse(input: &str, max: usize) -> Result<Self, TextError> {
        if input.chars().count() > max {
            return Err(TextError::TooLong { max });
        }
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(TextError::Blank);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(TextError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Gives up the wrapper.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl From<Label> for String {
    fn from(label: Label) -> Self {
        label.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_keeps_chinese() {
        let label = Label::parse("  3号楼 ", 10).unwrap();
        assert_eq!(label.as_str(), "3号楼");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(Label::parse("一二三四五", 5).is_ok());
        assert_eq!(
            Label::parse("一二三四五六", 5),
            Err(TextError::TooLong { max: 5 })
        );
    }

    #[test]
    fn length_counts_the_input_as_sent() {
        assert_eq!(
            Label::parse(" abcde", 5),
            Err(TextError::TooLong { max: 5 })
        );
        assert_eq!(Label::parse(" abcd", 5).unwrap().as_str(), "abcd");
    }

    #[test]
    fn refuses_blank_and_control_characters() {
        assert_eq!(Label::parse(" \t ", 5), Err(TextError::Blank));
        assert_eq!(Label::parse("a\nb", 5), Err(TextError::ControlCharacter));
        assert_eq!(Label::parse("a\u{0}b", 5), Err(TextError::ControlCharacter));
    }
}

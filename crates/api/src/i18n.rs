//! The two languages every user-facing message comes in (R-X-4): Chinese by
//! default, English when the client asks for it with `Accept-Language`.

use std::borrow::Cow;

use actix_web::http::header::{ACCEPT_LANGUAGE, HeaderMap};

/// The language of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文 (the default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Picks the language from `Accept-Language`: English only when an
    /// English tag outranks every Chinese one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Self::Zh;
        };
        let mut best: Option<(Self, f32)> = None;
        for part in value.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if tag == "en" || tag.starts_with("en-") {
                Self::En
            } else if tag == "zh" || tag.starts_with("zh-") || tag == "*" {
                Self::Zh
            } else {
                continue;
            };
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map_or(Self::Zh, |(lang, _)| lang)
    }

    /// The `Content-Language` tag of this language.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Zh => "zh-CN",
            Self::En => "en",
        }
    }
}

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    zh: Cow<'static, str>,
    en: Cow<'static, str>,
}

impl Text {
    /// A message known at compile time.
    pub const fn new(zh: &'static str, en: &'static str) -> Self {
        Self {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    /// A message built at run time.
    pub fn owned(zh: String, en: String) -> Self {
        Self {
            zh: Cow::Owned(zh),
            en: Cow::Owned(en),
        }
    }

    /// The message in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn lang(value: &str) -> Lang {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_str(value).unwrap());
        Lang::from_headers(&headers)
    }

    #[test]
    fn chinese_unless_english_is_preferred() {
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::Zh);
        assert_eq!(lang("en"), Lang::En);
        assert_eq!(lang("en-US,en;q=0.9"), Lang::En);
        assert_eq!(lang("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(lang("fr, en;q=0.5"), Lang::En);
        assert_eq!(lang("en;q=0.2, zh;q=0.8"), Lang::Zh);
        assert_eq!(lang("de"), Lang::Zh);
        assert_eq!(lang("en;q=0"), Lang::Zh);
    }
}

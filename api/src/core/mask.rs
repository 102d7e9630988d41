//! Field masking, defined once per kind of personal value (phone, full name, address).
//!
//! A policy decides an [`Access`] level for a viewer and a person (or a record holding a
//! person's data); every field that shows the value goes through the methods here.

/// How much of a person's personal data a viewer may see.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Masked name (王**), masked phone (138****5678), no address.
    Masked,
    /// Full name; masked phone; no address.
    NameOnly,
    /// Everything.
    Full,
}

impl Access {
    /// The narrower of two levels: a copy never shows more than its source allows.
    pub fn min(self, other: Access) -> Access {
        std::cmp::min(self, other)
    }

    /// A full name, or its masked form.
    pub fn name(self, name: &str) -> String {
        if self >= Access::NameOnly {
            name.to_owned()
        } else {
            mask_name(name)
        }
    }

    /// A phone number, whole only with full access, otherwise masked.
    pub fn phone(self, phone: &str) -> String {
        if self == Access::Full {
            phone.to_owned()
        } else {
            mask_phone(phone)
        }
    }

    /// A value shown only with full access (an address, a phone on a record), else none.
    pub fn full_only<T: Clone>(self, value: Option<&T>) -> Option<T> {
        if self == Access::Full {
            value.cloned()
        } else {
            None
        }
    }
}

/// Masks the middle of a phone number: 13812345678 → 138****5678.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 8 {
        return "****".to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Masks a personal name: 王小红 → 王**, 李四 → 李*.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

//! "Parse, don't validate": small checked values built from client input.

use chrono::NaiveDate;

use crate::core::error::AppError;
use crate::core::error::AppResult;

/// A trimmed, non-empty text of at most `max` characters.
pub fn text(field: &'static str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_field(field, format!("{field} 不能为空")));
    }
    if value.chars().count() > max {
        return Err(AppError::bad_field(
            field,
            format!("{field} 不能超过 {max} 个字符"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(AppError::bad_field(field, format!("{field} 含有非法字符")));
    }
    Ok(value.to_owned())
}

/// An optional text: empty becomes `None`.
pub fn opt_text(field: &'static str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// A phone number: a mainland mobile number (11 digits starting with 1) or a landline such
/// as 025-85550001.
pub fn phone(value: &str) -> AppResult<String> {
    let v = value.trim();
    let digits: String = v.chars().filter(|c| *c != '-' && *c != ' ').collect();
    let ok_chars = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
    let mobile = digits.len() == 11 && digits.starts_with('1');
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    if ok_chars && (mobile || landline) {
        Ok(if mobile { digits } else { v.to_owned() })
    } else {
        Err(AppError::bad_field("phone", "电话号码格式不正确"))
    }
}

pub fn opt_phone(value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => phone(v).map(Some),
    }
}

/// An optional http(s) URL of at most 500 characters.
pub fn opt_url(field: &'static str, value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v)
            if (v.starts_with("https://") || v.starts_with("http://"))
                && v.len() <= 500
                && !v.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(AppError::bad_field(
            field,
            format!("{field} 须为 http(s) 链接"),
        )),
    }
}

/// A username: 2–32 ASCII letters, digits, `_`, `-` or `.`.
pub fn username(value: &str) -> AppResult<String> {
    let v = value.trim();
    let ok = (2..=32).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(AppError::bad_field(
            "username",
            "用户名须为 2–32 位字母、数字或 _ - .",
        ))
    }
}

/// A password of 8 to 128 characters.
pub fn password(value: &str) -> AppResult<String> {
    let n = value.chars().count();
    if (8..=128).contains(&n) {
        Ok(value.to_owned())
    } else {
        Err(AppError::bad_field("password", "密码长度须为 8–128 位"))
    }
}

/// A count within `0..=max`.
pub fn count(field: &'static str, value: i32, max: i32) -> AppResult<i32> {
    if (0..=max).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_field(
            field,
            format!("{field} 须在 0 到 {max} 之间"),
        ))
    }
}

/// Today's date in Asia/Shanghai.
/// The years a date, an instant or a year argument may name (BAD_USER_INPUT outside): wide
/// enough for any record, narrow enough that no date arithmetic on them can overflow.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

pub fn today() -> NaiveDate {
    crate::core::clock::today()
}

/// The instant a local (Asia/Shanghai) date begins.
pub fn local_midnight(date: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&naive)
        .earliest()
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| naive.and_utc())
}

/// Parses an id sent by a client.
pub fn id(field: &'static str, value: &str) -> AppResult<i64> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| AppError::bad_field(field, format!("{field} 不是有效的编号")))
}

/// An input field renamed in the schema (the old name is deprecated for one release): the
/// value under either name. Both given must agree; neither given is refused as the new name
/// missing (`required`), or is `None`.
pub fn renamed<T: PartialEq>(
    new_name: &'static str,
    new: Option<T>,
    old_name: &'static str,
    old: Option<T>,
) -> AppResult<Option<T>> {
    match (new, old) {
        (Some(n), Some(o)) if n != o => Err(AppError::bad_field(
            new_name,
            format!("{new_name} 与已弃用的 {old_name} 不一致（只需给出 {new_name}）"),
        )),
        (Some(v), _) | (None, Some(v)) => Ok(Some(v)),
        (None, None) => Ok(None),
    }
}

/// [`renamed`] for a field that must be given under one of its names.
pub fn renamed_required<T: PartialEq>(
    new_name: &'static str,
    new: Option<T>,
    old_name: &'static str,
    old: Option<T>,
) -> AppResult<T> {
    renamed(new_name, new, old_name, old)?
        .ok_or_else(|| AppError::bad_field(new_name, format!("须给出 {new_name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        use crate::core::mask::{mask_name, mask_phone};
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("王小红"), "王**");
        assert_eq!(mask_name("李四"), "李*");
        assert!(phone("1381234567").is_err());
        assert_eq!(phone("138 1234 5678").ok().as_deref(), Some("13812345678"));
        assert!(phone("025-85550001").is_ok());
    }
}

//! Custom scalars: `Date` is a calendar date written `YYYY-MM-DD`; `DateTime` an instant in
//! RFC 3339 with millisecond precision.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike, NaiveDate};

/// A calendar date, `YYYY-MM-DD` (local dates are in Asia/Shanghai).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date, written `YYYY-MM-DD` (days are counted in China Standard Time, Asia/Shanghai), e.g. `2026-11-29`, from 1900-01-01 to 2199-12-31.
#[Scalar(
    name = "Date",
    specified_by_url = "https://scalars.graphql.org/andimarek/local-date.html"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| InputValueError::custom("日期格式须为 YYYY-MM-DD"))?;
                if !crate::core::validate::YEARS.contains(&d.year()) {
                    return Err(InputValueError::custom(
                        "日期须在 1900-01-01 至 2199-12-31 之间",
                    ));
                }
                Ok(Date(d))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

/// An instant, RFC 3339 with offset and at most millisecond precision (`2026-11-29T08:30:00.000+08:00` is read; `2026-11-29T00:30:00.000Z` is written).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub chrono::DateTime<chrono::Utc>);

/// An instant, written in RFC 3339 with at most millisecond precision, in UTC (`2026-11-29T00:30:00.000Z`); any offset is read (`2026-11-29T08:30:00.000+08:00`); from 1900 to 2199.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://scalars.graphql.org/andimarek/date-time.html"
)]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                let t = chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| InputValueError::custom("时间须为带时区的 RFC 3339 格式"))?
                    .with_timezone(&chrono::Utc);
                if !crate::core::validate::YEARS.contains(&t.year()) {
                    return Err(InputValueError::custom("时间须在 1900 年至 2199 年之间"));
                }
                Ok(Timestamp(t))
            }
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Timestamp {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Timestamp(t)
    }
}

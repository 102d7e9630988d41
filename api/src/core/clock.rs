//! The server's clock for business time (deadlines, shifts, weeks, ledgers, the demo's
//! relative dates). It is the real time, unless `LIANXIN_NOW` (RFC 3339) is set: then the
//! process's clock starts at that instant and runs on from it, so that a test suite or a demo
//! can be run at a chosen moment (a Monday 00:00 in Asia/Shanghai, the last minute of a
//! year). Token expiry and the login throttle keep the real time.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The shift from the real time, read once from `LIANXIN_NOW`.
fn offset() -> Duration {
    static OFFSET: OnceLock<Duration> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        match std::env::var("LIANXIN_NOW")
            .ok()
            .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
        {
            Some(at) => at.with_timezone(&Utc) - Utc::now(),
            None => Duration::zero(),
        }
    })
}

/// Now, on the business clock.
pub fn now() -> DateTime<Utc> {
    Utc::now() + offset()
}

/// Today in Asia/Shanghai, on the business clock.
pub fn today() -> NaiveDate {
    now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

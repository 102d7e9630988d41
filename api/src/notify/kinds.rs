//! The kinds of notification: what each is about, whether it is urgent (quiet hours do not
//! hold it back; it goes by SMS too), and which outside channels it uses.

use entity::notification_delivery::Channel;

/// What a notification is about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    WishClaimed,
    WishFulfilled,
    WishConfirmed,
    WishExpired,
    RegistrationReviewed,
    GoodDeedReviewed,
    RewardRedeemed,
    ShiftReminder,
    SignupCancelled,
    ShiftChanged,
    IncidentDispatched,
    IncidentDeadlineNear,
    IncidentOverdue,
    IncidentHandled,
    IncidentReopened,
    AgreementToSign,
    AgreementExpiring,
    RoleGranted,
    RoleRevoked,
    PasswordReset,
}

impl Kind {
    pub const ALL: [Kind; 20] = [
        Kind::WishClaimed,
        Kind::WishFulfilled,
        Kind::WishConfirmed,
        Kind::WishExpired,
        Kind::RegistrationReviewed,
        Kind::GoodDeedReviewed,
        Kind::RewardRedeemed,
        Kind::ShiftReminder,
        Kind::SignupCancelled,
        Kind::ShiftChanged,
        Kind::IncidentDispatched,
        Kind::IncidentDeadlineNear,
        Kind::IncidentOverdue,
        Kind::IncidentHandled,
        Kind::IncidentReopened,
        Kind::AgreementToSign,
        Kind::AgreementExpiring,
        Kind::RoleGranted,
        Kind::RoleRevoked,
        Kind::PasswordReset,
    ];

    /// The name stored and shown (`WISH_CLAIMED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WishClaimed => "WISH_CLAIMED",
            Kind::WishFulfilled => "WISH_FULFILLED",
            Kind::WishConfirmed => "WISH_CONFIRMED",
            Kind::WishExpired => "WISH_EXPIRED",
            Kind::RegistrationReviewed => "REGISTRATION_REVIEWED",
            Kind::GoodDeedReviewed => "GOOD_DEED_REVIEWED",
            Kind::RewardRedeemed => "REWARD_REDEEMED",
            Kind::ShiftReminder => "SHIFT_REMINDER",
            Kind::SignupCancelled => "SIGNUP_CANCELLED",
            Kind::ShiftChanged => "SHIFT_CHANGED",
            Kind::IncidentDispatched => "INCIDENT_DISPATCHED",
            Kind::IncidentDeadlineNear => "INCIDENT_DEADLINE_NEAR",
            Kind::IncidentOverdue => "INCIDENT_OVERDUE",
            Kind::IncidentHandled => "INCIDENT_HANDLED",
            Kind::IncidentReopened => "INCIDENT_REOPENED",
            Kind::AgreementToSign => "AGREEMENT_TO_SIGN",
            Kind::AgreementExpiring => "AGREEMENT_EXPIRING",
            Kind::RoleGranted => "ROLE_GRANTED",
            Kind::RoleRevoked => "ROLE_REVOKED",
            Kind::PasswordReset => "PASSWORD_RESET",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Urgent kinds ignore quiet hours and go by SMS too.
    pub fn urgent(self) -> bool {
        matches!(self, Kind::IncidentOverdue)
    }

    /// The outside channels a kind uses (the in-app inbox always).
    pub fn channels(self) -> &'static [Channel] {
        use Kind::*;
        match self {
            IncidentOverdue => &[Channel::Wechat, Channel::Sms, Channel::Email],
            IncidentDispatched | IncidentDeadlineNear | IncidentHandled | IncidentReopened
            | AgreementToSign | AgreementExpiring => &[Channel::Wechat, Channel::Email],
            _ => &[Channel::Wechat],
        }
    }
}

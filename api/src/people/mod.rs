//! People, below the domains: the person rule (who sees a person's personal data), what it
//! needs to know of a person, and the access log of unmasked views. Every domain and the
//! shared nodes apply it; it imports no domain.

pub mod access_log;
pub mod policy;
pub mod scopes;

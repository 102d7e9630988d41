//! sea-orm entities of lianxin. Plain data: no GraphQL here.

pub mod agreement;
pub mod agreement_activity;
pub mod agreement_kind;
pub mod agreement_party;
pub mod agreement_signature;
pub mod alliance;
pub mod alliance_member;
pub mod community;
pub mod good_deed;
pub mod good_deed_category;
pub mod grid;
pub mod grid_registration;
pub mod grid_staff;
pub mod idempotency_key;
pub mod ledger_entry;
pub mod organization;
pub mod passbook;
pub mod redemption;
pub mod reward;
pub mod role_assignment;
pub mod street;
pub mod user;
pub mod wish;
pub mod wish_claim;

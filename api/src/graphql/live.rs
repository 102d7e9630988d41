//! The viewer of a live connection (a WebSocket), checked again before each event it is
//! sent and on a timer: a connection outlives neither its token nor its user's rights.
//!
//! When the check fails the connection is closed with a documented code:
//! - **4401** `Unauthorized`: the login is no longer valid (the token expired, the account
//!   was deactivated, `logoutEverywhere` or a password change raised the token version);
//! - **4403** `Forbidden`: the user must change their password first, or lost a right the
//!   connection was opened with (a role revoked, a grid post ended). Rights gained apply from
//!   the next event.

use std::sync::Arc;

use crate::auth::{AuthUser, Viewer};
use crate::core::error::AppError;
use crate::graphql::loaders::Renew;
use crate::graphql::state::AppState;

/// Why a live connection was closed: its WebSocket close code and reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: &'static str,
}

pub const UNAUTHORIZED: Closed = Closed {
    code: 4401,
    reason: "Unauthorized",
};
pub const FORBIDDEN: Closed = Closed {
    code: 4403,
    reason: "Forbidden",
};

/// What to do with the next event.
pub enum Next {
    /// Send it, filtered by this viewer's rights.
    Send(Viewer),
    /// Send nothing this time (the viewer could not be checked).
    Skip,
    /// The connection is closed: end the subscription.
    Closed,
}

/// Who a live connection serves, and how to close it.
pub struct Live {
    login: Option<Login>,
    /// The viewer of a subscription run outside a connection (in-process), unchecked.
    fixed: Option<Arc<AuthUser>>,
    closed: tokio::sync::watch::Sender<Option<Closed>>,
    /// The connection's loaders, forgotten before each event.
    renew: Option<Renew>,
}

/// The token a connection was opened with, and the rights it was opened with.
struct Login {
    user_id: i64,
    version: i64,
    /// Seconds since the epoch.
    expires: i64,
    rights: Rights,
}

/// What a viewer may see by: role assignments in force and the scopes derived from them.
#[derive(PartialEq, Eq)]
struct Rights {
    roles: Vec<i64>,
    worker_grids: Vec<i64>,
    registered: Vec<i64>,
}

impl Rights {
    fn of(user: &AuthUser) -> Self {
        let mut roles: Vec<i64> = user.roles.iter().map(|r| r.id).collect();
        roles.sort_unstable();
        let mut worker_grids = user.worker_grids.clone();
        worker_grids.sort_unstable();
        let mut registered = user.registered_communities.clone();
        registered.sort_unstable();
        Self {
            roles,
            worker_grids,
            registered,
        }
    }

    /// Whether every right of `self` is still held in `now`.
    fn kept_in(&self, now: &Rights) -> bool {
        let within = |a: &[i64], b: &[i64]| a.iter().all(|x| b.binary_search(x).is_ok());
        within(&self.roles, &now.roles)
            && within(&self.worker_grids, &now.worker_grids)
            && within(&self.registered, &now.registered)
    }
}

impl Live {
    /// An anonymous connection: nothing to check.
    pub fn anonymous(renew: Option<Renew>) -> Self {
        Self {
            login: None,
            fixed: None,
            closed: tokio::sync::watch::channel(None).0,
            renew,
        }
    }

    /// A connection opened with `token`: the gate a POST passes (signature, expiry, token
    /// version, active, must-change-password).
    pub async fn open(
        state: &AppState,
        token: &str,
        renew: Option<Renew>,
    ) -> Result<(Self, Arc<AuthUser>), AppError> {
        let (user_id, version, expires) = state.viewers.verify_until(&state.config, token)?;
        let user = state.viewers.viewer(&state.db, user_id, version).await?;
        let user = crate::auth::admit(user)?;
        let live = Self {
            fixed: None,
            login: Some(Login {
                user_id,
                version,
                expires,
                rights: Rights::of(&user),
            }),
            closed: tokio::sync::watch::channel(None).0,
            renew,
        };
        Ok((live, user))
    }

    /// The viewer of a subscription executed in-process (no connection, no token to check).
    pub fn fixed(user: Arc<AuthUser>) -> Self {
        Self {
            login: None,
            fixed: Some(user),
            closed: tokio::sync::watch::channel(None).0,
            renew: None,
        }
    }

    /// Resolves once the connection is closed, with why.
    pub fn closed(&self) -> tokio::sync::watch::Receiver<Option<Closed>> {
        self.closed.subscribe()
    }

    /// The token's expiry (seconds since the epoch), if logged in.
    pub fn expires(&self) -> Option<i64> {
        self.login.as_ref().map(|l| l.expires)
    }

    fn close(&self, why: Closed) -> Next {
        self.closed.send_if_modified(|c| {
            if c.is_none() {
                *c = Some(why);
                true
            } else {
                false
            }
        });
        Next::Closed
    }

    /// The viewer now (cheap: the viewer cache and its change notifications). Once closed,
    /// the connection sends nothing more.
    pub async fn check(&self, state: &AppState) -> Next {
        if self.closed.borrow().is_some() {
            return Next::Closed;
        }
        let Some(login) = &self.login else {
            return Next::Send(match &self.fixed {
                Some(user) => Viewer::User(user.clone()),
                None => Viewer::Anonymous,
            });
        };
        if chrono::Utc::now().timestamp() >= login.expires {
            return self.close(UNAUTHORIZED);
        }
        let user: Arc<AuthUser> = match state
            .viewers
            .viewer(&state.db, login.user_id, login.version)
            .await
        {
            Ok(user) => user,
            Err(AppError::Unauthenticated(_)) => return self.close(UNAUTHORIZED),
            // The database is unreachable: send nothing now, keep the connection.
            Err(e) => {
                tracing::warn!(error = %e.message(), "a live viewer could not be checked");
                return Next::Skip;
            }
        };
        if user.user.must_change_password || !login.rights.kept_in(&Rights::of(&user)) {
            return self.close(FORBIDDEN);
        }
        Next::Send(Viewer::User(user))
    }

    /// Before an event is sent: the viewer checked again, and the loaders renewed so that
    /// the event shows current rows.
    pub async fn before_event(&self, state: &AppState) -> Next {
        let next = self.check(state).await;
        if let (Next::Send(_), Some(renew)) = (&next, &self.renew) {
            renew.now();
        }
        next
    }
}

/// The connection's live viewer, for a subscription resolver: checked again before each
/// event. A subscription run outside a WebSocket connection (in-process, through the
/// schema) has the viewer of its request, unchecked.
pub fn of(ctx: &async_graphql::Context<'_>) -> Arc<Live> {
    ctx.data_opt::<Arc<Live>>().cloned().unwrap_or_else(|| {
        Arc::new(match crate::graphql::context::viewer(ctx) {
            Viewer::Anonymous => Live::anonymous(None),
            Viewer::User(u) => Live::fixed(u.clone()),
        })
    })
}

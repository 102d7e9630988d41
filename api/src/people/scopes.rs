//! What the person rule needs to know of a person (their public office and communities),
//! and this server's bounded memory of it, kept while their `auth_stamp` is unchanged.

use entity::role_assignment::Role;

/// One role as the person rule needs it: the role, its community, the community of its grid.
pub type RoleScope = (Role, Option<i64>, Option<i64>);

/// Whether a user holds a public office, and the communities their roles cover.
#[derive(Clone, Debug, Default)]
pub struct PersonScope {
    pub public_office: bool,
    pub communities: Vec<i64>,
}

impl PersonScope {
    /// From the user's roles, each as (role, its community, the community of its grid).
    pub fn from_roles(roles: impl IntoIterator<Item = RoleScope>) -> Self {
        let mut out = Self::default();
        for (role, community, grid_community) in roles {
            out.public_office |= super::policy::is_public_office(role);
            out.communities.extend(community);
            out.communities.extend(grid_community);
        }
        out
    }
}

/// People's scopes as this server last read them, each with the `auth_stamp` their user row
/// had. The database raises the stamp whenever a user's roles, registrations or worker grids
/// change, so a page that reads the people's rows (with their stamps) takes each scope from
/// here while the stamp is the same, and reads only the others.
pub struct PersonScopes {
    map: crate::core::cache::Bounded<i64, (i64, PersonScope)>,
}

/// People kept at most (the least recently used leave first).
const PERSON_SCOPES_SIZE: usize = 100_000;

impl Default for PersonScopes {
    fn default() -> Self {
        Self {
            map: crate::core::cache::Bounded::new(PERSON_SCOPES_SIZE),
        }
    }
}

impl PersonScopes {
    /// The scope of `user_id` if it was read at `auth_stamp`.
    pub fn get(&self, user_id: i64, auth_stamp: i64) -> Option<PersonScope> {
        self.map
            .get(&user_id)
            .filter(|(stamp, _)| *stamp == auth_stamp)
            .map(|(_, scope)| scope)
    }

    /// Records the scope of `user_id`, read after their row showed `auth_stamp`.
    pub fn put(&self, user_id: i64, auth_stamp: i64, scope: PersonScope) {
        self.map.put(user_id, (auth_stamp, scope));
    }
}

//! What a key may do.

use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Submit jobs, cancel and retry its owner's jobs.
    Submit,
    /// Read its owner's jobs, their events and artifacts.
    Read,
    /// Everything, on every owner's jobs; metrics; sharing models.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Submit, Scope::Read, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Submit => "submit",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a scope (submit, read or admin)"))
    }
}

/// A key's scopes. `admin` includes the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    submit: bool,
    read: bool,
    admin: bool,
}

impl Scopes {
    pub fn all() -> Self {
        Self { submit: true, read: true, admin: true }
    }

    fn of(scopes: impl IntoIterator<Item = Scope>) -> Self {
        let mut s = Self::default();
        for scope in scopes {
            match scope {
                Scope::Submit => s.submit = true,
                Scope::Read => s.read = true,
                Scope::Admin => s.admin = true,
            }
        }
        s
    }

    /// Parses `submit,read` (the CLI's and the database's spelling).
    pub fn parse_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let scopes: Vec<Scope> =
            names.into_iter().map(str::trim).map(str::parse).collect::<Result<_, _>>()?;
        if scopes.is_empty() {
            return Err("at least one scope is needed (submit, read, admin)".into());
        }
        Ok(Self::of(scopes))
    }

    pub fn allows(self, scope: Scope) -> bool {
        self.admin
            || match scope {
                Scope::Submit => self.submit,
                Scope::Read => self.read,
                Scope::Admin => false,
            }
    }

    pub fn names(self) -> Vec<&'static str> {
        let held = [self.submit, self.read, self.admin];
        Scope::ALL.iter().zip(held).filter(|(_, on)| *on).map(|(s, _)| s.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_includes_the_other_scopes_and_read_does_not_include_submit() {
        let admin = Scopes::parse_list(["admin"]).unwrap();
        assert!(Scope::ALL.into_iter().all(|s| admin.allows(s)));
        let read = Scopes::parse_list(["read"]).unwrap();
        assert!(
            read.allows(Scope::Read) && !read.allows(Scope::Submit) && !read.allows(Scope::Admin)
        );
        assert_eq!(Scopes::parse_list(["submit", " read"]).unwrap().names(), ["submit", "read"]);
        assert!(Scopes::parse_list(["write"]).unwrap_err().contains("\"write\""));
        assert!(Scopes::parse_list([]).is_err());
    }
}

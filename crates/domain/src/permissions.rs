//! The permission matrix: tools × access levels → view / update / manage.
//!
//! Pure rules only. The defaults are the contract's; an organization's stored rows override
//! them; `executive` always holds every right, whatever is stored. This module never reads
//! the database: the store hands it the stored rows.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{AccessLevel, Error, FieldError};

/// A tool whose rights the matrix grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    People,
    Integrations,
}

impl Tool {
    pub const ALL: &'static [Self] = &[Self::People, Self::Integrations];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::People => "people",
            Self::Integrations => "integrations",
        }
    }
}

impl FromStr for Tool {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, FieldError> {
        match s {
            "people" => Ok(Self::People),
            "integrations" => Ok(Self::Integrations),
            _ => Err(FieldError::new(
                "tool",
                "must be one of: people, integrations",
            )),
        }
    }
}

/// What a right allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    View,
    Update,
    Manage,
}

impl Action {
    pub const ALL: &'static [Self] = &[Self::View, Self::Update, Self::Manage];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Update => "update",
            Self::Manage => "manage",
        }
    }
}

/// `ACTION:TOOL`, e.g. `view:people`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    pub action: Action,
    pub tool: Tool,
}

impl Permission {
    pub const VIEW_PEOPLE: Self = Self {
        action: Action::View,
        tool: Tool::People,
    };
    pub const UPDATE_PEOPLE: Self = Self {
        action: Action::Update,
        tool: Tool::People,
    };
    pub const MANAGE_PEOPLE: Self = Self {
        action: Action::Manage,
        tool: Tool::People,
    };
    pub const VIEW_INTEGRATIONS: Self = Self {
        action: Action::View,
        tool: Tool::Integrations,
    };
    pub const UPDATE_INTEGRATIONS: Self = Self {
        action: Action::Update,
        tool: Tool::Integrations,
    };
    pub const MANAGE_INTEGRATIONS: Self = Self {
        action: Action::Manage,
        tool: Tool::Integrations,
    };
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.action.as_str(), self.tool.as_str())
    }
}

/// The three rights of one (tool, level) cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rights {
    pub can_view: bool,
    pub can_update: bool,
    pub can_manage: bool,
}

impl Rights {
    pub const ALL: Self = Self {
        can_view: true,
        can_update: true,
        can_manage: true,
    };

    pub const fn allows(self, action: Action) -> bool {
        match action {
            Action::View => self.can_view,
            Action::Update => self.can_update,
            Action::Manage => self.can_manage,
        }
    }
}

/// One row of the matrix, as stored and as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub tool: Tool,
    pub level: AccessLevel,
    pub rights: Rights,
}

/// The contract's default rights.
pub const fn default_rights(tool: Tool, level: AccessLevel) -> Rights {
    use AccessLevel::{Executive, Head, Lead, Manager};
    let (view, update, manage) = match tool {
        // people — view for every level, update for executive and head, manage for executive.
        Tool::People => (
            true,
            matches!(level, Executive | Head),
            matches!(level, Executive),
        ),
        // integrations — view for every level, update for executive..lead, manage for executive.
        Tool::Integrations => (
            true,
            matches!(level, Executive | Head | Manager | Lead),
            matches!(level, Executive),
        ),
    };
    Rights {
        can_view: view,
        can_update: update,
        can_manage: manage,
    }
}

/// The effective matrix of one organization: defaults overlaid with its stored rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    cells: BTreeMap<(Tool, u8), Rights>,
}

impl Matrix {
    /// Builds the effective matrix. Stored rows for `executive` are ignored: executive
    /// always has every right.
    pub fn with_overrides(stored: impl IntoIterator<Item = Grant>) -> Self {
        let mut cells = BTreeMap::new();
        for &tool in Tool::ALL {
            for &level in AccessLevel::ALL {
                cells.insert((tool, level.rank()), default_rights(tool, level));
            }
        }
        for g in stored {
            if g.level != AccessLevel::Executive {
                cells.insert((g.tool, g.level.rank()), g.rights);
            }
        }
        Self { cells }
    }

    pub fn rights(&self, tool: Tool, level: AccessLevel) -> Rights {
        if level == AccessLevel::Executive {
            return Rights::ALL;
        }
        self.cells
            .get(&(tool, level.rank()))
            .copied()
            .unwrap_or_default()
    }

    pub fn allows(&self, level: AccessLevel, permission: Permission) -> bool {
        self.rights(permission.tool, level)
            .allows(permission.action)
    }

    /// Every permission the level holds, in a stable order (`/api/me`).
    pub fn permissions_of(&self, level: AccessLevel) -> Vec<Permission> {
        let mut out = Vec::new();
        for &tool in Tool::ALL {
            for &action in Action::ALL {
                let p = Permission { action, tool };
                if self.allows(level, p) {
                    out.push(p);
                }
            }
        }
        out
    }

    /// The full matrix as rows, tools then levels highest first.
    pub fn grants(&self) -> Vec<Grant> {
        Tool::ALL
            .iter()
            .flat_map(|&tool| {
                AccessLevel::ALL.iter().map(move |&level| Grant {
                    tool,
                    level,
                    rights: self.rights(tool, level),
                })
            })
            .collect()
    }
}

/// Checks rows submitted to `PUT /api/admin/permissions`: a row that would take a right
/// from `executive` is refused (422), and the same (tool, level) twice is ambiguous.
pub fn validate_update(rows: &[Grant]) -> Result<(), Error> {
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        if row.level == AccessLevel::Executive && row.rights != Rights::ALL {
            errors.push(FieldError::new(
                format!("permissions[{i}]"),
                "executive always keeps every right",
            ));
        }
        if !seen.insert((row.tool, row.level.rank())) {
            errors.push(FieldError::new(
                format!("permissions[{i}]"),
                format!("duplicate row for {} / {}", row.tool.as_str(), row.level),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccessLevel::{Employee, Executive, Head, Lead, Manager};

    #[test]
    fn tools_print_and_parse_back() {
        for tool in Tool::ALL {
            assert_eq!(tool.as_str().parse::<Tool>().unwrap(), *tool);
        }
        assert_eq!(
            "payroll".parse::<Tool>().unwrap_err().field,
            "tool",
            "an unknown tool names the field"
        );
    }

    #[test]
    fn default_matrix_is_the_contracts() {
        let m = Matrix::with_overrides([]);
        // (level, view:people, update:people, manage:people, update:integrations, manage:integrations)
        for (level, vp, up, mp, ui, mi) in [
            (Executive, true, true, true, true, true),
            (Head, true, true, false, true, false),
            (Manager, true, false, false, true, false),
            (Lead, true, false, false, true, false),
            (Employee, true, false, false, false, false),
        ] {
            assert_eq!(
                m.allows(level, Permission::VIEW_PEOPLE),
                vp,
                "{level} view:people"
            );
            assert_eq!(
                m.allows(level, Permission::UPDATE_PEOPLE),
                up,
                "{level} update:people"
            );
            assert_eq!(
                m.allows(level, Permission::MANAGE_PEOPLE),
                mp,
                "{level} manage:people"
            );
            assert!(
                m.allows(level, Permission::VIEW_INTEGRATIONS),
                "{level} view:integrations"
            );
            assert_eq!(
                m.allows(level, Permission::UPDATE_INTEGRATIONS),
                ui,
                "{level} update:integrations"
            );
            assert_eq!(
                m.allows(level, Permission::MANAGE_INTEGRATIONS),
                mi,
                "{level} manage:integrations"
            );
        }
    }

    #[test]
    fn stored_rows_override_defaults_but_never_executive() {
        let none = Rights::default();
        let m = Matrix::with_overrides([
            Grant {
                tool: Tool::People,
                level: Manager,
                rights: Rights::ALL,
            },
            Grant {
                tool: Tool::People,
                level: Employee,
                rights: none,
            },
            Grant {
                tool: Tool::People,
                level: Executive,
                rights: none,
            },
        ]);
        assert!(m.allows(Manager, Permission::MANAGE_PEOPLE));
        assert!(!m.allows(Employee, Permission::VIEW_PEOPLE));
        assert!(
            m.allows(Executive, Permission::MANAGE_PEOPLE),
            "executive keeps every right"
        );
    }

    #[test]
    fn update_rows_that_weaken_executive_or_repeat_are_refused() {
        let row = |level, rights| Grant {
            tool: Tool::People,
            level,
            rights,
        };
        assert!(
            validate_update(&[row(Executive, Rights::ALL), row(Head, Rights::default())]).is_ok()
        );
        let Err(Error::Invalid(errs)) = validate_update(&[row(
            Executive,
            Rights {
                can_manage: false,
                ..Rights::ALL
            },
        )]) else {
            panic!("expected invalid");
        };
        assert_eq!(errs[0].field, "permissions[0]");
        assert!(validate_update(&[row(Head, Rights::ALL), row(Head, Rights::ALL)]).is_err());
    }

    fn any_grant() -> impl proptest::strategy::Strategy<Value = Grant> {
        use proptest::prelude::*;
        (
            0..Tool::ALL.len(),
            0..AccessLevel::ALL.len(),
            any::<(bool, bool, bool)>(),
        )
            .prop_map(|(t, l, (v, u, m))| Grant {
                tool: Tool::ALL[t],
                level: AccessLevel::ALL[l],
                rights: Rights {
                    can_view: v,
                    can_update: u,
                    can_manage: m,
                },
            })
    }

    proptest::proptest! {
        #[test]
        fn executive_keeps_every_right_whatever_is_stored(stored in proptest::collection::vec(any_grant(), 0..20)) {
            let m = Matrix::with_overrides(stored.clone());
            proptest::prop_assert_eq!(m.permissions_of(Executive).len(), 6);
            // The listed permissions are exactly the allowed ones, for every level.
            for &level in AccessLevel::ALL {
                let listed = m.permissions_of(level);
                for &tool in Tool::ALL {
                    for &action in Action::ALL {
                        let p = Permission { action, tool };
                        proptest::prop_assert_eq!(listed.contains(&p), m.allows(level, p));
                    }
                }
            }
            // The last stored row for a non-executive cell wins.
            if let Some(last) = stored.iter().rev().find(|g| g.level != Executive) {
                let winner = stored.iter().rev().find(|g| g.tool == last.tool && g.level == last.level).unwrap();
                proptest::prop_assert_eq!(m.rights(last.tool, last.level), winner.rights);
            }
        }
    }

    #[test]
    fn permission_strings_read_action_colon_tool() {
        let m = Matrix::with_overrides([]);
        let names: Vec<String> = m
            .permissions_of(Employee)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["view:people", "view:integrations"]);
        assert_eq!(m.permissions_of(Executive).len(), 6);
        assert_eq!(m.grants().len(), 10);
    }
}

//! Access control (domain.md §1, R-ORG-1): permissions, the built-in roles
//! the seed's positions (岗位) ship as, and data scopes — which management
//! offices (管理处) a caller's permission reaches.
//!
//! A caller holds grants (a role's permissions with an assignment's scope).
//! For one permission, the grants that include it combine into a
//! [`DataScope`]; persistence filters every query by it, so a record outside
//! the scope is simply not found.

use std::collections::BTreeSet;

use crate::text_enum;

text_enum! {
    /// What a role, or an integration key, allows: an area and read or write.
    pub enum Permission {
        /// Read the company, offices, estates, buildings, units and houses.
        OrgRead => "org.read",
        /// Create, change and archive them.
        OrgWrite => "org.write",
        /// Read staff accounts, roles, role assignments and integration keys.
        AccessRead => "access.read",
        /// Manage staff accounts, roles, assignments and integration keys.
        AccessWrite => "access.write",
        /// Read residents' house-binding requests (住户绑定申请).
        ResidentsRead => "residents.read",
        /// Approve or reject binding requests.
        ResidentsWrite => "residents.write",
        /// See personal data (phones, ID numbers) unmasked; every reveal is
        /// audited (R-CRM-2).
        PersonalDataReveal => "personal_data.reveal",
        /// Read the audit log.
        AuditRead => "audit.read",
    }
}

impl Permission {
    /// A short description, in Chinese then English, for clients' role editors.
    pub fn description(self) -> &'static str {
        match self {
            Self::OrgRead => "查看公司、管理处、小区、楼栋、单元、房屋 / Read the estate tree",
            Self::OrgWrite => "维护公司、管理处、小区、楼栋、单元、房屋 / Change the estate tree",
            Self::AccessRead => "查看员工账号、角色、授权和集成密钥 / Read accounts, roles, keys",
            Self::AccessWrite => {
                "管理员工账号、角色、授权和集成密钥 / Manage accounts, roles, keys"
            }
            Self::ResidentsRead => "查看住户绑定申请 / Read binding requests",
            Self::ResidentsWrite => "审核住户绑定申请 / Review binding requests",
            Self::PersonalDataReveal => {
                "查看未脱敏的个人信息（留审计记录）/ See personal data unmasked (audited)"
            }
            Self::AuditRead => "查看审计日志 / Read the audit log",
        }
    }
}

text_enum! {
    /// How far a role assignment reaches (数据范围).
    pub enum ScopeKind {
        /// The whole company (全公司).
        Company => "company",
        /// The listed management offices (指定管理处).
        Offices => "offices",
        /// Only records the person owns (本人).
        Own => "own",
    }
}

/// The reach of one role assignment or integration key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentScope {
    /// Everything.
    Company,
    /// Records of these offices (never empty).
    Offices(BTreeSet<i64>),
    /// Records owned by the holder.
    Own,
}

/// Most offices one scope may list (the contract's `maxItems`).
pub const SCOPE_MAX_OFFICES: usize = 200;

/// Why an assignment scope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// `offices` with no office listed, or an office id below 1.
    #[error("an office scope lists one or more office ids")]
    NoOffices,
    /// Office ids given with a scope that takes none.
    #[error("only an office scope lists offices")]
    UnexpectedOffices,
    /// More than [`SCOPE_MAX_OFFICES`] offices.
    #[error("a scope lists at most {SCOPE_MAX_OFFICES} offices")]
    TooManyOffices,
}

impl ScopeError {
    /// The stable machine code, as the API reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoOffices => "scope_needs_offices",
            Self::UnexpectedOffices => "scope_takes_no_offices",
            Self::TooManyOffices => "scope_too_many_offices",
        }
    }
}

impl AssignmentScope {
    /// Builds a scope from its kind and office list.
    pub fn new(kind: ScopeKind, offices: &[i64]) -> Result<Self, ScopeError> {
        if offices.len() > SCOPE_MAX_OFFICES {
            return Err(ScopeError::TooManyOffices);
        }
        match kind {
            ScopeKind::Offices if offices.is_empty() || offices.iter().any(|id| *id < 1) => {
                Err(ScopeError::NoOffices)
            }
            ScopeKind::Offices => Ok(Self::Offices(offices.iter().copied().collect())),
            _ if !offices.is_empty() => Err(ScopeError::UnexpectedOffices),
            ScopeKind::Company => Ok(Self::Company),
            ScopeKind::Own => Ok(Self::Own),
        }
    }

    /// The kind.
    pub fn kind(&self) -> ScopeKind {
        match self {
            Self::Company => ScopeKind::Company,
            Self::Offices(_) => ScopeKind::Offices,
            Self::Own => ScopeKind::Own,
        }
    }

    /// The listed offices (empty unless an office scope).
    pub fn offices(&self) -> Vec<i64> {
        match self {
            Self::Offices(ids) => ids.iter().copied().collect(),
            _ => Vec::new(),
        }
    }
}

/// One permission set with the scope it applies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// What it allows.
    pub permissions: BTreeSet<Permission>,
    /// Where.
    pub scope: AssignmentScope,
}

/// Everything a caller may do: the union of their grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    grants: Vec<Grant>,
    owner: Option<i64>,
}

impl Grants {
    /// The grants of a caller; `owner` is the staff id "own records" refers
    /// to (none for integration keys and residents).
    pub fn new(grants: Vec<Grant>, owner: Option<i64>) -> Self {
        Self { grants, owner }
    }

    /// Whether any grant includes `permission`.
    pub fn allows(&self, permission: Permission) -> bool {
        self.grants
            .iter()
            .any(|g| g.permissions.contains(&permission))
    }

    /// Every permission held, in any scope.
    pub fn permissions(&self) -> BTreeSet<Permission> {
        self.grants
            .iter()
            .flat_map(|g| g.permissions.iter().copied())
            .collect()
    }

    /// Where `permission` reaches, or `None` when no grant includes it.
    pub fn scope_for(&self, permission: Permission) -> Option<DataScope> {
        let mut scope = DataScope::nothing();
        let mut granted = false;
        for grant in self
            .grants
            .iter()
            .filter(|g| g.permissions.contains(&permission))
        {
            granted = true;
            match &grant.scope {
                AssignmentScope::Company => scope.company = true,
                AssignmentScope::Offices(ids) => scope.offices.extend(ids),
                AssignmentScope::Own => scope.owner = self.owner,
            }
        }
        granted.then_some(scope)
    }
}

/// The records one permission reaches: what every scoped query filters by.
///
/// Only [`Grants::scope_for`] and [`DataScope::system`] make one, so a
/// repository function that takes a `&DataScope` cannot be called with a
/// scope nobody resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataScope {
    company: bool,
    offices: BTreeSet<i64>,
    owner: Option<i64>,
}

impl DataScope {
    fn nothing() -> Self {
        Self {
            company: false,
            offices: BTreeSet::new(),
            owner: None,
        }
    }

    /// Everything: for the server's own work (the `wuye admin` command,
    /// background jobs), never for a request.
    pub fn system() -> Self {
        Self {
            company: true,
            ..Self::nothing()
        }
    }

    /// Whether the scope reaches the whole company (and company-level
    /// records, which belong to no office).
    pub fn is_company(&self) -> bool {
        self.company
    }

    /// The offices reached, when not company-wide.
    pub fn offices(&self) -> Vec<i64> {
        self.offices.iter().copied().collect()
    }

    /// The staff id whose own records are reached, if any.
    pub fn owner(&self) -> Option<i64> {
        self.owner
    }

    /// Whether this scope reaches at least as far as `wanted` would for a
    /// holder whose home office is `holder_office`: what a grantor must hold
    /// to hand `wanted` on (nobody grants more than they have). `own` means
    /// the holder's own records, covered when this scope reaches the
    /// holder's office.
    pub fn covers(&self, wanted: &AssignmentScope, holder_office: Option<i64>) -> bool {
        if self.company {
            return true;
        }
        match wanted {
            AssignmentScope::Company => false,
            AssignmentScope::Offices(ids) => ids.is_subset(&self.offices),
            AssignmentScope::Own => self.reaches(holder_office, None),
        }
    }

    /// Whether a record of `office` (company-level when `None`), owned by
    /// `owner`, is in scope. Queries filter the same way in SQL.
    pub fn reaches(&self, office: Option<i64>, owner: Option<i64>) -> bool {
        self.company
            || office.is_some_and(|id| self.offices.contains(&id))
            || (self.owner.is_some() && owner == self.owner)
    }
}

/// A role the company ships with: one per position the seed names.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinRole {
    /// Stable code, e.g. `project_manager`.
    pub code: &'static str,
    /// Name (Chinese, as in the regulations).
    pub name: &'static str,
    /// Its default permissions.
    pub permissions: &'static [Permission],
}

use Permission::{
    AccessRead, AccessWrite, AuditRead, OrgRead, OrgWrite, PersonalDataReveal, ResidentsRead,
    ResidentsWrite,
};

const ALL: &[Permission] = Permission::ALL;
const MANAGER: &[Permission] = &[
    OrgRead,
    OrgWrite,
    AccessRead,
    ResidentsRead,
    ResidentsWrite,
    PersonalDataReveal,
    AuditRead,
];
const FRONT_DESK: &[Permission] = &[OrgRead, ResidentsRead, ResidentsWrite];
const READER: &[Permission] = &[OrgRead];

/// The built-in roles (domain.md §1). They cannot be edited; a company that
/// wants other defaults defines a custom role.
pub const BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole {
        code: "company_admin",
        name: "系统管理员",
        permissions: ALL,
    },
    BuiltinRole {
        code: "auditor",
        name: "审计员",
        permissions: &[OrgRead, AuditRead],
    },
    BuiltinRole {
        code: "general_manager",
        name: "总经理",
        permissions: ALL,
    },
    BuiltinRole {
        code: "deputy_general_manager",
        name: "副总经理",
        permissions: MANAGER,
    },
    BuiltinRole {
        code: "general_manager_assistant",
        name: "总经理助理",
        permissions: &[OrgRead, AccessRead, ResidentsRead, AuditRead],
    },
    BuiltinRole {
        code: "hr_admin_manager",
        name: "人事行政部经理",
        permissions: &[
            OrgRead,
            AccessRead,
            AccessWrite,
            ResidentsRead,
            PersonalDataReveal,
            AuditRead,
        ],
    },
    BuiltinRole {
        code: "hr_admin_specialist",
        name: "人事行政部专员",
        permissions: &[OrgRead, AccessRead],
    },
    BuiltinRole {
        code: "hr_customer_supervisor",
        name: "人事行政部客户主管",
        permissions: &[OrgRead, ResidentsRead, ResidentsWrite, PersonalDataReveal],
    },
    BuiltinRole {
        code: "customer_researcher",
        name: "客户调研员",
        permissions: READER,
    },
    BuiltinRole {
        code: "project_manager",
        name: "项目经理",
        permissions: MANAGER,
    },
    BuiltinRole {
        code: "office_customer_supervisor",
        name: "管理处客户主管",
        permissions: &[
            OrgRead,
            OrgWrite,
            ResidentsRead,
            ResidentsWrite,
            PersonalDataReveal,
        ],
    },
    BuiltinRole {
        code: "property_officer",
        name: "物管员",
        permissions: FRONT_DESK,
    },
    BuiltinRole {
        code: "vip_customer_assistant",
        name: "VIP客户助理",
        permissions: FRONT_DESK,
    },
    BuiltinRole {
        code: "customer_service_specialist",
        name: "客服专员",
        permissions: FRONT_DESK,
    },
    BuiltinRole {
        code: "maintenance_worker",
        name: "维修人员",
        permissions: READER,
    },
    BuiltinRole {
        code: "security_guard",
        name: "保安",
        permissions: READER,
    },
    BuiltinRole {
        code: "general_affairs_manager",
        name: "综合部经理",
        permissions: &[OrgRead, AccessRead],
    },
    BuiltinRole {
        code: "department_supervisor",
        name: "各专业部门主管",
        permissions: &[OrgRead, ResidentsRead],
    },
];

/// The built-in role every `wuye admin create` account holds, company-wide.
pub const ADMIN_ROLE: &str = "company_admin";

/// Shortest password accepted, in characters.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Longest password accepted, in characters (hashing cost grows with it).
pub const PASSWORD_MAX_CHARS: usize = 128;
/// Longest username, in characters.
pub const USERNAME_MAX_CHARS: usize = 32;

/// Why a credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Usernames are 3–32 of `a-z 0-9 . _ -`, starting with a letter or digit.
    #[error("username must be 3–32 characters of a-z, 0-9, '.', '_' or '-'")]
    InvalidUsername,
    /// Too short or too long.
    #[error("password must be {PASSWORD_MIN_CHARS}–{PASSWORD_MAX_CHARS} characters")]
    PasswordLength,
    /// Only one kind of character (all digits, all letters, …).
    #[error("password must mix letters with digits or symbols")]
    PasswordTooSimple,
}

impl CredentialError {
    /// The stable machine code, as the API reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidUsername => "invalid_username",
            Self::PasswordLength => "password_length",
            Self::PasswordTooSimple => "password_too_simple",
        }
    }
}

/// A staff login name: lower-case, so `Zhang.Wei` and `zhang.wei` are one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a username as typed; upper-case letters are folded.
    pub fn parse(input: &str) -> Result<Self, CredentialError> {
        let name = input.trim().to_ascii_lowercase();
        let len = name.chars().count();
        let valid = (3..=USERNAME_MAX_CHARS).contains(&len)
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if valid {
            Ok(Self(name))
        } else {
            Err(CredentialError::InvalidUsername)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a new password: length, and not a single kind of character.
pub fn check_new_password(password: &str) -> Result<(), CredentialError> {
    let len = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&len) {
        return Err(CredentialError::PasswordLength);
    }
    let letters = password.chars().any(char::is_alphabetic);
    let others = password.chars().any(|c| !c.is_alphabetic());
    if letters && others {
        Ok(())
    } else {
        Err(CredentialError::PasswordTooSimple)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(permissions: &[Permission], scope: AssignmentScope) -> Grant {
        Grant {
            permissions: permissions.iter().copied().collect(),
            scope,
        }
    }

    #[test]
    fn scopes_of_grants_with_the_permission_combine() {
        let grants = Grants::new(
            vec![
                grant(&[OrgRead], AssignmentScope::Offices([1, 2].into())),
                grant(&[OrgRead, OrgWrite], AssignmentScope::Offices([3].into())),
                grant(&[AuditRead], AssignmentScope::Company),
            ],
            Some(7),
        );
        let read = grants.scope_for(OrgRead).unwrap();
        assert!(!read.is_company());
        assert_eq!(read.offices(), vec![1, 2, 3]);
        assert_eq!(grants.scope_for(OrgWrite).unwrap().offices(), vec![3]);
        assert!(grants.scope_for(AuditRead).unwrap().is_company());
        assert_eq!(grants.scope_for(AccessRead), None);
        assert!(read.reaches(Some(2), None) && !read.reaches(Some(4), None));
        assert!(
            !read.reaches(None, None),
            "company-level records need company scope"
        );
    }

    #[test]
    fn own_scope_reaches_only_the_owners_records() {
        let grants = Grants::new(vec![grant(&[OrgRead], AssignmentScope::Own)], Some(7));
        let scope = grants.scope_for(OrgRead).unwrap();
        assert!(scope.reaches(Some(1), Some(7)));
        assert!(!scope.reaches(Some(1), Some(8)));
        assert!(!scope.reaches(Some(1), None));
        let keyless = Grants::new(vec![grant(&[OrgRead], AssignmentScope::Own)], None);
        assert!(!keyless.scope_for(OrgRead).unwrap().reaches(Some(1), None));
    }

    #[test]
    fn a_scope_covers_only_what_it_reaches() {
        let offices = Grants::new(
            vec![grant(
                &[AccessWrite],
                AssignmentScope::Offices([1, 2].into()),
            )],
            None,
        )
        .scope_for(AccessWrite)
        .unwrap();
        assert!(offices.covers(&AssignmentScope::Offices([2].into()), None));
        assert!(!offices.covers(&AssignmentScope::Offices([2, 3].into()), None));
        assert!(!offices.covers(&AssignmentScope::Company, None));
        assert!(offices.covers(&AssignmentScope::Own, Some(1)));
        assert!(!offices.covers(&AssignmentScope::Own, Some(3)));
        assert!(!offices.covers(&AssignmentScope::Own, None));
        assert!(DataScope::system().covers(&AssignmentScope::Company, None));
    }

    #[test]
    fn assignment_scopes_are_checked() {
        assert_eq!(
            AssignmentScope::new(ScopeKind::Offices, &[]),
            Err(ScopeError::NoOffices)
        );
        assert_eq!(
            AssignmentScope::new(ScopeKind::Offices, &[0]),
            Err(ScopeError::NoOffices)
        );
        assert_eq!(
            AssignmentScope::new(ScopeKind::Company, &[1]),
            Err(ScopeError::UnexpectedOffices)
        );
        assert_eq!(
            AssignmentScope::new(ScopeKind::Offices, &[3, 1, 3])
                .unwrap()
                .offices(),
            vec![1, 3]
        );
    }

    #[test]
    fn builtin_roles_are_unique_and_admins_hold_everything() {
        let codes: BTreeSet<_> = BUILTIN_ROLES.iter().map(|r| r.code).collect();
        assert_eq!(codes.len(), BUILTIN_ROLES.len());
        let admin = BUILTIN_ROLES.iter().find(|r| r.code == ADMIN_ROLE).unwrap();
        assert_eq!(admin.permissions, Permission::ALL);
    }

    #[test]
    fn credentials() {
        assert_eq!(
            Username::parse(" Zhang.Wei ").unwrap().as_str(),
            "zhang.wei"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("-abc").is_err());
        assert!(Username::parse("张伟").is_err());
        assert_eq!(
            check_new_password("short1"),
            Err(CredentialError::PasswordLength)
        );
        assert_eq!(
            check_new_password("onlyletters"),
            Err(CredentialError::PasswordTooSimple)
        );
        assert_eq!(
            check_new_password("1234567890"),
            Err(CredentialError::PasswordTooSimple)
        );
        assert!(check_new_password("correct horse 9").is_ok());
    }
}

//! Residents (住户) of the WeChat mini-program and their bindings to houses
//! (domain.md §2): a resident asks to be bound to a house with a relation
//! (住户绑定申请), staff of the house's management office review the
//! request, and an approved request becomes a binding — which houses the
//! resident may act for.
//!
//! The review is a small state machine: `pending → approved | rejected`,
//! nothing else ([`BindingStatus::review`]). A request is filed pending
//! unless an automatic rule decides otherwise ([`initial_outcome`]).
//!
//! # Extension point: automatic binding
//!
//! Some requests need no person to look at them — for instance when the
//! phone WeChat vouched for equals a phone in the house's customer file
//! (客户资料, R-CRM-1). Such a rule is *one more entry* in
//! [`AUTO_APPROVAL_RULES`], deciding from [`Evidence`]:
//!
//! 1. add what the rule needs to [`Evidence`] (say
//!    `customer_phones: Vec<(MobilePhone, Relation)>`, the house's customer
//!    files) and have the API fill it where the request is filed;
//! 2. add an [`AutoRule`] with a stable name (`customer_file_phone`) and
//!    the predicate;
//! 3. nothing else: the filing code already applies a rule's approval in
//!    the same transaction, through the same storage `approve` a staff
//!    member's review goes through, recording the rule's name as reviewer
//!    instead of a staff id.
//!
//! Today no rule exists, so every request waits for staff.

use crate::personal::MobilePhone;
use crate::text_enum;

/// Longest name a resident gives on a request, in characters.
pub const NAME_MAX_CHARS: usize = 50;
/// Longest review note, in characters.
pub const NOTE_MAX_CHARS: usize = 500;

text_enum! {
    /// How a resident is related to a house (与房屋的关系).
    pub enum Relation {
        /// 业主 — the owner.
        Owner => "owner",
        /// 租户 — a tenant.
        Tenant => "tenant",
        /// 家庭成员 — a member of the owner's or tenant's household.
        Family => "family",
        /// 其他 — anyone else living there or acting for the household.
        Other => "other",
    }
}

text_enum! {
    /// Where a binding request stands (申请状态).
    pub enum BindingStatus {
        /// 待审核 — filed, waiting for a review.
        Pending => "pending",
        /// 已通过 — approved; the resident is bound to the house.
        Approved => "approved",
        /// 已驳回 — rejected; the resident may file a new request.
        Rejected => "rejected",
    }
}

/// What a review decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Bind the resident to the house.
    Approve,
    /// Refuse the request.
    Reject,
}

/// Why a request cannot be filed or reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// The resident is already bound to the house.
    #[error("the resident is already bound to this house")]
    AlreadyBound,
    /// The resident already has a pending request for the house: one at a
    /// time, so staff never review the same question twice.
    #[error("a request for this house is already pending")]
    AlreadyPending,
    /// Only pending requests are reviewed; a decision is final.
    #[error("the request is already {status}; only pending requests can be reviewed")]
    NotPending {
        /// The request's current status.
        status: BindingStatus,
    },
    /// The house was archived after the request was filed: nothing can be
    /// bound to it any more (rejecting still works).
    #[error("the house is archived")]
    HouseArchived,
}

impl BindingError {
    /// The stable machine code, as the API reports it.
    pub fn code(self) -> &'static str {
        match self {
            Self::AlreadyBound => "already_bound",
            Self::AlreadyPending => "already_pending",
            Self::NotPending { .. } => "not_pending",
            Self::HouseArchived => "house_archived",
        }
    }
}

impl BindingStatus {
    /// The status `decision` takes a request in this status to: only a
    /// pending request can be reviewed, and only once.
    pub fn review(self, decision: Decision) -> Result<Self, BindingError> {
        match (self, decision) {
            (Self::Pending, Decision::Approve) => Ok(Self::Approved),
            (Self::Pending, Decision::Reject) => Ok(Self::Rejected),
            (status, _) => Err(BindingError::NotPending { status }),
        }
    }
}

/// What is known about a request when it is filed, for the automatic
/// rules to decide on (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The relation the resident claims.
    pub relation: Relation,
    /// The phone number WeChat vouched for (never one the client typed).
    pub phone: MobilePhone,
}

/// An automatic review rule: when `applies` holds for a new request's
/// evidence, the request is approved at once, with `name` recorded as its
/// reviewer.
#[derive(Debug, Clone, Copy)]
pub struct AutoRule {
    /// Stable name, stored with the request and shown to staff
    /// (`customer_file_phone`).
    pub name: &'static str,
    /// Whether the rule approves a request with this evidence.
    pub applies: fn(&Evidence) -> bool,
}

/// The automatic approval rules, tried in order; the first that applies
/// decides. Empty today: every request waits for staff.
pub const AUTO_APPROVAL_RULES: &[AutoRule] = &[];

/// How a new request starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialOutcome {
    /// Waits for staff of the house's office.
    Pending,
    /// Approved at once by the named rule.
    AutoApproved {
        /// The rule's name.
        rule: &'static str,
    },
}

/// How a request with `evidence` starts, by [`AUTO_APPROVAL_RULES`].
pub fn initial_outcome(evidence: &Evidence) -> InitialOutcome {
    outcome_by(AUTO_APPROVAL_RULES, evidence)
}

fn outcome_by(rules: &[AutoRule], evidence: &Evidence) -> InitialOutcome {
    rules
        .iter()
        .find(|rule| (rule.applies)(evidence))
        .map_or(InitialOutcome::Pending, |rule| {
            InitialOutcome::AutoApproved { rule: rule.name }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pending_requests_are_reviewed() {
        use BindingStatus::{Approved, Pending, Rejected};
        assert_eq!(Pending.review(Decision::Approve), Ok(Approved));
        assert_eq!(Pending.review(Decision::Reject), Ok(Rejected));
        for status in [Approved, Rejected] {
            for decision in [Decision::Approve, Decision::Reject] {
                assert_eq!(
                    status.review(decision),
                    Err(BindingError::NotPending { status })
                );
            }
        }
        assert_eq!(
            Approved.review(Decision::Approve).unwrap_err().code(),
            "not_pending"
        );
    }

    #[test]
    fn relations_and_statuses_travel_as_text() {
        assert_eq!(Relation::Owner.as_str(), "owner");
        assert_eq!("family".parse::<Relation>(), Ok(Relation::Family));
        assert!("landlord".parse::<Relation>().is_err());
        assert_eq!(Relation::ALL.len(), 4);
        assert_eq!("rejected".parse(), Ok(BindingStatus::Rejected));
    }

    fn evidence(relation: Relation) -> Evidence {
        Evidence {
            relation,
            phone: MobilePhone::parse("13812345678").unwrap(),
        }
    }

    #[test]
    fn todays_evidence_always_waits_for_staff() {
        for relation in Relation::ALL {
            assert_eq!(
                initial_outcome(&evidence(*relation)),
                InitialOutcome::Pending
            );
        }
    }

    #[test]
    fn the_first_rule_that_applies_decides() {
        let rules = [
            AutoRule {
                name: "never",
                applies: |_| false,
            },
            AutoRule {
                name: "tenants",
                applies: |e| e.relation == Relation::Tenant,
            },
            AutoRule {
                name: "everyone",
                applies: |_| true,
            },
        ];
        assert_eq!(
            outcome_by(&rules, &evidence(Relation::Tenant)),
            InitialOutcome::AutoApproved { rule: "tenants" }
        );
        assert_eq!(
            outcome_by(&rules, &evidence(Relation::Owner)),
            InitialOutcome::AutoApproved { rule: "everyone" }
        );
        assert_eq!(
            outcome_by(&rules[..1], &evidence(Relation::Owner)),
            InitialOutcome::Pending
        );
    }
}

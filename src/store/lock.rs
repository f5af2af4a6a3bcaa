//! Object Lock, judged on the run's clock: a version's retention (GOVERNANCE / COMPLIANCE until
//! an instant) and legal hold, the bucket's default retention, and the two rules every caller
//! shares — whether a version may be removed at `now`, and whether a retention may be replaced.
//! Deletes, DeleteObjects, PutObjectRetention and lifecycle all ask these, never their own copy.

use super::object::Object;
use crate::clock::{Millis, DAY_MS, MAX_INSTANT};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LockMode {
    /// Removable or shortenable by a request that bypasses governance retention.
    Governance,
    /// Only extendable, by anyone, until the retain-until instant has passed.
    Compliance,
}

impl LockMode {
    pub fn from_name(name: &str) -> Option<LockMode> {
        match name {
            "GOVERNANCE" => Some(LockMode::Governance),
            "COMPLIANCE" => Some(LockMode::Compliance),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LockMode::Governance => "GOVERNANCE",
            LockMode::Compliance => "COMPLIANCE",
        }
    }
}

/// A version's retention: protected in `mode` until `until` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Retention {
    pub mode: LockMode,
    pub until: Millis,
}

impl Retention {
    /// Whether the retention still protects the version at `now`.
    pub fn active(&self, now: Millis) -> bool {
        now < self.until
    }
}

/// A bucket's default retention rule (`DefaultRetention` with `Days` or `Years`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultRetention {
    pub mode: LockMode,
    pub days: u64,
}

impl DefaultRetention {
    /// A rule of `Years` counts 365 days a year.
    pub fn from_years(mode: LockMode, years: u64) -> DefaultRetention {
        DefaultRetention {
            mode,
            days: years.saturating_mul(365),
        }
    }

    /// The retention a version created at `created` gets: exactly the period later (S3 does not
    /// round it), capped at the clock's last instant.
    pub fn retention_from(&self, created: Millis) -> Retention {
        let until = Millis::try_from(self.days)
            .ok()
            .and_then(|d| d.checked_mul(DAY_MS))
            .and_then(|ms| created.checked_add(ms))
            .map_or(MAX_INSTANT, |t| t.min(MAX_INSTANT));
        Retention {
            mode: self.mode,
            until,
        }
    }
}

/// Why a lock refuses a change (the api layer renders it as S3's 403 AccessDenied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked;

impl From<Locked> for crate::error::S3Error {
    fn from(_: Locked) -> Self {
        crate::error::S3Error::with_message(
            crate::error::Code::AccessDenied,
            "Access Denied because object protected by object lock.",
        )
    }
}

/// Whether `x-amz-bypass-governance-retention: true` came with the request. Whether the caller
/// may bypass (the `s3:BypassGovernanceRetention` permission) is for authorization to decide
/// before this reaches the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bypass(pub bool);

impl Object {
    /// Whether the version may be removed for good at `now`: not under a legal hold, and not
    /// under an active retention (GOVERNANCE gives way to a bypass, COMPLIANCE never).
    pub fn check_removable(&self, now: Millis, bypass: Bypass) -> Result<(), Locked> {
        if self.legal_hold() == Some(true) {
            return Err(Locked);
        }
        match self.retention() {
            Some(r) if r.active(now) => match (r.mode, bypass) {
                (LockMode::Governance, Bypass(true)) => Ok(()),
                _ => Err(Locked),
            },
            _ => Ok(()),
        }
    }

    /// Whether the version is protected from removal at `now` for anyone (lifecycle never
    /// bypasses).
    pub fn is_locked(&self, now: Millis) -> bool {
        self.check_removable(now, Bypass(false)).is_err()
    }
}

/// Whether `new` may replace the version's retention `old` at `now`. An active COMPLIANCE
/// retention can only be extended (same mode, a later or equal date); an active GOVERNANCE
/// retention can be extended or turned into COMPLIANCE freely, and shortened or removed only
/// with a bypass. A retention that has passed no longer protects anything.
pub fn check_retention_change(
    old: Option<Retention>,
    new: Option<Retention>,
    now: Millis,
    bypass: Bypass,
) -> Result<(), Locked> {
    let Some(old) = old.filter(|o| o.active(now)) else {
        return Ok(());
    };
    let extends = new.is_some_and(|n| n.until >= old.until);
    match old.mode {
        LockMode::Compliance => {
            if extends && new.is_some_and(|n| n.mode == LockMode::Compliance) {
                Ok(())
            } else {
                Err(Locked)
            }
        }
        LockMode::Governance => {
            if extends || bypass.0 {
                Ok(())
            } else {
                Err(Locked)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Body;

    fn retained(mode: LockMode, until: Millis, hold: Option<bool>) -> Object {
        let mut o = Object::new("k", Body::default(), "", 0);
        o.extra_mut().retention = Some(Retention { mode, until });
        o.extra_mut().legal_hold = hold;
        o
    }

    #[test]
    fn removal_follows_the_clock_and_the_mode() {
        let g = retained(LockMode::Governance, 100, None);
        assert_eq!(g.check_removable(99, Bypass(false)), Err(Locked));
        assert_eq!(g.check_removable(99, Bypass(true)), Ok(()));
        assert_eq!(g.check_removable(100, Bypass(false)), Ok(()));
        let c = retained(LockMode::Compliance, 100, None);
        assert_eq!(c.check_removable(99, Bypass(true)), Err(Locked));
        assert_eq!(c.check_removable(100, Bypass(false)), Ok(()));
        // A legal hold blocks whatever the retention, even a passed one, even with a bypass.
        let h = retained(LockMode::Governance, 0, Some(true));
        assert_eq!(h.check_removable(1_000, Bypass(true)), Err(Locked));
        assert!(!retained(LockMode::Governance, 0, Some(false)).is_locked(1));
    }

    #[test]
    fn retention_changes() {
        let r = |mode, until| Some(Retention { mode, until });
        let (g, c) = (LockMode::Governance, LockMode::Compliance);
        let no = Bypass(false);
        assert_eq!(check_retention_change(r(g, 100), r(g, 200), 50, no), Ok(()));
        assert_eq!(check_retention_change(r(g, 100), r(c, 100), 50, no), Ok(()));
        assert_eq!(
            check_retention_change(r(g, 100), r(g, 60), 50, no),
            Err(Locked)
        );
        assert_eq!(check_retention_change(r(g, 100), None, 50, no), Err(Locked));
        assert_eq!(
            check_retention_change(r(g, 100), None, 50, Bypass(true)),
            Ok(())
        );
        assert_eq!(check_retention_change(r(c, 100), r(c, 100), 50, no), Ok(()));
        assert_eq!(
            check_retention_change(r(c, 100), r(g, 300), 50, Bypass(true)),
            Err(Locked)
        );
        assert_eq!(
            check_retention_change(r(c, 100), r(c, 99), 50, Bypass(true)),
            Err(Locked)
        );
        assert_eq!(check_retention_change(r(c, 100), None, 100, no), Ok(()));
    }

    #[test]
    fn default_retention_is_exact_and_bounded() {
        let d = DefaultRetention {
            mode: LockMode::Compliance,
            days: 30,
        };
        assert_eq!(d.retention_from(5).until, 5 + 30 * DAY_MS);
        let y = DefaultRetention::from_years(LockMode::Governance, u64::MAX);
        assert_eq!(y.retention_from(5).until, MAX_INSTANT);
    }
}

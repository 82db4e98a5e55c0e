//! Upgrade and downgrade targets (`head`, `+N`, `-N`, `base`, a version) and their resolution
//! against the known and applied versions. Pure: no database, so every rule is unit-tested.

use std::fmt;
use std::str::FromStr;

/// Where an upgrade or a downgrade should stop, as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `head`: the newest embedded migration (upgrade only).
    Head,
    /// `base`: nothing applied (downgrade only).
    Base,
    /// `+N`: the next N pending migrations (upgrade only).
    Forward(u32),
    /// `-N`: the newest N applied migrations (downgrade only).
    Back(u32),
    /// A version: upgrade up to and including it, or downgrade until it is the newest applied.
    Version(i64),
}

/// A target that does not parse, or does not fit the current state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not one of the accepted spellings.
    #[error("invalid target {input:?}: use head, base, +N, -N (N at least 1) or a migration version such as 20261130052700")]
    Parse {
        /// What was given.
        input: String,
    },
    /// `+N` with fewer than N pending migrations.
    #[error("cannot upgrade +{requested}: only {pending} migration(s) are pending. Use head, or +{pending} or less")]
    PastHead {
        /// N.
        requested: u32,
        /// How many are pending.
        pending: usize,
    },
    /// `-N` with fewer than N applied migrations.
    #[error("cannot downgrade -{requested}: only {applied} migration(s) are applied. Use base, or -{applied} or less")]
    BelowBase {
        /// N.
        requested: u32,
        /// How many are applied.
        applied: usize,
    },
    /// An upgrade to a version the binary does not contain.
    #[error("unknown migration version {version}: it is not among the migrations of this binary. Run bluefox history to list them")]
    UnknownVersion {
        /// The version.
        version: i64,
    },
    /// A downgrade to a version that is not applied.
    #[error("cannot downgrade to {version}: it is not applied in this database. Run bluefox history to see what is applied, or use base")]
    NotApplied {
        /// The version.
        version: i64,
    },
    /// A downgrade-only target given to upgrade, or the other way round.
    #[error("{target} is not a target for {verb}: {hint}")]
    WrongDirection {
        /// The target as given.
        target: Target,
        /// `upgrade` or `downgrade`.
        verb: &'static str,
        /// What to use instead.
        hint: &'static str,
    },
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(input: &str) -> Result<Target, TargetError> {
        let error = || TargetError::Parse {
            input: input.to_string(),
        };
        let text = input.trim();
        let count = |digits: &str| match digits.parse::<u32>() {
            Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(error()),
        };
        match text.to_ascii_lowercase().as_str() {
            "head" => return Ok(Target::Head),
            "base" => return Ok(Target::Base),
            _ => {}
        }
        if let Some(rest) = text.strip_prefix('+') {
            return count(rest).map(Target::Forward);
        }
        if let Some(rest) = text.strip_prefix('-') {
            return count(rest).map(Target::Back);
        }
        let digits = text
            .strip_prefix('V')
            .or_else(|| text.strip_prefix('v'))
            .unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        digits
            .parse::<i64>()
            .map(Target::Version)
            .map_err(|_| error())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Head => f.write_str("head"),
            Target::Base => f.write_str("base"),
            Target::Forward(n) => write!(f, "+{n}"),
            Target::Back(n) => write!(f, "-{n}"),
            Target::Version(v) => write!(f, "{v}"),
        }
    }
}

/// The versions an upgrade to `target` applies, ascending: the pending ones (embedded in
/// `known`, absent from `applied`) up to the target.
///
/// # Errors
/// `+N` past head, an unknown version, or a downgrade-only target.
pub fn resolve_upgrade(
    target: Target,
    known: &[i64],
    applied: &[i64],
) -> Result<Vec<i64>, TargetError> {
    let mut pending: Vec<i64> = known
        .iter()
        .copied()
        .filter(|v| !applied.contains(v))
        .collect();
    pending.sort_unstable();
    match target {
        Target::Head => Ok(pending),
        Target::Forward(n) => {
            let n = n as usize;
            if n > pending.len() {
                return Err(TargetError::PastHead {
                    requested: n as u32,
                    pending: pending.len(),
                });
            }
            pending.truncate(n);
            Ok(pending)
        }
        Target::Version(version) => {
            if !known.contains(&version) {
                return Err(TargetError::UnknownVersion { version });
            }
            pending.retain(|v| *v <= version);
            Ok(pending)
        }
        Target::Base | Target::Back(_) => Err(TargetError::WrongDirection {
            target,
            verb: "upgrade",
            hint: "use downgrade to go back",
        }),
    }
}

/// The versions a downgrade to `target` reverts, newest first.
///
/// # Errors
/// `-N` below base, a version that is not applied, or an upgrade-only target.
pub fn resolve_downgrade(target: Target, applied: &[i64]) -> Result<Vec<i64>, TargetError> {
    let mut newest_first: Vec<i64> = applied.to_vec();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    match target {
        Target::Base => Ok(newest_first),
        Target::Back(n) => {
            let n = n as usize;
            if n > newest_first.len() {
                return Err(TargetError::BelowBase {
                    requested: n as u32,
                    applied: newest_first.len(),
                });
            }
            newest_first.truncate(n);
            Ok(newest_first)
        }
        Target::Version(version) => {
            if !applied.contains(&version) {
                return Err(TargetError::NotApplied { version });
            }
            newest_first.retain(|v| *v > version);
            Ok(newest_first)
        }
        Target::Head | Target::Forward(_) => Err(TargetError::WrongDirection {
            target,
            verb: "downgrade",
            hint: "use upgrade to go forward",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Target, TargetError> {
        s.parse()
    }

    #[test]
    fn parses_every_spelling() {
        assert_eq!(parse("head"), Ok(Target::Head));
        assert_eq!(parse("HEAD"), Ok(Target::Head));
        assert_eq!(parse("base"), Ok(Target::Base));
        assert_eq!(parse("+2"), Ok(Target::Forward(2)));
        assert_eq!(parse("-1"), Ok(Target::Back(1)));
        assert_eq!(parse("20261130052700"), Ok(Target::Version(20261130052700)));
        assert_eq!(parse("V3"), Ok(Target::Version(3)));
        assert_eq!(Target::Back(3).to_string(), "-3");
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "+0",
            "-0",
            "+",
            "-x",
            "latest",
            "3a",
            "++1",
            "V",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse(bad),
                Err(TargetError::Parse { input: bad.into() }),
                "{bad}"
            );
        }
    }

    const KNOWN: &[i64] = &[1, 2, 3, 4];

    #[test]
    fn upgrade_resolution() {
        assert_eq!(
            resolve_upgrade(Target::Head, KNOWN, &[1]),
            Ok(vec![2, 3, 4])
        );
        assert_eq!(
            resolve_upgrade(Target::Forward(2), KNOWN, &[1]),
            Ok(vec![2, 3])
        );
        assert_eq!(
            resolve_upgrade(Target::Version(3), KNOWN, &[]),
            Ok(vec![1, 2, 3])
        );
        assert_eq!(
            resolve_upgrade(Target::Version(1), KNOWN, &[1, 2]),
            Ok(vec![])
        );
        assert_eq!(
            resolve_upgrade(Target::Head, KNOWN, &[1, 2, 3, 4, 9]),
            Ok(vec![])
        );
    }

    #[test]
    fn upgrade_errors() {
        assert_eq!(
            resolve_upgrade(Target::Forward(4), KNOWN, &[1]),
            Err(TargetError::PastHead {
                requested: 4,
                pending: 3
            })
        );
        assert_eq!(
            resolve_upgrade(Target::Version(7), KNOWN, &[]),
            Err(TargetError::UnknownVersion { version: 7 })
        );
        assert!(matches!(
            resolve_upgrade(Target::Base, KNOWN, &[]),
            Err(TargetError::WrongDirection {
                verb: "upgrade",
                ..
            })
        ));
    }

    #[test]
    fn downgrade_resolution() {
        assert_eq!(resolve_downgrade(Target::Back(1), &[1, 2, 3]), Ok(vec![3]));
        assert_eq!(
            resolve_downgrade(Target::Base, &[1, 2, 3]),
            Ok(vec![3, 2, 1])
        );
        assert_eq!(
            resolve_downgrade(Target::Version(1), &[1, 2, 3]),
            Ok(vec![3, 2])
        );
        assert_eq!(
            resolve_downgrade(Target::Version(3), &[1, 2, 3]),
            Ok(vec![])
        );
    }

    #[test]
    fn downgrade_errors() {
        assert_eq!(
            resolve_downgrade(Target::Back(4), &[1, 2, 3]),
            Err(TargetError::BelowBase {
                requested: 4,
                applied: 3
            })
        );
        assert_eq!(
            resolve_downgrade(Target::Version(5), &[1, 2, 3]),
            Err(TargetError::NotApplied { version: 5 })
        );
        assert!(matches!(
            resolve_downgrade(Target::Head, &[1]),
            Err(TargetError::WrongDirection {
                verb: "downgrade",
                ..
            })
        ));
    }
}

//! Password hashing: argon2id (OWASP's minimum parameters by default), with
//! the same work done for unknown usernames so timing does not reveal
//! which accounts exist.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// How expensive a hash is. The default is argon2id with 19 MiB, 2 passes
/// and 1 lane; hashes keep their own parameters, so raising them later
/// still verifies old hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
        }
    }
}

impl PasswordCost {
    /// The cheapest argon2id allows: for tests only, where thousands of
    /// accounts are created and nothing is at stake.
    pub fn insecure_fast() -> Self {
        Self {
            memory_kib: Params::MIN_M_COST,
            iterations: 1,
        }
    }
}

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
    dummy_hash: String,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords")
    }
}

/// Hashing failed (only with impossible parameters or no randomness).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl Passwords {
    /// A hasher with the given cost.
    pub fn new(cost: PasswordCost) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
            .map_err(|e| HashError(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash = argon2
            .hash_password(b"no account has this password")
            .map_err(|e| HashError(e.to_string()))?
            .to_string();
        Ok(Self { argon2, dummy_hash })
    }

    /// A PHC string (`$argon2id$v=19$…`) with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        Ok(self
            .argon2
            .hash_password(password.as_bytes())
            .map_err(|e| HashError(e.to_string()))?
            .to_string())
    }

    /// Whether `password` matches `hash`; with no hash (unknown user) the
    /// same work is done against a dummy and the answer is `false`.
    pub fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let (hash, real) = match hash {
            Some(hash) => (hash, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let matches = self
            .argon2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        matches && real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_unknown_users_never_do() {
        let passwords = Passwords::new(PasswordCost::insecure_fast()).unwrap();
        let hash = passwords.hash("correct horse 9").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify("correct horse 9", Some(&hash)));
        assert!(!passwords.verify("wrong horse 9", Some(&hash)));
        assert!(!passwords.verify("no account has this password", None));
        assert!(!passwords.verify("x", Some("not a phc string")));
    }
}

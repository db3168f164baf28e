//! Client secrets: generated with 256 bits of entropy, stored as argon2id PHC strings, verified
//! only at the token endpoint (standards-notes §6).

use std::cell::RefCell;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

thread_local! {
    /// argon2's working memory (7 MiB), kept by each hashing thread and reused. Allocated and
    /// freed per verification, glibc kept the freed blocks in per-thread arenas and peak RSS
    /// varied from 50 to 380 MiB between identical token benchmarks (issue 4).
    static WORKING_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Prefix of client secrets, so a leaked one is recognisable by secret scanners.
pub const CLIENT_SECRET_PREFIX: &str = "rcs_";

/// Hashes and verifies client secrets with argon2id.
#[derive(Clone)]
pub struct SecretHasher {
    argon2: Argon2<'static>,
    /// A hash of a random secret, verified against when the client is unknown so that unknown
    /// and known client ids cost the same time. Made on first use, not at start-up (cold start
    /// and idle memory).
    decoy: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretHasher").finish_non_exhaustive()
    }
}

/// Hashing failed (only on invalid parameters, which are constants here).
#[derive(Debug, thiserror::Error)]
#[error("secret hashing failed: {0}")]
pub struct HashError(String);

impl SecretHasher {
    /// argon2id with OWASP's m = 7 MiB, t = 5, p = 1: one of the cheat sheet's equal-strength
    /// configurations (with m = 19 MiB/t = 2, 12 MiB/t = 3, 9 MiB/t = 4), costing the same CPU
    /// time per verification as 19 MiB/t = 2 but holding a third of the memory, which keeps the
    /// server's resident memory low after token bursts (issue 4). Hashes made with other
    /// parameters (their PHC string names them) still verify.
    pub fn owasp() -> Result<Self, HashError> {
        Self::with_params(Params::new(7 * 1024, 5, 1, None).map_err(|e| HashError(e.to_string()))?)
    }

    /// Cheap parameters for tests only.
    pub fn for_tests() -> Result<Self, HashError> {
        Self::with_params(Params::new(256, 1, 1, None).map_err(|e| HashError(e.to_string()))?)
    }

    fn with_params(params: Params) -> Result<Self, HashError> {
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        Ok(Self { argon2, decoy: std::sync::Arc::default() })
    }

    /// The PHC string of `secret` with a fresh random salt.
    pub fn hash(&self, secret: &str) -> Result<String, HashError> {
        let mut salt_bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| HashError(e.to_string()))?;
        self.argon2.hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| HashError(e.to_string()))
    }

    /// Whether `secret` matches `phc`, with the algorithm, version and parameters `phc` names;
    /// the digests are compared in constant time.
    pub fn verify(&self, secret: &str, phc: &str) -> bool {
        let Ok(hash) = PasswordHash::new(phc) else { return false };
        let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else { return false };
        let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else {
            return false;
        };
        let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
        let mut digest = vec![0u8; expected.len()];
        let blocks_needed = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let computed = WORKING_MEMORY.with_borrow_mut(|blocks| {
            if blocks.len() < blocks_needed {
                blocks.resize(blocks_needed, Block::default());
            }
            argon2.hash_password_into_with_memory(secret.as_bytes(), salt, &mut digest, &mut blocks[..blocks_needed])
        });
        computed.is_ok() && bool::from(digest.as_slice().ct_eq(expected.as_bytes()))
    }

    /// Spends the same work as a real verification, for unknown clients.
    pub fn verify_decoy(&self, secret: &str) {
        let decoy = self.decoy.get_or_init(|| self.hash(&generate_client_secret()).unwrap_or_default());
        let _ = self.verify(secret, decoy);
    }
}

/// End users' passwords, hashed as client secrets are.
impl roost_domain::ports::PasswordHasher for SecretHasher {
    fn hash_password(&self, password: &str) -> Result<String, String> {
        self.hash(password).map_err(|e| e.to_string())
    }

    fn verify_password(&self, password: &str, hash: &str) -> bool {
        self.verify(password, hash)
    }

    fn verify_decoy(&self, password: &str) {
        SecretHasher::verify_decoy(self, password);
    }
}

/// A fresh client secret: the prefix and 32 random bytes in base64url.
pub fn generate_client_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{CLIENT_SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let hasher = SecretHasher::for_tests().unwrap();
        let secret = generate_client_secret();
        let a = hasher.hash(&secret).unwrap();
        let b = hasher.hash(&secret).unwrap();
        assert_ne!(a, b, "each hash has its own salt");
        assert!(a.starts_with("$argon2id$"));
        assert!(hasher.verify(&secret, &a));
        assert!(!hasher.verify("wrong", &a));
        assert!(!hasher.verify(&secret, "not a phc string"));
    }

    #[test]
    fn hashes_made_with_other_parameters_still_verify() {
        let older = SecretHasher::with_params(Params::new(512, 2, 1, None).unwrap()).unwrap();
        let secret = generate_client_secret();
        let phc = older.hash(&secret).unwrap();
        let current = SecretHasher::for_tests().unwrap();
        assert!(current.verify(&secret, &phc), "the PHC string's own parameters are used");
        assert!(!current.verify(&format!("{secret}x"), &phc));
        // And the other way round, on the same thread's (now larger) working memory.
        let small = current.hash(&secret).unwrap();
        assert!(older.verify(&secret, &small));
        let tampered = phc.replace("m=512", "m=256");
        assert!(!current.verify(&secret, &tampered));
    }

    #[test]
    fn secrets_are_prefixed_and_long() {
        let secret = generate_client_secret();
        assert!(secret.starts_with(CLIENT_SECRET_PREFIX));
        assert_eq!(secret.len(), CLIENT_SECRET_PREFIX.len() + 43);
        assert_ne!(secret, generate_client_secret());
    }

    #[test]
    fn owasp_parameters_are_the_default() {
        let hasher = SecretHasher::owasp().unwrap();
        let phc = hasher.hash("x").unwrap();
        assert!(phc.contains("m=7168,t=5,p=1"), "{phc}");
        // A hash made with the other OWASP configuration still verifies.
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT);
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let old = other.hash_password(b"s3cret", &salt).unwrap().to_string();
        assert!(hasher.verify("s3cret", &old));
    }
}

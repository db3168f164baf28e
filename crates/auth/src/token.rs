//! Access tokens: 256 random bits with a recognisable prefix, stored only as SHA-256, so a
//! bearer check is one hash and one indexed lookup (DESIGN.md, "Tokens and secrets").

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of access tokens.
pub const ACCESS_TOKEN_PREFIX: &str = "rat_";

/// Prefix of user session tokens: the bearer check tells the two kinds apart by it.
pub const SESSION_TOKEN_PREFIX: &str = "rus_";

/// Prefix of the single-use tokens mailed to users (activation).
pub const MAIL_TOKEN_PREFIX: &str = "rmt_";

/// Prefix of single-use stream tickets (`POST /v1/events/tickets`).
pub const TICKET_PREFIX: &str = "rtk_";

/// A fresh bearer string.
pub fn generate_access_token() -> String {
    random_token(ACCESS_TOKEN_PREFIX)
}

/// A fresh secret with `prefix`: 256 random bits in base64url.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh secret with `prefix` and its hash, as the domain's use cases take it.
pub fn issue_secret(prefix: &str) -> roost_domain::service::IssuedSecret {
    let secret = random_token(prefix);
    let hash = hash_token(&secret);
    roost_domain::service::IssuedSecret { secret, hash }
}

/// Hex SHA-256 of a bearer string: the only form in which tokens are stored.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed_as_hex_sha256() {
        let token = generate_access_token();
        assert!(token.starts_with(ACCESS_TOKEN_PREFIX));
        assert_ne!(token, generate_access_token());
        assert_eq!(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

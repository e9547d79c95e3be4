//! The key itself: `tf_<id>_<secret>`. `id` (12 hex digits) is public and finds the row; the
//! secret (256 random bits, 64 hex digits) is stored only as its SHA-256. A secret this long
//! cannot be guessed, so a slow password hash would add cost without adding safety.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "tf_";
const ID_HEX: usize = 12;
const SECRET_HEX: usize = 64;

/// A newly made key: `token` is shown once and never stored.
pub struct NewKey {
    pub id: String,
    pub token: String,
    pub secret_sha256: Vec<u8>,
}

impl NewKey {
    pub fn generate() -> Self {
        let id = hex::encode(rand::random::<[u8; ID_HEX / 2]>());
        let secret = hex::encode(rand::random::<[u8; SECRET_HEX / 2]>());
        let secret_sha256 = digest(&secret).to_vec();
        Self { token: format!("{PREFIX}{id}_{secret}"), id, secret_sha256 }
    }
}

/// A presented token split into its id and secret; `None` when it is not shaped like a key
/// (so it cannot be one: no lookup is made).
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    (hex(id, ID_HEX) && hex(secret, SECRET_HEX)).then_some((id, secret))
}

/// Whether `secret` hashes to `stored`, compared in constant time: how long the comparison
/// takes says nothing about how many bytes matched.
pub fn verify(secret: &str, stored: &[u8]) -> bool {
    digest(secret)[..].ct_eq(stored).into()
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether a key id is well formed (for `api keys revoke <id>`).
pub fn is_id(s: &str) -> bool {
    s.len() == ID_HEX && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_and_verifies_and_nothing_else_does() {
        let key = NewKey::generate();
        assert!(key.token.starts_with("tf_") && key.token.len() == 3 + 12 + 1 + 64);
        let (id, secret) = parse(&key.token).expect("own key parses");
        assert_eq!(id, key.id);
        assert!(verify(secret, &key.secret_sha256));
        let mut other = secret.to_owned();
        other.replace_range(63.., if secret.ends_with('0') { "1" } else { "0" });
        assert!(!verify(&other, &key.secret_sha256), "one digit off");
        assert!(!verify(secret, &[]), "a stored hash of another length never matches");
        for bad in ["", "tf_", "Bearer tf_x", &key.token[..40], &key.token.to_uppercase()] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
        assert_ne!(NewKey::generate().token, key.token);
    }

    /// The comparison takes as long whether the first or the last byte differs. Timing in a
    /// shared machine is noisy, so the bound is loose; an early-exit compare of 32 bytes
    /// would still not pass it reliably, as the SHA-256 before it dominates either way: the
    /// real guarantee is `subtle`'s, and this test guards against swapping it for `==` on the
    /// secret itself (whose time grows with the matching prefix).
    #[test]
    fn verification_time_does_not_depend_on_where_the_secret_differs() {
        let key = NewKey::generate();
        let (_, secret) = parse(&key.token).unwrap();
        let flip = |at: usize| {
            let mut s = secret.as_bytes().to_vec();
            s[at] = if s[at] == b'0' { b'1' } else { b'0' };
            String::from_utf8(s).unwrap()
        };
        let (first, last) = (flip(0), flip(63));
        let time = |candidate: &str| {
            let mut samples: Vec<u128> = (0..31)
                .map(|_| {
                    let start = std::time::Instant::now();
                    for _ in 0..2_000 {
                        std::hint::black_box(verify(
                            std::hint::black_box(candidate),
                            &key.secret_sha256,
                        ));
                    }
                    start.elapsed().as_nanos()
                })
                .collect();
            samples.sort_unstable();
            samples[samples.len() / 2] as f64
        };
        let (a, b) = (time(&first), time(&last));
        let ratio = a.max(b) / a.min(b);
        assert!(ratio < 1.5, "median times {a} ns and {b} ns differ by {ratio:.2}x");
    }
}

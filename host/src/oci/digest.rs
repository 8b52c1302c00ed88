//! Content digests (`sha256:<hex>`): computed over what was received and compared with
//! what was asked for, so a tampered or truncated blob never reaches the plugin engine.

use super::error::OciError;
use sha2::{Digest as _, Sha256};
use std::fmt;

/// A sha256 content digest; the only algorithm registries and the Wasm artifact layout use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Reads `sha256:<64 hex digits>`; other algorithms are refused by name.
    pub fn parse(text: &str) -> Result<Digest, String> {
        let Some((algorithm, hex)) = text.split_once(':') else {
            return Err(format!(
                "`{text}` is not a digest; expected sha256:<64 hex digits>"
            ));
        };
        if algorithm != "sha256" {
            return Err(format!(
                "digest `{text}` uses `{algorithm}`; only sha256 digests are supported"
            ));
        }
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "digest `{text}` is malformed; expected sha256: and 64 hex digits"
            ));
        }
        Ok(Digest {
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest {
            hex: hex::encode(Sha256::digest(bytes)),
        }
    }

    /// The 64 hex digits, for file names.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Fails unless `bytes` hash to this digest; `what` names the content in the error.
    pub fn verify(&self, bytes: &[u8], what: &str) -> Result<(), OciError> {
        let actual = Digest::of(bytes);
        if &actual == self {
            Ok(())
        } else {
            Err(OciError::DigestMismatch {
                what: what.to_string(),
                expected: self.clone(),
                actual,
            })
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_known_bytes() {
        // sha256("abc"), the FIPS 180-2 test vector.
        let d = Digest::of(b"abc");
        assert_eq!(
            d.to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Digest::parse(&d.to_string()), Ok(d));
    }

    #[test]
    fn parse_refuses_other_algorithms_and_bad_hex() {
        assert!(
            Digest::parse("sha512:00")
                .unwrap_err()
                .contains("only sha256")
        );
        assert!(
            Digest::parse("sha256:xyz")
                .unwrap_err()
                .contains("malformed")
        );
        assert!(Digest::parse("abc").unwrap_err().contains("not a digest"));
        let upper = format!("sha256:{}", "AB".repeat(32));
        assert_eq!(Digest::parse(&upper).unwrap().hex(), "ab".repeat(32));
    }

    #[test]
    fn a_tampered_blob_is_rejected() {
        let good = b"\0asm\x0d\0\x01\0";
        let digest = Digest::of(good);
        assert!(digest.verify(good, "layer").is_ok());
        let mut tampered = good.to_vec();
        tampered.push(0);
        let err = digest.verify(&tampered, "layer").unwrap_err().to_string();
        assert!(err.contains("layer"), "{err}");
        assert!(err.contains(&digest.to_string()), "{err}");
        assert!(err.contains(&Digest::of(&tampered).to_string()), "{err}");
    }
}

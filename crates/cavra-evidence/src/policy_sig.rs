//! Policy signatures.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const SIGNATURE_SCHEMA: &str = "cavra.policy-signature.v1";
pub const KEYPAIR_SCHEMA: &str = "cavra.policy-signing-keypair.v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigError {
    #[error("policy digest mismatch: the file changed after signing")]
    DigestMismatch,
    #[error("signature mismatch")]
    SignatureMismatch,
    #[error("public key fingerprint mismatch: the signature was made with another key")]
    FingerprintMismatch,
    #[error("signature uses {0}; pass {1}")]
    KeyRequired(String, &'static str),
    #[error("invalid key: {0}")]
    BadKey(String),
    #[error("invalid signature file: {0}")]
    BadSignatureFile(String),
    #[error("unsupported algorithm `{0}`")]
    Algorithm(String),
    #[error(
        "the signature file says {0}, but the key given is for {1}: the key, not the file, decides the algorithm"
    )]
    AlgorithmMismatch(String, &'static str),
}

/// The shortest HMAC key accepted (RFC 7518: at least the hash's size).
pub const MIN_HMAC_KEY: usize = 32;

/// The content of `<file>.sig.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySignature {
    pub schema_version: String,
    /// `Ed25519`, `HS256` or `SHA256`.
    pub algorithm: String,
    /// `sha256:<hex>` of the raw file bytes.
    pub digest: String,
    /// Base64 signature.
    pub signature: String,
    pub signed_at: String,
    pub signer: String,
    pub policy_file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_sha256: Option<String>,
}

/// How to sign.
pub enum SignKey<'a> {
    Ed25519 {
        private_pem: &'a str,
        key_id: Option<&'a str>,
    },
    Hmac(&'a [u8]),
    DigestOnly,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn file_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

fn mac(key: &[u8], msg: &[u8]) -> Result<Hmac<Sha256>, SigError> {
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|e| SigError::BadKey(e.to_string()))?;
    m.update(msg);
    Ok(m)
}

fn hmac(key: &[u8], msg: &[u8]) -> Result<Vec<u8>, SigError> {
    Ok(mac(key, msg)?.finalize().into_bytes().to_vec())
}

/// Checks an HMAC tag in constant time.
fn check_hmac(key: &[u8], msg: &[u8], tag: &[u8]) -> Result<(), SigError> {
    mac(key, msg)?
        .verify_slice(tag)
        .map_err(|_| SigError::SignatureMismatch)
}

/// A secret HMAC key: at least [`MIN_HMAC_KEY`] bytes (an empty key file
/// made a signature anyone could compute).
fn secret_key(key: &[u8]) -> Result<&[u8], SigError> {
    if key.len() < MIN_HMAC_KEY {
        return Err(SigError::BadKey(format!(
            "the HMAC key is {} bytes; at least {MIN_HMAC_KEY} are required",
            key.len()
        )));
    }
    Ok(key)
}

/// Sign the raw bytes of a policy file.
pub fn sign(
    bytes: &[u8],
    policy_file: &str,
    signer: &str,
    key: SignKey<'_>,
    signed_at: &str,
) -> Result<PolicySignature, SigError> {
    let digest = file_digest(bytes);
    let (algorithm, signature, key_id, fp) = match key {
        SignKey::Ed25519 {
            private_pem,
            key_id,
        } => {
            let sk = SigningKey::from_pkcs8_pem(private_pem)
                .map_err(|e| SigError::BadKey(format!("Ed25519 private key: {e}")))?;
            let pub_pem = public_pem(&sk.verifying_key())?;
            let fp = sha256_hex(pub_pem.as_bytes());
            let sig = sk.sign(bytes);
            let kid = key_id
                .map(str::to_string)
                .unwrap_or_else(|| fp.chars().take(16).collect());
            ("Ed25519", B64.encode(sig.to_bytes()), Some(kid), Some(fp))
        }
        SignKey::Hmac(k) => (
            "HS256",
            B64.encode(hmac(secret_key(k)?, bytes)?),
            None,
            None,
        ),
        SignKey::DigestOnly => (
            "SHA256",
            B64.encode(hmac(digest.as_bytes(), bytes)?),
            None,
            None,
        ),
    };
    Ok(PolicySignature {
        schema_version: SIGNATURE_SCHEMA.into(),
        algorithm: algorithm.into(),
        digest,
        signature,
        signed_at: signed_at.into(),
        signer: signer.into(),
        policy_file: policy_file.into(),
        key_id,
        public_key_sha256: fp,
    })
}

/// Verify `bytes` against a signature. The verifier's key decides the
/// algorithm, never the signature file: with `public_pem` only Ed25519 is
/// accepted, with `hmac_key` only HS256 (a forged file naming another
/// algorithm, or a digest-only one, is refused). Without a key only a
/// digest-only (`SHA256`) signature passes: integrity, not authenticity.
pub fn verify(
    bytes: &[u8],
    sig: &PolicySignature,
    public_pem: Option<&str>,
    hmac_key: Option<&[u8]>,
) -> Result<(), SigError> {
    if sig.schema_version != SIGNATURE_SCHEMA {
        return Err(SigError::BadSignatureFile(format!(
            "schema_version `{}` is not {SIGNATURE_SCHEMA}",
            sig.schema_version
        )));
    }
    if file_digest(bytes) != sig.digest {
        return Err(SigError::DigestMismatch);
    }
    let raw = B64
        .decode(sig.signature.as_bytes())
        .map_err(|e| SigError::BadSignatureFile(format!("signature is not base64: {e}")))?;
    let (allowed, named): (&[&str], &'static str) = match (public_pem, hmac_key) {
        (Some(_), None) => (&["Ed25519"], "Ed25519"),
        (None, Some(_)) => (&["HS256"], "HS256"),
        (Some(_), Some(_)) => (&["Ed25519", "HS256"], "Ed25519 or HS256"),
        (None, None) => (&[], ""),
    };
    if !allowed.is_empty() && !allowed.contains(&sig.algorithm.as_str()) {
        return Err(SigError::AlgorithmMismatch(sig.algorithm.clone(), named));
    }
    match sig.algorithm.as_str() {
        "Ed25519" => {
            let pem = public_pem.ok_or(SigError::KeyRequired("Ed25519".into(), "--public-key"))?;
            let vk = VerifyingKey::from_public_key_pem(pem)
                .map_err(|e| SigError::BadKey(format!("Ed25519 public key: {e}")))?;
            if let Some(fp) = &sig.public_key_sha256
                && *fp != sha256_hex(pem.as_bytes())
                && *fp != sha256_hex(public_pem_of(&vk)?.as_bytes())
            {
                return Err(SigError::FingerprintMismatch);
            }
            let s = ed25519_dalek::Signature::from_slice(&raw)
                .map_err(|_| SigError::SignatureMismatch)?;
            vk.verify(bytes, &s)
                .map_err(|_| SigError::SignatureMismatch)
        }
        "HS256" => {
            let k = hmac_key.ok_or(SigError::KeyRequired("HS256".into(), "--key"))?;
            check_hmac(secret_key(k)?, bytes, &raw)
        }
        "SHA256" => check_hmac(sig.digest.as_bytes(), bytes, &raw),
        other => Err(SigError::Algorithm(other.into())),
    }
}

fn public_pem(vk: &VerifyingKey) -> Result<String, SigError> {
    public_pem_of(vk)
}

fn public_pem_of(vk: &VerifyingKey) -> Result<String, SigError> {
    vk.to_public_key_pem(Default::default())
        .map_err(|e| SigError::BadKey(e.to_string()))
}

/// A new Ed25519 key pair as PEM, with its metadata.
#[derive(Clone, Debug, Serialize)]
pub struct KeyPair {
    pub schema_version: String,
    pub key_id: String,
    pub algorithm: String,
    pub public_key_sha256: String,
    #[serde(skip)]
    pub private_pem: String,
    #[serde(skip)]
    pub public_pem: String,
}

pub fn keygen(key_id: &str) -> Result<KeyPair, SigError> {
    let sk = SigningKey::generate(&mut rand::rngs::OsRng);
    let private_pem = sk
        .to_pkcs8_pem(Default::default())
        .map_err(|e| SigError::BadKey(e.to_string()))?
        .to_string();
    let public_pem = public_pem(&sk.verifying_key())?;
    Ok(KeyPair {
        schema_version: KEYPAIR_SCHEMA.into(),
        key_id: key_id.into(),
        algorithm: "Ed25519".into(),
        public_key_sha256: sha256_hex(public_pem.as_bytes()),
        private_pem,
        public_pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_round_trip_and_tamper() {
        let kp = keygen("k1").unwrap();
        let sig = sign(
            b"policy",
            "policy.yaml",
            "me",
            SignKey::Ed25519 {
                private_pem: &kp.private_pem,
                key_id: None,
            },
            "t",
        )
        .unwrap();
        assert_eq!(verify(b"policy", &sig, Some(&kp.public_pem), None), Ok(()));
        assert_eq!(
            verify(b"policy!", &sig, Some(&kp.public_pem), None),
            Err(SigError::DigestMismatch)
        );
        let other = keygen("k2").unwrap();
        assert_eq!(
            verify(b"policy", &sig, Some(&other.public_pem), None),
            Err(SigError::FingerprintMismatch)
        );
        assert!(matches!(
            verify(b"policy", &sig, None, None),
            Err(SigError::KeyRequired(..))
        ));
    }

    const KEY: &[u8] = b"a secret of at least thirty-two bytes";

    #[test]
    fn hmac_and_digest_modes() {
        let sig = sign(b"p", "f", "me", SignKey::Hmac(KEY), "t").unwrap();
        assert_eq!(verify(b"p", &sig, None, Some(KEY)), Ok(()));
        assert_eq!(
            verify(
                b"p",
                &sig,
                None,
                Some(b"another secret of thirty-two bytes")
            ),
            Err(SigError::SignatureMismatch)
        );
        let sig = sign(b"p", "f", "me", SignKey::DigestOnly, "t").unwrap();
        assert_eq!(verify(b"p", &sig, None, None), Ok(()));
        assert_eq!(
            verify(b"q", &sig, None, None),
            Err(SigError::DigestMismatch)
        );
    }

    /// Regression: the signature file chose the algorithm, so a forged
    /// file naming HS256 with an empty signature (or a digest-only one,
    /// which anyone can compute) passed a verifier holding an Ed25519
    /// public key or an HMAC key; an empty HMAC key was accepted.
    #[test]
    fn the_verifiers_key_decides_the_algorithm() {
        let kp = keygen("k1").unwrap();
        let tampered = b"policy: tampered";
        let forged_hs = PolicySignature {
            schema_version: SIGNATURE_SCHEMA.into(),
            algorithm: "HS256".into(),
            digest: file_digest(tampered),
            signature: String::new(),
            signed_at: "t".into(),
            signer: "ci".into(),
            policy_file: "x".into(),
            key_id: None,
            public_key_sha256: None,
        };
        assert_eq!(
            verify(tampered, &forged_hs, Some(&kp.public_pem), None),
            Err(SigError::AlgorithmMismatch("HS256".into(), "Ed25519"))
        );
        assert!(matches!(
            verify(tampered, &forged_hs, None, None),
            Err(SigError::KeyRequired(..))
        ));
        assert_eq!(
            verify(tampered, &forged_hs, None, Some(KEY)),
            Err(SigError::SignatureMismatch)
        );
        let digest_only = sign(tampered, "x", "ci", SignKey::DigestOnly, "t").unwrap();
        assert_eq!(
            verify(tampered, &digest_only, None, Some(KEY)),
            Err(SigError::AlgorithmMismatch("SHA256".into(), "HS256"))
        );
        assert_eq!(
            verify(tampered, &digest_only, Some(&kp.public_pem), None),
            Err(SigError::AlgorithmMismatch("SHA256".into(), "Ed25519"))
        );
        // Both keys given: still never digest-only.
        assert_eq!(
            verify(tampered, &digest_only, Some(&kp.public_pem), Some(KEY)),
            Err(SigError::AlgorithmMismatch(
                "SHA256".into(),
                "Ed25519 or HS256"
            ))
        );
        assert!(matches!(
            sign(b"p", "f", "me", SignKey::Hmac(b""), "t"),
            Err(SigError::BadKey(_))
        ));
        let hs = sign(b"p", "f", "me", SignKey::Hmac(KEY), "t").unwrap();
        assert!(matches!(
            verify(b"p", &hs, None, Some(b"")),
            Err(SigError::BadKey(_))
        ));
    }
}

//! Evidence and signatures. This first part covers policy-file signatures
//! (`<file>.sig.json`, schema `cavra.policy-signature.v1`) in three modes:
//! Ed25519 (PKCS#8 / SPKI PEM keys), HS256 (HMAC-SHA256 with a shared key)
//! and SHA256 (digest only: HMAC keyed with the digest itself, which proves
//! integrity, not origin).

pub mod policy_sig;

//! Identities (§2): secp256k1 keys, ids, and the recoverable signatures every RPC carries.
//!
//! An id is the SHA3-256 of the *text* of the uncompressed public key in lower-case hex.
//! A signature is `r || s || v` (65 bytes, v last and 0/1) over the SHA3-256 of the
//! base64 payload text, with RFC 6979 nonces, so the same request always signs the same.

use colonies_statemachine::texts;
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, PublicKey, SecretKey};
use sha3::{Digest, Sha3_256};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Half the curve order: a signature with a larger `s` is refused, as the reference does.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e,
    0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// A refused key or signature; the text is what the server sends back (403).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CryptoError(pub String);

fn sha3(bytes: &[u8]) -> [u8; 32] {
    Sha3_256::digest(bytes).into()
}

pub use colonies_statemachine::wire::sha3_hex;

/// The id of an uncompressed public key given as hex text.
pub fn id_of_public_key_hex(public_key_hex: &str) -> String {
    sha3_hex(public_key_hex)
}

fn id_of(public_key: &PublicKey) -> String {
    id_of_public_key_hex(&hex::encode(public_key.serialize_uncompressed()))
}

/// Signatures a key keeps for reuse: an executor's assign survives the calls between two
/// assigns (set output, add a log, close).
const SIGNATURES_KEPT: usize = 4;
/// Only small payloads are kept: polls are small, and a big submitted spec is not worth the
/// memory of a copy.
const KEPT_PAYLOAD_MAX: usize = 4096;

/// A private key: 32 bytes, written as 64 hex characters.
#[derive(Clone)]
pub struct PrivateKey {
    key: SecretKey,
    /// The last few payloads signed and their signatures, newest last, shared by clones: an
    /// executor signs the very same assign request between its other calls again and again,
    /// and signing is deterministic, so the signature is reused instead of computed again.
    last_signed: Arc<Mutex<Vec<(String, String)>>>,
}

impl PartialEq for PrivateKey {
    fn eq(&self, other: &PrivateKey) -> bool {
        self.key == other.key
    }
}

impl Eq for PrivateKey {}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret, even in debug output.
        write!(f, "PrivateKey(id {})", self.id())
    }
}

impl PrivateKey {
    pub fn from_hex(text: &str) -> Result<PrivateKey, CryptoError> {
        let bytes = hex::decode(text.trim()).map_err(|e| CryptoError(format!("Invalid private key: {e}")))?;
        let bytes: [u8; 32] =
            bytes.try_into().map_err(|_| CryptoError("Invalid private key length, should be 256 bits".into()))?;
        SecretKey::from_secret_bytes(bytes)
            .map(PrivateKey::from)
            .map_err(|_| CryptoError("Invalid private key, not a valid secp256k1 scalar".into()))
    }

    pub fn generate() -> PrivateKey {
        loop {
            // Zero or a value at or above the curve order is not a key; draw again.
            if let Ok(key) = SecretKey::from_secret_bytes(rand::random::<[u8; 32]>()) {
                return PrivateKey::from(key);
            }
        }
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key.to_secret_bytes())
    }

    /// The uncompressed public key, 130 hex characters starting with `04`.
    pub fn public_key_hex(&self) -> String {
        hex::encode(PublicKey::from_secret_key(&self.key).serialize_uncompressed())
    }

    pub fn id(&self) -> String {
        id_of(&PublicKey::from_secret_key(&self.key))
    }

    /// Signs the payload text (the base64 string of the envelope), 130 hex characters.
    pub fn sign(&self, payload: &str) -> String {
        if let Some((_, signature)) = self.last_signed().iter().find(|(signed, _)| signed == payload) {
            return signature.clone();
        }
        // Signed without the lock: other tasks signing with a clone of this key go on.
        let message = Message::from_digest(sha3(payload.as_bytes()));
        let (recovery, rs) = RecoverableSignature::sign_ecdsa_recoverable(message, &self.key).serialize_compact();
        let mut bytes = rs.to_vec();
        bytes.push(recovery.to_u8());
        let signature = hex::encode(bytes);
        if payload.len() <= KEPT_PAYLOAD_MAX {
            let mut last_signed = self.last_signed();
            if last_signed.len() == SIGNATURES_KEPT {
                last_signed.remove(0);
            }
            last_signed.push((payload.to_owned(), signature.clone()));
        }
        signature
    }

    fn last_signed(&self) -> std::sync::MutexGuard<'_, Vec<(String, String)>> {
        // Whatever a panicking holder left is whole pairs: still usable.
        self.last_signed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl From<SecretKey> for PrivateKey {
    fn from(key: SecretKey) -> PrivateKey {
        PrivateKey { key, last_signed: Arc::default() }
    }
}

/// Recovers the signer's id from a payload and its signature, refusing what the reference
/// refuses (§2.4): a wrong length, a recovery code out of range, high S, no valid key.
pub fn recover_id(payload: &str, signature_hex: &str) -> Result<String, CryptoError> {
    recover_id_of_digest(sha3(payload.as_bytes()), signature_hex)
}

fn recover_id_of_digest(digest: [u8; 32], signature_hex: &str) -> Result<String, CryptoError> {
    let bytes = hex::decode(signature_hex).map_err(|e| CryptoError(texts::signature_not_hex(&e.to_string())))?;
    if bytes.len() != 65 {
        return Err(CryptoError(texts::INVALID_SIGNATURE_LENGTH.into()));
    }
    let (rs, v) = bytes.split_at(64);
    // btcec takes v + 27 as a compact header and accepts 27..=34; 31..=34 only add a
    // "compressed" flag, which changes nothing here since ids use the uncompressed key.
    let v = v[0];
    if v >= 8 {
        return Err(CryptoError(texts::recovery_code_out_of_range(u16::from(v) + 27)));
    }
    if rs[32..] > HALF_ORDER[..] {
        return Err(CryptoError(texts::HIGH_S.into()));
    }
    let recovery = RecoveryId::from_u8_masked(v & 0x03);
    let invalid = |e: secp256k1::Error| CryptoError(texts::recovery_failed(&e.to_string()));
    let signature = RecoverableSignature::from_compact(rs, recovery).map_err(invalid)?;
    let message = Message::from_digest(digest);
    // A recovered key verifies the signature by construction (it is solved from the
    // verification equation), so a second ECDSA verify would only double the cost.
    let public_key = signature.recover_ecdsa(message).map_err(invalid)?;
    Ok(id_of(&public_key))
}

/// A signature and the digest of the payload it signs: all a signer depends on.
type Signed = (String, [u8; 32]);

/// Signers of the signatures seen lately. Signing is deterministic, so a caller that polls
/// (an executor long-polling `assign`, a client polling a process) sends the very same
/// signed request each time; looking the signer up spares recovering it, the costliest step
/// of a call. A hit returns exactly what recovering would, since the signer is a function of
/// the signature and the payload's digest alone. Refused signatures are not remembered.
/// Bounded by two generations: when the newer one is full, the older one is dropped.
pub struct RecentSigners {
    generation_size: usize,
    generations: Mutex<[HashMap<Signed, String>; 2]>,
}

impl RecentSigners {
    /// Remembers between `capacity / 2` and `capacity` signers.
    pub fn new(capacity: usize) -> RecentSigners {
        RecentSigners { generation_size: (capacity / 2).max(1), generations: Mutex::default() }
    }

    /// The id of whoever signed `payload`, as [`recover_id`] gives it.
    pub fn recover(&self, payload: &str, signature_hex: &str) -> Result<String, CryptoError> {
        let signed = (signature_hex.to_owned(), sha3(payload.as_bytes()));
        if let Some(id) = self.remembered(&signed) {
            return Ok(id);
        }
        let id = recover_id_of_digest(signed.1, signature_hex)?;
        self.remember(signed, id.clone());
        Ok(id)
    }

    fn generations(&self) -> std::sync::MutexGuard<'_, [HashMap<Signed, String>; 2]> {
        // The maps are consistent after any panic (single inserts), so keep using them.
        self.generations.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn remembered(&self, signed: &Signed) -> Option<String> {
        let [newer, older] = &mut *self.generations();
        if let Some(id) = newer.get(signed) {
            return Some(id.clone());
        }
        // Still in use: carry it into the newer generation so it outlives the older one.
        let (signed, id) = older.remove_entry(signed)?;
        newer.insert(signed, id.clone());
        Some(id)
    }

    fn remember(&self, signed: Signed, id: String) {
        let mut generations = self.generations();
        if generations[0].len() >= self.generation_size {
            generations[1] = std::mem::take(&mut generations[0]);
        }
        generations[0].insert(signed, id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let generations = self.generations();
        generations[0].len() + generations[1].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SERVER_KEY: &str = "fcc79953d8a751bf41db661592dc34d30004b1a651ffa0725b03ac227641499d";
    const SERVER_ID: &str = "039231c7644e04b6895471dd5335cf332681c54e27f81fac54f9067b3f2c0103";
    const EXECUTOR_ID: &str = "3fc05cf3df4b494e95d6a3d297a34f19938f7daa7422ab0d4f794454133341ac";
    const COLONY_ID: &str = "4787a5071856a4acf702b2ffcea422e3237a679c681314113d86139461290cf4";
    /// TV-4: `{"msgtype":"getcoloniesmsg"}` in base64, signed by the server key.
    const TV4_PAYLOAD: &str = "eyJtc2d0eXBlIjoiZ2V0Y29sb25pZXNtc2cifQ==";
    const TV4_SIGNATURE: &str = "3cf5209e35d24048f67652cb354ded5bed0d56bdce9cab433646942a47760353283e65a2cb764e22d9efa37e67a9ba485ade029f1405e5eed13365a82250a87300";

    #[test]
    fn sha3_known_answers() {
        assert_eq!(sha3_hex("hello world"), "644bcc7e564373040999aac89e7622f3ca71fba1d972fd94a31c3bfbf24e3938");
        assert_eq!(sha3_hex("hello"), "3338be694f50c5f338814986cdf0686453a888b84f424d792af4b9202398f392");
        assert_eq!(sha3_hex(TV4_PAYLOAD), "60505a7286296481b371f5f0d831f1065594d9be11e8acabeab18052712949b9");
    }

    #[test]
    fn keys_give_the_ids_of_the_spec() {
        let vectors = [
            (SERVER_KEY, SERVER_ID),
            ("ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514", COLONY_ID),
            ("ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05", EXECUTOR_ID),
            (
                "6d2fb6f546bacfd98c68769e61e0b44a697a30596c018a50e28200aa59b01c0a",
                "4fef2b5a82d134d058c1883c72d6d9caf77cd59ca82d73105017590dea3dcb87",
            ),
            (
                "d6eb959e9aec2e6fdc44b5862b269e987b8a4d6f2baca542d8acaa97ee5e74f6",
                "5d6568f883451ae2e407d1a0a7992e414f2a67b69d0e6e9176d353b98f06f696",
            ),
            (
                "1111111111111111111111111111111111111111111111111111111111111111",
                "16279109b7e4a5bb2e003d185777aa4266b82edfb221dbe0ca73992a68dc8543",
            ),
            (
                "2222222222222222222222222222222222222222222222222222222222222222",
                "428a7ee5feb0fb642b0778ea2537d220b68b8ad6aca66339846f4afe4ea2414a",
            ),
            (
                "3333333333333333333333333333333333333333333333333333333333333333",
                "f4fd6d17cc4b15defd4c456772667515bee9c5dd36a6c47ebdf7ef8ed0b08690",
            ),
        ];
        for (key, id) in vectors {
            assert_eq!(PrivateKey::from_hex(key).unwrap().id(), id, "key {key}");
        }
        assert_eq!(
            PrivateKey::from_hex(SERVER_KEY).unwrap().public_key_hex(),
            "0426aa26fe2d354aeb42265141eb7b42dc74b092c3809d2288ae1cb73feae7aafc906b4252aee3855676941423a2df8f83aada0c3e1dbb19c263c9bef53471964b"
        );
    }

    #[test]
    fn bad_private_keys_are_refused() {
        assert_eq!(PrivateKey::from_hex("abcd").unwrap_err().0, "Invalid private key length, should be 256 bits");
        assert!(PrivateKey::from_hex(&"0".repeat(64)).is_err(), "zero");
        let order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
        assert!(PrivateKey::from_hex(order).is_err(), "the curve order itself");
        assert!(PrivateKey::from_hex(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn signing_is_deterministic_and_byte_exact_with_the_go_cli() {
        let key = PrivateKey::from_hex(SERVER_KEY).unwrap();
        assert_eq!(key.sign(TV4_PAYLOAD), TV4_SIGNATURE);
        assert_eq!(key.sign(TV4_PAYLOAD), key.sign(TV4_PAYLOAD));
        assert_eq!(recover_id(TV4_PAYLOAD, TV4_SIGNATURE).unwrap(), SERVER_ID);
        assert_eq!(recover_id(TV4_PAYLOAD, &TV4_SIGNATURE.to_uppercase()).unwrap(), SERVER_ID, "upper-case hex");
    }

    #[test]
    fn signed_requests_of_the_spec_recover_their_signers() {
        // TV-6: (payload, signature, signer id, signer key)
        let executor_key = "ddf7f7791208083b6a9ed975a72684f6406a269cfa36f1b1c32045c0a71fff05";
        let colony_key = "ba949fa134981372d6da62b6a56f336ab4d843b22c02a4257dcf7d0d73097514";
        let requests = [
            (
                "eyJjb2xvbnkiOnsiY29sb255aWQiOiI0Nzg3YTUwNzE4NTZhNGFjZjcwMmIyZmZjZWE0MjJlMzIzN2E2NzljNjgxMzE0MTEzZDg2MTM5NDYxMjkwY2Y0IiwibmFtZSI6ImRldiJ9LCJtc2d0eXBlIjoiYWRkY29sb255bXNnIn0=",
                "ae6d33a12c670db06439bc13de1f08f1f8aa0686c1da56928e22d91af5c71e63143b6f3a6e1b44ba04d015802adc28ba3ebb8cb1b7c7c662bfdc47bef4ef509400",
                SERVER_KEY,
            ),
            (
                "eyJjb2xvbnluYW1lIjoiZGV2IiwibXNndHlwZSI6ImdldGNvbG9ueW1zZyJ9",
                "aaea4f14c8bf827267377593bd2253940b5602d06e392cf7752f54f956e24b7d285fe6f21446ed28f25259f6ad2a64ca90dd20eeeb9532c0b443c73d191e1e5900",
                executor_key,
            ),
            (
                "eyJjb2xvbnluYW1lIjoiZGV2IiwidGltZW91dCI6MTAsImF2YWlsYWJsZWNwdSI6IiIsImF2YWlsYWJsZW1lbSI6IiIsIm1zZ3R5cGUiOiJhc3NpZ25wcm9jZXNzbXNnIn0=",
                "2a721e71e0ce37be7bbbb2aeba5668bcecf4341c9a50913ae92816a796ad98d0644c6896c5ac1904a044c45356ea502a1296eb52bbe4f28d58924118851539c101",
                executor_key,
            ),
            (
                "eyJjb2xvbnluYW1lIjoiZGV2IiwiZXhlY3V0b3JuYW1lIjoiZGV2LWNsaSIsIm1zZ3R5cGUiOiJhcHByb3ZlZXhlY3V0b3Jtc2cifQ==",
                "e9a5014f39411a790da2f68d7c13378c9de39312103375f3ce89bd2a50a5e58734f05b942006662f2d7d80769d80807b2a7962334b0ec2bca9cd42b9b6e3713600",
                colony_key,
            ),
        ];
        for (payload, signature, key) in requests {
            let key = PrivateKey::from_hex(key).unwrap();
            assert_eq!(recover_id(payload, signature).unwrap(), key.id());
            assert_eq!(key.sign(payload), signature, "re-signing gives the same bytes");
        }
    }

    #[test]
    fn a_signature_not_made_with_rfc6979_still_verifies() {
        // TV-3: over SHA3-256("hello"), i.e. the payload text "hello".
        let signature = "997eca36736d465e0e8d64e6d657ff4c939c8f5cad4272797ea0fe372bfd8d0953d21b3d06ded5dd80aee8cfa3a9be7ce615ce690eb64184fe15962943fe541300";
        let id = "5d6568f883451ae2e407d1a0a7992e414f2a67b69d0e6e9176d353b98f06f696";
        assert_eq!(recover_id("hello", signature).unwrap(), id);
        let deterministic = "e713a1bb015fecabb5a084b0fe6d6e7271fca6f79525a634183cfdb175fe69241f4da161779d8e6b761200e1cf93766010a19072fa778f9643363e2cfadd640900";
        let key = PrivateKey::from_hex("d6eb959e9aec2e6fdc44b5862b269e987b8a4d6f2baca542d8acaa97ee5e74f6").unwrap();
        assert_eq!(key.sign("hello"), deterministic);
    }

    #[test]
    fn high_s_signatures_are_refused() {
        // TV-5: s replaced by N - s, v flipped.
        let signature = "3cf5209e35d24048f67652cb354ded5bed0d56bdce9cab433646942a47760353d7c19a5d3489b1dd26105c81985645b65fd0da479b42ba4cee9ef8e4ade598ce01";
        assert_eq!(
            recover_id(TV4_PAYLOAD, signature).unwrap_err().0,
            "Failed verify signature: Signature s value is over half the order"
        );
    }

    #[test]
    fn recovery_codes_follow_btcec() {
        let with_v = |v: u8| format!("{}{v:02x}", &TV4_SIGNATURE[..128]);
        // 4..=7 are btcec's "compressed" forms of 0..=3: v=4 is the signer again.
        assert_eq!(recover_id(TV4_PAYLOAD, &with_v(4)).unwrap(), SERVER_ID);
        assert_ne!(recover_id(TV4_PAYLOAD, &with_v(5)).ok().as_deref(), Some(SERVER_ID));
        assert_ne!(recover_id(TV4_PAYLOAD, &with_v(1)).ok().as_deref(), Some(SERVER_ID));
        assert_eq!(
            recover_id(TV4_PAYLOAD, &with_v(8)).unwrap_err().0,
            "Failed to recover public key: invalid signature: public key recovery code 35 is not in the valid range [27, 34]"
        );
        assert_eq!(recover_id(TV4_PAYLOAD, "").unwrap_err().0, "Invalid signature length");
        assert_eq!(recover_id(TV4_PAYLOAD, "abcd").unwrap_err().0, "Invalid signature length");
        assert!(recover_id(TV4_PAYLOAD, "zz").unwrap_err().0.starts_with("encoding/hex"));
    }

    #[test]
    fn generated_keys_sign_what_they_claim() {
        let key = PrivateKey::generate();
        let again = PrivateKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(key, again);
        assert_eq!(recover_id("payload", &key.sign("payload")).unwrap(), key.id());
    }

    proptest! {
        #[test]
        fn a_flipped_bit_never_panics_nor_recovers_the_signer(bit in 0usize..(65 * 8)) {
            let mut bytes = hex::decode(TV4_SIGNATURE).unwrap();
            bytes[bit / 8] ^= 1 << (bit % 8);
            // v=0 -> v=4 is the one flip that keeps the same key (btcec's compressed flag).
            let same_key_flip = bit == 64 * 8 + 2;
            if let Ok(id) = recover_id(TV4_PAYLOAD, &hex::encode(bytes)) {
                prop_assert!(same_key_flip || id != SERVER_ID);
            }
        }
    }

    #[test]
    fn remembered_signers_are_the_recovered_ones_and_never_cross_payloads() {
        let signers = RecentSigners::new(16);
        let key = PrivateKey::from_hex(SERVER_KEY).unwrap();
        let signature = key.sign("poll");
        for _ in 0..3 {
            assert_eq!(signers.recover("poll", &signature).unwrap(), SERVER_ID);
        }
        assert_eq!(signers.len(), 1, "one signed request, remembered once");
        // The same signature over another payload is another equation: not the remembered
        // signer, whatever recovery makes of it.
        assert_eq!(signers.recover("other", &signature).ok(), recover_id("other", &signature).ok());
        assert_ne!(signers.recover("other", &signature).ok().as_deref(), Some(SERVER_ID));
        // A refused signature stays refused and is not remembered.
        let before = signers.len();
        let high_s = format!("{}{}", &signature[..64], "f".repeat(66));
        assert_eq!(signers.recover("poll", &high_s), recover_id("poll", &high_s));
        assert!(signers.recover("poll", &high_s).is_err());
        assert_eq!(signers.len(), before);
    }

    #[test]
    fn recent_signers_stay_bounded_and_keep_what_is_in_use() {
        let signers = RecentSigners::new(4);
        let key = PrivateKey::generate();
        let polled = key.sign("assign");
        for n in 0..50 {
            let payload = format!("submit {n}");
            assert_eq!(signers.recover(&payload, &key.sign(&payload)).unwrap(), key.id());
            // A request polled all along is carried from generation to generation.
            assert_eq!(signers.recover("assign", &polled).unwrap(), key.id());
            assert!(signers.len() <= 4, "{} remembered", signers.len());
        }
        let [newer, older] = &*signers.generations();
        let assign = (polled, sha3(b"assign"));
        assert!(newer.contains_key(&assign) || older.contains_key(&assign));
    }

    #[test]
    fn a_repeated_payload_gets_the_signature_a_fresh_signer_computes() {
        let key = PrivateKey::generate();
        let clone = key.clone();
        let first = key.sign("assign");
        assert_eq!(clone.sign("assign"), first, "clones share what was signed last");
        let other = key.sign("close");
        assert_ne!(other, first);
        assert_eq!(recover_id("close", &other).unwrap(), key.id());
        assert_eq!(key.sign("assign"), first);
        for n in 0..2 * SIGNATURES_KEPT {
            let payload = format!("log {n}");
            assert_eq!(recover_id(&payload, &key.sign(&payload)).unwrap(), key.id());
        }
        assert!(key.last_signed().len() <= SIGNATURES_KEPT);
        let big = "x".repeat(KEPT_PAYLOAD_MAX + 1);
        assert_eq!(recover_id(&big, &key.sign(&big)).unwrap(), key.id());
        assert!(key.last_signed().iter().all(|(payload, _)| payload.len() <= KEPT_PAYLOAD_MAX), "not kept");
        assert_eq!(key.sign("assign"), first, "forgotten, then signed again alike");
        let fresh = PrivateKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!(fresh.sign("assign"), first, "what a key with nothing remembered signs");
        assert_eq!(fresh, key, "keys compare by their secret only");
    }
}

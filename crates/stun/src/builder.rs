//! Writing messages into caller-owned buffers (RFC 8489 §5, §14, and the
//! length adjustments of §14.5–§14.7). No allocation.
use crate::attr::{pad4, AttrType, Attribute};
use crate::error::Error;
use crate::integrity::{fingerprint, IntegrityKey};
use crate::types::{MessageType, TransactionId};
use crate::{HEADER_LEN, MAGIC_COOKIE};

/// Builds one message in a caller-provided buffer.
///
/// ```
/// use tern_stun::*;
/// let key = IntegrityKey::short_term("secret-password");
/// let mut buf = [0u8; 256];
/// let mut b = MessageBuilder::new(
///     &mut buf,
///     MessageType::new(Method::BINDING, Class::Request),
///     TransactionId([7; 12]),
/// )?;
/// b.add(&Attribute::Username("remote:local"))?;
/// b.add(&Attribute::Priority(1_853_824_767))?;
/// b.add(&Attribute::IceControlling(42))?;
/// b.add(&Attribute::UseCandidate)?;
/// b.message_integrity(&key)?;
/// b.fingerprint()?;
/// let len = b.finish();
/// let msg = Message::parse(&buf[..len])?;
/// msg.verify_integrity(&key)?;
/// msg.verify_fingerprint()?;
/// # Ok::<(), tern_stun::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    tid: TransactionId,
    padding: u8,
    sealed: bool,
}

impl<'b> MessageBuilder<'b> {
    /// Starts a message: writes the header into `buf`.
    pub fn new(buf: &'b mut [u8], typ: MessageType, tid: TransactionId) -> Result<Self, Error> {
        let head = buf
            .get_mut(..HEADER_LEN)
            .ok_or(Error::misuse("buffer too small for a STUN header"))?;
        head[0..2].copy_from_slice(&typ.to_u16().to_be_bytes());
        head[2..4].fill(0);
        head[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        head[8..20].copy_from_slice(tid.bytes());
        Ok(Self {
            buf,
            len: HEADER_LEN,
            tid,
            padding: 0,
            sealed: false,
        })
    }

    /// The byte written into attribute padding (default 0). RFC 8489 lets
    /// senders pick any value; RFC 5769's request vector uses 0x20.
    pub fn padding_byte(&mut self, byte: u8) -> &mut Self {
        self.padding = byte;
        self
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether only the header has been written.
    pub fn is_empty(&self) -> bool {
        self.len == HEADER_LEN
    }

    /// The message so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Reserves an attribute of `value_len` bytes, writes its header and
    /// padding, updates the length field, and returns the value's range.
    fn reserve(
        &mut self,
        typ: AttrType,
        value_len: usize,
    ) -> Result<core::ops::Range<usize>, Error> {
        if self.sealed {
            return Err(Error::misuse("attribute after FINGERPRINT"));
        }
        if value_len > usize::from(u16::MAX) {
            return Err(Error::misuse("attribute value longer than 65535 bytes"));
        }
        let start = self.len;
        let end = start + 4 + pad4(value_len);
        if end - HEADER_LEN > usize::from(u16::MAX) {
            return Err(Error::misuse("message longer than the length field allows"));
        }
        let out = self
            .buf
            .get_mut(start..end)
            .ok_or(Error::misuse("buffer too small for the message"))?;
        out[0..2].copy_from_slice(&typ.0.to_be_bytes());
        out[2..4].copy_from_slice(&(value_len as u16).to_be_bytes());
        out[4 + value_len..].fill(self.padding);
        self.len = end;
        self.set_length(end - HEADER_LEN);
        Ok(start + 4..start + 4 + value_len)
    }

    fn set_length(&mut self, len: usize) {
        self.buf[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    }

    /// Appends an attribute with a raw value, exactly as given.
    pub fn add_raw(&mut self, typ: AttrType, value: &[u8]) -> Result<&mut Self, Error> {
        let r = self.reserve(typ, value.len())?;
        self.buf[r].copy_from_slice(value);
        Ok(self)
    }

    /// Appends a typed attribute. MESSAGE-INTEGRITY, -SHA256 and FINGERPRINT
    /// are computed by [`Self::message_integrity`],
    /// [`Self::message_integrity_sha256`] and [`Self::fingerprint`]; adding
    /// them here copies the given value as is.
    pub fn add(&mut self, attr: &Attribute<'_>) -> Result<&mut Self, Error> {
        attr.check_encodable()?;
        let r = self.reserve(attr.attr_type(), attr.encoded_len())?;
        let tid = self.tid;
        attr.encode_value(&mut self.buf[r], &tid);
        Ok(self)
    }

    /// Appends MESSAGE-INTEGRITY (§14.5): HMAC-SHA1 over the message so far
    /// with the length field counting this attribute.
    pub fn message_integrity(&mut self, key: &IntegrityKey) -> Result<&mut Self, Error> {
        let r = self.reserve(AttrType::MESSAGE_INTEGRITY, 20)?;
        let mac = key.hmac_sha1(&[&self.buf[..r.start - 4]]);
        self.buf[r].copy_from_slice(&mac);
        Ok(self)
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (§14.6), full length (32 bytes).
    pub fn message_integrity_sha256(&mut self, key: &IntegrityKey) -> Result<&mut Self, Error> {
        self.message_integrity_sha256_truncated(key, 32)
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 truncated to `len` bytes (16 to 32,
    /// a multiple of 4, §14.6).
    pub fn message_integrity_sha256_truncated(
        &mut self,
        key: &IntegrityKey,
        len: usize,
    ) -> Result<&mut Self, Error> {
        if !(16..=32).contains(&len) || len % 4 != 0 {
            return Err(Error::misuse(
                "MESSAGE-INTEGRITY-SHA256 length must be 16 to 32, a multiple of 4",
            ));
        }
        let r = self.reserve(AttrType::MESSAGE_INTEGRITY_SHA256, len)?;
        let mac = key.hmac_sha256(&[&self.buf[..r.start - 4]]);
        self.buf[r].copy_from_slice(&mac[..len]);
        Ok(self)
    }

    /// Appends FINGERPRINT (§14.7); nothing may follow it.
    pub fn fingerprint(&mut self) -> Result<&mut Self, Error> {
        let r = self.reserve(AttrType::FINGERPRINT, 4)?;
        let crc = fingerprint(&self.buf[..r.start - 4]);
        self.buf[r].copy_from_slice(&crc.to_be_bytes());
        self.sealed = true;
        Ok(self)
    }

    /// Finishes the message and returns its length in bytes.
    pub fn finish(self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Class, Message, Method};

    fn binding_request(buf: &mut [u8]) -> Result<MessageBuilder<'_>, Error> {
        MessageBuilder::new(
            buf,
            MessageType::new(Method::BINDING, Class::Request),
            TransactionId([1; 12]),
        )
    }

    #[test]
    fn small_buffers_are_errors_not_panics() {
        for n in 0..64 {
            let mut buf = vec![0u8; n];
            let r = binding_request(&mut buf).and_then(|mut b| {
                b.add(&Attribute::Username("abcdefgh"))?;
                b.fingerprint()?;
                Ok(b.finish())
            });
            if n < 20 + 12 + 8 {
                assert!(r.is_err(), "{n}");
            } else {
                assert_eq!(r, Ok(40));
            }
        }
    }

    #[test]
    fn nothing_after_fingerprint() {
        let mut buf = [0u8; 128];
        let mut b = binding_request(&mut buf).unwrap();
        b.fingerprint().unwrap();
        assert_eq!(
            b.add(&Attribute::Priority(1)).unwrap_err().kind(),
            crate::ErrorKind::ApiMisuse
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let mut buf = [0u8; 2048];
        let mut b = binding_request(&mut buf).unwrap();
        let long = "x".repeat(514);
        assert!(b.add(&Attribute::Username(&long)).is_err());
        assert!(b
            .add(&Attribute::ErrorCode(crate::ErrorCode {
                code: 700,
                reason: ""
            }))
            .is_err());
        assert!(b
            .message_integrity_sha256_truncated(&IntegrityKey::from_bytes(b"k"), 12)
            .is_err());
        assert!(b.is_empty());
    }

    #[test]
    fn length_field_tracks_every_attribute() {
        let mut buf = [0u8; 128];
        let mut b = binding_request(&mut buf).unwrap();
        b.add(&Attribute::Software("abc")).unwrap();
        assert_eq!(&b.as_bytes()[2..4], &[0, 8]);
        b.add(&Attribute::UseCandidate).unwrap();
        assert_eq!(&b.as_bytes()[2..4], &[0, 12]);
        let n = b.finish();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(m.software(), Some("abc"));
        assert!(m.use_candidate());
    }
}

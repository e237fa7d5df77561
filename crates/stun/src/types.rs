//! Header vocabulary: method, class, message type, transaction id (RFC 8489 §5).
use core::fmt;

/// A STUN method: 12 bits (§5, §18.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Method(u16);

impl Method {
    /// Binding (RFC 8489).
    pub const BINDING: Method = Method(0x001);
    /// Allocate (RFC 8656).
    pub const ALLOCATE: Method = Method(0x003);
    /// Refresh (RFC 8656).
    pub const REFRESH: Method = Method(0x004);
    /// Send (RFC 8656, indication only).
    pub const SEND: Method = Method(0x006);
    /// Data (RFC 8656, indication only).
    pub const DATA: Method = Method(0x007);
    /// CreatePermission (RFC 8656).
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// ChannelBind (RFC 8656).
    pub const CHANNEL_BIND: Method = Method(0x009);

    /// A method from its 12-bit number; `None` if it does not fit 12 bits.
    pub const fn new(value: u16) -> Option<Method> {
        if value <= 0x0FFF {
            Some(Method(value))
        } else {
            None
        }
    }
    /// The 12-bit method number.
    pub const fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match *self {
            Method::BINDING => "Binding",
            Method::ALLOCATE => "Allocate",
            Method::REFRESH => "Refresh",
            Method::SEND => "Send",
            Method::DATA => "Data",
            Method::CREATE_PERMISSION => "CreatePermission",
            Method::CHANNEL_BIND => "ChannelBind",
            _ => return write!(f, "Method({:#05x})", self.0),
        };
        f.write_str(name)
    }
}

/// The class of a message (§5): the two C bits of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// 0b00
    Request,
    /// 0b01
    Indication,
    /// 0b10
    SuccessResponse,
    /// 0b11
    ErrorResponse,
}

/// The 14-bit message type: method and class interleaved (§5, Figure 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The method.
    pub method: Method,
    /// The class.
    pub class: Class,
}

impl MessageType {
    /// A message type from its parts.
    pub const fn new(method: Method, class: Class) -> Self {
        Self { method, class }
    }

    /// Decodes the 16-bit type field; `None` if the top two bits are set.
    pub const fn from_u16(raw: u16) -> Option<Self> {
        if raw & 0xC000 != 0 {
            return None;
        }
        // M11..M7 at bits 13..9, C1 at 8, M6..M4 at 7..5, C0 at 4, M3..M0 at 3..0.
        let method = (raw & 0x000F) | ((raw & 0x00E0) >> 1) | ((raw & 0x3E00) >> 2);
        let class = match ((raw >> 7) & 0b10) | ((raw >> 4) & 0b01) {
            0b00 => Class::Request,
            0b01 => Class::Indication,
            0b10 => Class::SuccessResponse,
            _ => Class::ErrorResponse,
        };
        Some(Self {
            method: Method(method),
            class,
        })
    }

    /// Encodes the 16-bit type field.
    pub const fn to_u16(self) -> u16 {
        let m = self.method.0;
        let c = match self.class {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::SuccessResponse => 0b10,
            Class::ErrorResponse => 0b11,
        };
        (m & 0x000F)
            | ((m & 0x0070) << 1)
            | ((m & 0x0F80) << 2)
            | ((c & 0b01) << 4)
            | ((c & 0b10) << 7)
    }
}

/// The 96-bit transaction id (§5, §6).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TransactionId(pub [u8; 12]);

impl TransactionId {
    /// The bytes.
    pub const fn bytes(&self) -> &[u8; 12] {
        &self.0
    }
}

impl From<[u8; 12]> for TransactionId {
    fn from(b: [u8; 12]) -> Self {
        Self(b)
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransactionId(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8489_5_message_type_encoding() {
        // Figure 3 and the worked values in §5: Binding request 0x0001,
        // success 0x0101, error 0x0111; indication bit 0x0010.
        let cases = [
            (Method::BINDING, Class::Request, 0x0001),
            (Method::BINDING, Class::Indication, 0x0011),
            (Method::BINDING, Class::SuccessResponse, 0x0101),
            (Method::BINDING, Class::ErrorResponse, 0x0111),
            (Method::ALLOCATE, Class::Request, 0x0003),
            (Method::SEND, Class::Indication, 0x0016),
            (Method::DATA, Class::Indication, 0x0017),
            (Method::CHANNEL_BIND, Class::ErrorResponse, 0x0119),
        ];
        for (m, c, raw) in cases {
            let t = MessageType::new(m, c);
            assert_eq!(t.to_u16(), raw, "{m:?} {c:?}");
            assert_eq!(MessageType::from_u16(raw), Some(t));
        }
    }

    #[test]
    fn every_14_bit_type_round_trips() {
        for raw in 0u16..0x4000 {
            let t = MessageType::from_u16(raw).expect("14-bit");
            assert_eq!(t.to_u16(), raw);
        }
        assert_eq!(MessageType::from_u16(0x4001), None);
        assert_eq!(MessageType::from_u16(0x8001), None);
    }

    #[test]
    fn method_is_12_bits() {
        assert_eq!(Method::new(0x0FFF).map(Method::value), Some(0x0FFF));
        assert_eq!(Method::new(0x1000), None);
    }
}

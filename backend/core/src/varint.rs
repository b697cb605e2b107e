//! Variable-length integers, for what a branch keeps per write.
//!
//! A branch keeps every event it logged and every write it applied for the
//! whole run (see [`crate::log::PackedLog`] and
//! [`crate::branch::AppliedLog`]). As structs those cost a fixed 80 to 140
//! bytes each plus an allocation per write set, for values that are mostly
//! small (a clock in the thousands, a branch id below 100, an amount of a
//! few dollars). Written as LEB128 varints (7 bits a byte, the high bit
//! set when more follow) they take a byte or three each.
//!
//! Only this crate writes and reads these bytes, in memory: a reader that
//! finds them cut short has met a bug, and panics saying so.

/// Appends `value`, 7 bits a byte, lowest first.
pub(crate) fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a signed `value`, zigzag-coded so that small negatives stay short.
pub(crate) fn put_signed(out: &mut Vec<u8>, value: i64) {
    put(out, ((value << 1) ^ (value >> 63)) as u64);
}

/// Reads back what [`put`] and [`put_signed`] wrote, in order.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    /// Nothing left to read.
    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes not read yet.
    pub(crate) fn bytes_left(&self) -> usize {
        self.bytes.len()
    }

    /// The next `n` bytes as they are (for a record read later).
    pub(crate) fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        head
    }

    pub(crate) fn byte(&mut self) -> u8 {
        self.take(1)[0]
    }

    pub(crate) fn u64(&mut self) -> u64 {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte();
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return value;
            }
        }
        panic!("a packed varint longer than 10 bytes: the packed record is corrupt (a bug)")
    }

    pub(crate) fn i64(&mut self) -> i64 {
        let zigzag = self.u64();
        ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64)
    }

    pub(crate) fn usize(&mut self) -> usize {
        usize::try_from(self.u64()).expect("a packed length fits in memory")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_reads_back_as_written() {
        let values = [0, 1, 127, 128, 300, 1 << 35, u64::MAX - 1, u64::MAX];
        let signed = [0, -1, 1, -64, 64, i64::MIN, i64::MAX];
        let mut bytes = Vec::new();
        for v in values {
            put(&mut bytes, v);
        }
        for v in signed {
            put_signed(&mut bytes, v);
        }
        let mut r = Reader::new(&bytes);
        assert_eq!(values.map(|_| r.u64()), values);
        assert_eq!(signed.map(|_| r.i64()), signed);
        assert!(r.is_empty());
    }

    #[test]
    fn small_values_take_one_byte() {
        let mut bytes = Vec::new();
        put(&mut bytes, 127);
        put_signed(&mut bytes, -64);
        assert_eq!(bytes.len(), 2);
    }
}

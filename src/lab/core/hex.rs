//! Bytes as hex text, for the places that keep pixels in JSON (worker messages, "my digits" in
//! localStorage, the data previews), where a byte array would take up to four characters a byte.
//! Written by hand: two small functions, not worth a dependency.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Two lower-case hex digits per byte.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// The bytes of `text`, or `None` for an odd length or a character that is not a hex digit.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    t.chunks(2).map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_bad_text_is_refused() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        assert_eq!(encode(&[0, 15, 16, 255]), "000f10ff");
        assert_eq!(decode("0F"), Some(vec![15]), "upper case reads too");
        assert_eq!(decode("abc"), None, "odd length");
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("+f"), None, "a sign is not a digit");
    }
}

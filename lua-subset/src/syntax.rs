//! Guards run before full_moon parses, so pathological inputs fail cleanly
//! instead of exhausting the stack.

use crate::diag::Span;

/// Maximum nesting of brackets and blocks we accept.
pub const MAX_DEPTH: usize = 48;

/// The position where nesting first exceeds [`MAX_DEPTH`], if it does.
/// Counting is lexical and rough (strings and comments are skipped), which is
/// enough to keep the recursive-descent parser within its stack.
pub fn too_deep(src: &str) -> Option<Span> {
    let b = src.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    let mut unary_run = 0usize;
    while i < b.len() {
        let c = b[i];
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                // Comment: skip to the end of the line (long comments end at `]]`).
                if b.get(i + 2) == Some(&b'[') {
                    if let Some(end) = src[i..].find("]]") {
                        i += end + 2;
                        continue;
                    }
                }
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                match &src[start..i] {
                    "function" | "do" | "then" | "repeat" => depth += 1,
                    "end" | "until" | "elseif" => depth = depth.saturating_sub(1),
                    "not" => unary_run += 1,
                    _ => unary_run = 0,
                }
                if depth > MAX_DEPTH || unary_run > MAX_DEPTH {
                    return Some(Span::new(start, i));
                }
                continue;
            }
            b'-' | b'~' | b'#' => unary_run += 1,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => unary_run = 0,
        }
        if depth > MAX_DEPTH || unary_run > MAX_DEPTH {
            return Some(Span::new(i, i + 1));
        }
        i += 1;
    }
    None
}

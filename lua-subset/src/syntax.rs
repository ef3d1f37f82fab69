//! Guards run before full_moon parses, so pathological inputs fail cleanly
//! instead of exhausting the stack.

use crate::diag::Span;

/// Maximum nesting of brackets and blocks we accept.
pub const MAX_DEPTH: usize = 48;

/// Maximum operator characters in one expression (full_moon computes spans
/// of operator chains recursively).
pub const MAX_CHAIN: usize = 400;

/// What [`precheck`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Brackets, blocks or operator chains nest too deeply.
    TooDeep,
    /// A backtick, which the Lua 5.4 lexer does not know.
    Backtick,
}

/// The first problem that would trouble the parser, if any.
pub fn precheck(src: &str) -> Option<(Span, Problem)> {
    // Inside a string or comment a backtick is harmless to Lua, but full_moon's
    // lexer (without Luau) cannot handle one anywhere outside: check them all.
    for (i, _) in src.match_indices('`') {
        if outside_strings(src, i) {
            return Some((Span::new(i, i + 1), Problem::Backtick));
        }
    }
    too_deep(src).map(|s| (s, Problem::TooDeep))
}

/// Whether full_moon parses `source` without errors (guards included): the
/// parse stage alone, so benchmarks can show what it costs.
pub fn parses(source: &str) -> bool {
    precheck(source).is_none()
        && full_moon::parse_fallible(source, full_moon::LuaVersion::lua54())
            .errors()
            .is_empty()
}

/// Whether byte `at` is outside string literals and comments (a rough scan).
fn outside_strings(src: &str, at: usize) -> bool {
    let b = src.as_bytes();
    let mut i = 0;
    while i < at {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                if i >= at {
                    return false;
                }
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= at {
                    return false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// The position where nesting first exceeds [`MAX_DEPTH`], if it does.
/// Counting is lexical and rough (strings and comments are skipped), which is
/// enough to keep the recursive-descent parser within its stack.
pub fn too_deep(src: &str) -> Option<Span> {
    let b = src.as_bytes();
    let mut depth: usize = 0;
    let mut i = 0;
    let mut unary_run = 0usize;
    let mut chain = 0usize;
    // Counters only exceed their limits where they grow: checked there.
    let over = |depth: usize, unary_run: usize, chain: usize| {
        depth > MAX_DEPTH || unary_run > MAX_DEPTH || chain > MAX_CHAIN
    };
    while i < b.len() {
        let c = b[i];
        match CLASS[c as usize] {
            Class::Blank => {
                // Runs of blanks change no counter: skip them whole.
                i += run_of(&b[i..], Class::Blank);
                continue;
            }
            Class::Other => {
                // Digits and the like: a run ends a unary run, nothing else.
                unary_run = 0;
                i += run_of(&b[i..], Class::Other);
                continue;
            }
            Class::Word => {
                let start = i;
                i += b[i..]
                    .iter()
                    .position(|&c| !IDENT[c as usize])
                    .unwrap_or(b.len() - i);
                // Keywords are 2 to 8 lowercase letters: skip the others fast.
                let word = &b[start..i];
                let kw = if (2..=8).contains(&word.len()) && word[0].is_ascii_lowercase() {
                    keyword(word)
                } else {
                    Kw::Other
                };
                match kw {
                    Kw::Open => {
                        depth += 1;
                        chain = 0;
                    }
                    Kw::Close => {
                        depth = depth.saturating_sub(1);
                        chain = 0;
                    }
                    Kw::Not => unary_run += 1,
                    Kw::Logic => {
                        unary_run = 0;
                        chain += 1;
                    }
                    Kw::Stmt => {
                        unary_run = 0;
                        chain = 0;
                    }
                    Kw::Other => unary_run = 0,
                }
                if over(depth, unary_run, chain) {
                    return Some(Span::new(start, i));
                }
                continue;
            }
            Class::Minus if b.get(i + 1) == Some(&b'-') => {
                // Comment: skip to the end of the line (long comments end at `]]`).
                if b.get(i + 2) == Some(&b'[') {
                    if let Some(end) = src[i..].find("]]") {
                        i += end + 2;
                        continue;
                    }
                }
                i = src[i..].find('\n').map_or(b.len(), |n| i + n);
                continue;
            }
            Class::Quote => {
                i += 1;
                while i < b.len() && b[i] != c && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            Class::Open => {
                depth += 1;
                if over(depth, unary_run, chain) {
                    return Some(Span::new(i, i + 1));
                }
            }
            Class::Close => depth = depth.saturating_sub(1),
            Class::Minus | Class::Unary => {
                unary_run += 1;
                chain += 1;
                if over(depth, unary_run, chain) {
                    return Some(Span::new(i, i + 1));
                }
            }
            Class::Equals
                if b.get(i + 1) != Some(&b'=')
                    && !matches!(b.get(i.wrapping_sub(1)), Some(b'=' | b'<' | b'>' | b'~')) =>
            {
                chain = 0;
                unary_run = 0;
            }
            Class::Separator => {
                chain = 0;
                unary_run = 0;
            }
            Class::Equals | Class::Binary => {
                chain += 1;
                unary_run = 0;
                if over(depth, unary_run, chain) {
                    return Some(Span::new(i, i + 1));
                }
            }
        }
        i += 1;
    }
    None
}

/// The length of the run of bytes of class `class` that starts `b`.
fn run_of(b: &[u8], class: Class) -> usize {
    b.iter()
        .position(|&c| CLASS[c as usize] != class)
        .unwrap_or(b.len())
}

/// What a byte is to [`too_deep`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Space, tab, carriage return, newline.
    Blank,
    /// Starts an identifier or keyword.
    Word,
    /// `-`: a unary or binary minus, or a comment.
    Minus,
    /// `~` and `#` (a unary `~` or binary xor counted alike).
    Unary,
    /// `"` and `'`.
    Quote,
    /// `(`, `{`, `[`.
    Open,
    /// `)`, `}`, `]`.
    Close,
    /// `=`: an assignment or part of a comparison.
    Equals,
    /// `,` and `;`.
    Separator,
    /// The other operator characters.
    Binary,
    /// Digits and anything else.
    Other,
}

const CLASS: [Class; 256] = {
    let mut t = [Class::Other; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b' ' | b'\t' | b'\r' | b'\n' => Class::Blank,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => Class::Word,
            b'-' => Class::Minus,
            b'~' | b'#' => Class::Unary,
            b'"' | b'\'' => Class::Quote,
            b'(' | b'{' | b'[' => Class::Open,
            b')' | b'}' | b']' => Class::Close,
            b'=' => Class::Equals,
            b',' | b';' => Class::Separator,
            b'+' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'<' | b'>' | b'.' => Class::Binary,
            _ => Class::Other,
        };
        c += 1;
    }
    t
};

/// Bytes that continue an identifier (ASCII letters, digits and `_`).
const IDENT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_';
        c += 1;
    }
    t
};

/// How a word affects [`too_deep`]'s counters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kw {
    /// Opens a block and ends an operator chain (`function`, `do`, `then`,
    /// `repeat`); a run of `not` continues across it.
    Open,
    /// Closes a block and ends an operator chain (`end`, `until`, `elseif`).
    Close,
    /// `not`.
    Not,
    /// `and`, `or`.
    Logic,
    /// Starts a statement: ends an operator chain.
    Stmt,
    /// Any other word.
    Other,
}

fn keyword(word: &[u8]) -> Kw {
    match word {
        b"function" | b"do" | b"then" | b"repeat" => Kw::Open,
        b"end" | b"until" | b"elseif" => Kw::Close,
        b"not" => Kw::Not,
        b"and" | b"or" => Kw::Logic,
        b"local" | b"return" | b"else" | b"if" | b"while" | b"for" => Kw::Stmt,
        _ => Kw::Other,
    }
}

#[cfg(test)]
mod backtick_tests {
    use super::*;

    #[test]
    fn a_backtick_after_one_in_a_comment_is_found() {
        let src = "--`\n`";
        assert_eq!(precheck(src), Some((Span::new(4, 5), Problem::Backtick)));
    }
}

//! Splits one line of assembly into tokens, each with its 1-based column.
//! A `#` starts a comment that runs to the end of the line.

use super::AsmError;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    /// Mnemonics, labels, directive names (`.map`), keywords (`local`, `fetch`).
    Ident(&'a str),
    /// `%rN`, already checked to be r0..=r10.
    Reg(u8),
    /// An unsigned number (decimal or `0x` hex); signs are separate tokens.
    Num(u64),
    /// One of `, [ ] + - : =`.
    Punct(char),
}

/// A token and the column where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub tok: Tok<'a>,
    pub col: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '.'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Tokens of `text` (line number `line`, for errors).
pub(super) fn lex_line(text: &str, line: usize) -> Result<Vec<Token<'_>>, AsmError> {
    let mut out = Vec::new();
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    // Columns count characters, not bytes, so they match what editors show.
    while i < bytes.len() {
        let (start, c) = bytes[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '#' {
            break;
        }
        let scan = |i: &mut usize, pred: fn(char) -> bool| {
            while *i < bytes.len() && pred(bytes[*i].1) {
                *i += 1;
            }
            bytes.get(*i).map_or(text.len(), |b| b.0)
        };
        if is_ident_start(c) {
            let end = scan(&mut i, is_ident_char);
            out.push(Token {
                tok: Tok::Ident(&text[start..end]),
                col,
            });
        } else if c.is_ascii_digit() {
            let end = scan(&mut i, |c| c.is_ascii_alphanumeric() || c == '_');
            let lit = &text[start..end];
            out.push(Token {
                tok: Tok::Num(parse_number(lit, line, col)?),
                col,
            });
        } else if c == '%' {
            i += 1;
            let end = scan(&mut i, |c| c.is_ascii_alphanumeric());
            let name = &text[start + 1..end];
            let n = name
                .strip_prefix('r')
                .filter(|d| !d.is_empty() && d.len() <= 2 && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<u8>().ok())
                .filter(|&n| n <= 10);
            match n {
                Some(n) => out.push(Token {
                    tok: Tok::Reg(n),
                    col,
                }),
                None => {
                    return Err(AsmError::new(
                        line,
                        col,
                        format!("bad register %{name} (registers are %r0..%r10)"),
                    ))
                }
            }
        } else if ",[]+-:=".contains(c) {
            out.push(Token {
                tok: Tok::Punct(c),
                col,
            });
            i += 1;
        } else {
            return Err(AsmError::new(
                line,
                col,
                format!("unexpected character {c:?}"),
            ));
        }
    }
    Ok(out)
}

/// Parses a decimal or `0x` hexadecimal literal.
fn parse_number(lit: &str, line: usize, col: usize) -> Result<u64, AsmError> {
    let (digits, radix) = match lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (lit, 10),
    };
    let bad = || AsmError::new(line, col, format!("bad number {lit:?}"));
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(bad());
    }
    u64::from_str_radix(digits, radix)
        .map_err(|_| AsmError::new(line, col, format!("number {lit} does not fit in 64 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: &[Tok<'_>]) {
        let toks: Vec<Tok<'_>> = lex_line(text, 1)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect();
        assert_eq!(toks, expected);
    }

    #[test]
    fn lexes_operands_and_comments() {
        check(
            "ldxh %r2, [%r1+0x0c] # comment",
            &[
                Tok::Ident("ldxh"),
                Tok::Reg(2),
                Tok::Punct(','),
                Tok::Punct('['),
                Tok::Reg(1),
                Tok::Punct('+'),
                Tok::Num(12),
                Tok::Punct(']'),
            ],
        );
        check(
            "lbl: exit",
            &[Tok::Ident("lbl"), Tok::Punct(':'), Tok::Ident("exit")],
        );
        check("  # only a comment", &[]);
    }

    #[test]
    fn reports_columns_of_bad_tokens() {
        let e = lex_line("mov %r11, 1", 3).unwrap_err();
        assert_eq!((e.line, e.col), (3, 5));
        let e = lex_line("mov %r1, 0x", 1).unwrap_err();
        assert_eq!(e.col, 10);
        let e = lex_line("mov %r1, 99999999999999999999", 1).unwrap_err();
        assert!(e.message.contains("64 bits"), "{e}");
        let e = lex_line("mov %r1, $1", 1).unwrap_err();
        assert_eq!(e.col, 10);
    }
}

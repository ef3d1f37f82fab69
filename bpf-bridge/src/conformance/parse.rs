//! Parsing `.data` files.

use crate::isa::Insn;

/// What a test expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// r0 at exit.
    Result(u64),
    /// Load or run must fail; the text is the upstream engine's message (informative).
    Error(String),
}

/// One parsed test vector.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Vector {
    /// The `-- asm` text, if any.
    pub asm: Option<String>,
    /// The `-- raw` program, if any (preferred over `asm` when both are given).
    pub raw: Option<Vec<Insn>>,
    /// The `-- mem` bytes (empty when absent).
    pub mem: Vec<u8>,
    /// `-- result` or `-- error`; `None` when neither is given.
    pub expect: Option<Expect>,
}

/// Why a file yields no vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The file uses something this runner does not support (an unknown section).
    Skip(String),
    /// The file is malformed.
    Malformed(String),
}

fn hex_u64(s: &str) -> Option<u64> {
    let t = s.trim();
    let digits = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(digits, 16).ok()
}

/// Parses the text of a `.data` file.
pub fn parse(text: &str) -> Result<Vector, ParseError> {
    let mut v = Vector::default();
    let mut section: Option<String> = None;
    let mut body = String::new();
    let finish = |v: &mut Vector, name: &str, body: &str| -> Result<(), ParseError> {
        let lines = body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        match name {
            "asm" => v.asm = Some(body.to_string()),
            "raw" => {
                let insns = lines
                    .map(|l| {
                        hex_u64(l).map(Insn::from_u64).ok_or_else(|| {
                            ParseError::Malformed(format!("bad raw instruction `{l}`"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                v.raw = Some(insns);
            }
            "mem" => {
                for tok in lines.flat_map(str::split_whitespace) {
                    let b = u8::from_str_radix(tok.trim_start_matches("0x"), 16)
                        .map_err(|_| ParseError::Malformed(format!("bad memory byte `{tok}`")))?;
                    v.mem.push(b);
                }
            }
            "result" => {
                let l = lines.into_iter().next().unwrap_or("");
                let r =
                    hex_u64(l).ok_or_else(|| ParseError::Malformed(format!("bad result `{l}`")))?;
                v.expect = Some(Expect::Result(r));
            }
            "error" => v.expect = Some(Expect::Error(body.trim().to_string())),
            "c" | "no register offset" => {}
            other => return Err(ParseError::Skip(format!("unknown section `-- {other}`"))),
        }
        Ok(())
    };
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("-- ") {
            if let Some(prev) = section.take() {
                finish(&mut v, &prev, &body)?;
            }
            section = Some(name.trim().to_string());
            body.clear();
        } else if section.is_some() {
            body.push_str(line);
            body.push('\n');
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            return Err(ParseError::Malformed(format!(
                "text before the first section: `{line}`"
            )));
        }
    }
    if let Some(prev) = section {
        finish(&mut v, &prev, &body)?;
    }
    if v.asm.is_none() && v.raw.is_none() {
        return Err(ParseError::Malformed(
            "no `-- asm` or `-- raw` section".into(),
        ));
    }
    if v.expect.is_none() {
        return Err(ParseError::Malformed(
            "no `-- result` or `-- error` section".into(),
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections() {
        let text = "# c\n-- asm\nmov %r0, 1\nexit\n-- mem\n00 01\nff\n-- raw\n# x\n0x00000001000000b7\n0x0000000000000095\n-- result\n0x1\n-- no register offset\nwhatever\n";
        let v = parse(text).unwrap();
        assert_eq!(v.asm.as_deref(), Some("mov %r0, 1\nexit\n"));
        assert_eq!(v.mem, [0, 1, 0xff]);
        assert_eq!(v.raw.as_ref().map(Vec::len), Some(2));
        assert_eq!(v.raw.unwrap()[0], Insn::new(0xb7, 0, 0, 0, 1));
        assert_eq!(v.expect, Some(Expect::Result(1)));
    }

    #[test]
    fn unknown_sections_skip_and_garbage_is_malformed() {
        assert!(matches!(
            parse("-- asm\nexit\n-- weird\n-- result\n0x0\n"),
            Err(ParseError::Skip(_))
        ));
        assert!(matches!(
            parse("-- asm\nexit\n-- result\nzz\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("-- asm\nexit\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("junk\n-- asm\nexit\n-- result\n0\n"),
            Err(ParseError::Malformed(_))
        ));
        assert_eq!(
            parse("-- asm\nexit\n-- error\nbad\n").unwrap().expect,
            Some(Expect::Error("bad".into()))
        );
    }
}

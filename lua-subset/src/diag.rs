//! Diagnostics: plain data (byte span, message, hint) until rendered.

use std::fmt;

/// A byte range in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One problem found in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we know.
    pub hint: Option<String>,
    /// 1-based line of `span.start`.
    pub line: u32,
    /// 1-based column (in characters) of `span.start`.
    pub col: u32,
}

/// Every diagnostic of one compilation, with the source they point into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file name as given.
    pub file: String,
    /// The source text.
    pub source: String,
    /// The problems, in source order.
    pub items: Vec<Diagnostic>,
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (u32, u32) {
    let mut off = offset.min(source.len());
    while !source.is_char_boundary(off) {
        off -= 1;
    }
    let before = &source[..off];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line as u32, col as u32)
}

/// Line starts of a source, for many position lookups.
pub struct LineIndex<'s> {
    src: &'s str,
    starts: Vec<usize>,
    /// The source is ASCII: columns are byte distances.
    ascii: bool,
    /// The line of the last offset asked about: the code generator asks in
    /// nearly increasing order, so it or the next one usually answers again.
    last: std::cell::Cell<usize>,
}

impl<'s> LineIndex<'s> {
    /// Indexes `src`.
    pub fn new(src: &'s str) -> Self {
        LineIndex {
            src,
            starts: line_starts(src.as_bytes()),
            ascii: src.is_ascii(),
            last: std::cell::Cell::new(1),
        }
    }

    /// The 1-based line holding byte `off` (the number of line starts at or
    /// before it).
    fn line_of(&self, off: usize) -> usize {
        let holds = |l: usize| {
            self.starts.get(l - 1).is_some_and(|&s| s <= off)
                && self.starts.get(l).is_none_or(|&n| off < n)
        };
        let last = self.last.get();
        let line = if holds(last) {
            last
        } else if holds(last + 1) {
            last + 1
        } else {
            self.starts.partition_point(|&s| s <= off)
        };
        self.last.set(line);
        line
    }

    /// 1-based line and column (characters) of a byte offset, as [`line_col`].
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let mut off = offset.min(self.src.len());
        if self.ascii {
            let line = self.line_of(off);
            let col = off - self.starts[line - 1] + 1;
            return (line as u32, col as u32);
        }
        while !self.src.is_char_boundary(off) {
            off -= 1;
        }
        let line = self.line_of(off);
        let start = self.starts[line - 1];
        // Characters are the bytes that do not continue a UTF-8 sequence;
        // on the short start of one line, cheaper than `chars().count()`.
        let col = self.src.as_bytes()[start..off]
            .iter()
            .filter(|&&b| !is_continuation(b))
            .count()
            + 1;
        (line as u32, col as u32)
    }
}

/// Whether `b` continues a UTF-8 sequence (`0b10xx_xxxx`).
fn is_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

/// Offsets where lines start: 0 and after each `\n`. Newlines are sparse, so
/// words of 8 bytes are tested at once (the classic "has a zero byte" test
/// on the word xor `\n` repeated): its flags mark every newline and, above
/// one, maybe other bytes, so only the flagged bytes are looked at.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    const NEWLINES: u64 = ONES * b'\n' as u64;
    let mut starts = Vec::with_capacity(bytes.len() / 24 + 2);
    starts.push(0);
    let (words, rest) = bytes.as_chunks::<8>();
    for (k, word) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*word) ^ NEWLINES;
        let mut flags = x.wrapping_sub(ONES) & !x & HIGH;
        while flags != 0 {
            let j = flags.trailing_zeros() as usize / 8;
            if word[j] == b'\n' {
                starts.push(8 * k + j + 1);
            }
            flags &= flags - 1;
        }
    }
    let base = bytes.len() - rest.len();
    for (j, &b) in rest.iter().enumerate() {
        if b == b'\n' {
            starts.push(base + j + 1);
        }
    }
    starts
}

/// Collects diagnostics while a pass runs.
#[derive(Default, Debug)]
pub struct Sink {
    pub(crate) items: Vec<(Span, String, Option<String>)>,
}

impl Sink {
    /// Records an error.
    pub fn error(&mut self, span: Span, message: impl Into<String>, hint: Option<&str>) {
        self.items
            .push((span, message.into(), hint.map(|h| h.to_string())));
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Resolves positions against the source.
    pub fn finish(self, file: &str, source: &str) -> Diagnostics {
        let mut items: Vec<Diagnostic> = self
            .items
            .into_iter()
            .map(|(span, message, hint)| {
                let (line, col) = line_col(source, span.start as usize);
                Diagnostic {
                    span,
                    message,
                    hint,
                    line,
                    col,
                }
            })
            .collect();
        items.sort_by_key(|d| (d.span.start, d.span.end));
        items.dedup();
        Diagnostics {
            file: file.to_string(),
            source: source.to_string(),
            items,
        }
    }
}

#[derive(Debug)]
struct Rendered<'a> {
    head: String,
    d: &'a Diagnostic,
    src: miette::NamedSource<String>,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.head)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d
            .hint
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let len = (self.d.span.end - self.d.span.start).max(1) as usize;
        let start = (self.d.span.start as usize).min(self.src.inner().len());
        let len = len.min(self.src.inner().len().saturating_sub(start));
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some("here".to_string()),
            start,
            len,
        ))))
    }
}

impl Diagnostics {
    /// Renders every diagnostic rustc-style; the first line of each holds `FILE:LINE:COL`.
    pub fn render(&self) -> String {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_context_lines(1);
        let mut out = String::new();
        for d in &self.items {
            let head = format!("{}:{}:{}: error: {}", self.file, d.line, d.col, d.message);
            let r = Rendered {
                head,
                d,
                src: miette::NamedSource::new(&self.file, self.source.clone()),
            };
            let mut s = String::new();
            if handler.render_report(&mut s, &r).is_err() {
                s = format!("{}\n", r.head);
            }
            // miette prefixes the message with a marker; keep the location first.
            let s = s.trim_start();
            let s = s.strip_prefix('×').map_or(s, |t| t.trim_start());
            out.push_str(s);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod line_start_tests {
    use super::{line_col, line_starts, LineIndex};

    #[test]
    fn the_index_agrees_with_line_col_on_every_offset() {
        // Multi-byte characters, and ASCII only (columns are byte counts).
        for src in [
            "local é = 1\n  ü(ß) -- ✓\n\nx",
            "local e = 1\n  u(s) -- v\n\nx",
        ] {
            let index = LineIndex::new(src);
            // In order, backwards and leaping (the index remembers the last
            // line it answered).
            let n = src.len() + 2;
            let forward = 0..n;
            let backward = (0..n).rev();
            let leaping = (0..n).map(|k| k * 7 % n);
            for off in forward.chain(backward).chain(leaping) {
                assert_eq!(index.line_col(off), line_col(src, off), "offset {off}");
            }
        }
    }

    #[test]
    fn every_newline_position_is_found() {
        for len in 0..40 {
            for nl in 0..len {
                let mut text = vec![0x8a_u8; len];
                text[nl] = b'\n';
                if nl + 9 < len {
                    text[nl + 9] = b'\n';
                }
                let want: Vec<usize> = std::iter::once(0)
                    .chain((0..len).filter(|&i| text[i] == b'\n').map(|i| i + 1))
                    .collect();
                assert_eq!(line_starts(&text), want, "len {len}, newline at {nl}");
            }
        }
    }
}

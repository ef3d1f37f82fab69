//! The `.BTF.ext` section of ELF objects: `func_info` and `line_info` records
//! grouped by the ELF section their code is in, with byte offsets into it
//! (libbpf turns them into the kernel's per-instruction records).

use super::program::LineRecord;
use super::{TypeId, BTF_MAGIC};

/// Size of `struct btf_ext_header` with the CO-RE fields, as clang writes it.
const HEADER_LEN: u32 = 32;
/// `sizeof(struct bpf_func_info)`.
pub const FUNC_INFO_REC_SIZE: u32 = 8;
/// `sizeof(struct bpf_line_info)`.
pub const LINE_INFO_REC_SIZE: u32 = 16;

/// The records of one ELF code section.
#[derive(Clone, Debug, Default)]
pub struct ExtSection {
    /// `.BTF` string offset of the section name.
    pub name_off: u32,
    /// `(byte offset in the section, FUNC type id)`.
    pub funcs: Vec<(u32, TypeId)>,
    /// `(byte offset in the section, line record)`.
    pub lines: Vec<(u32, LineRecord)>,
}

/// Encodes `.BTF.ext` (header, func_info, line_info, empty CO-RE relocations).
/// Sections without records of a kind are left out of that kind's table, and
/// a kind without any records gets an empty table (libbpf rejects a table that
/// holds only its record size).
pub fn encode(sections: &[ExtSection]) -> Vec<u8> {
    let mut func = FUNC_INFO_REC_SIZE.to_le_bytes().to_vec();
    let mut line = LINE_INFO_REC_SIZE.to_le_bytes().to_vec();
    let put = |v: &mut Vec<u8>, w: u32| v.extend_from_slice(&w.to_le_bytes());
    for s in sections {
        if !s.funcs.is_empty() {
            put(&mut func, s.name_off);
            put(&mut func, s.funcs.len() as u32);
            for &(off, ty) in &s.funcs {
                put(&mut func, off);
                put(&mut func, ty);
            }
        }
        if !s.lines.is_empty() {
            put(&mut line, s.name_off);
            put(&mut line, s.lines.len() as u32);
            for (off, l) in &s.lines {
                put(&mut line, *off);
                put(&mut line, l.file_name_off);
                put(&mut line, l.line_off);
                put(&mut line, l.line_col());
            }
        }
    }
    for table in [&mut func, &mut line] {
        if table.len() == 4 {
            table.clear();
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
    out.push(1); // version
    out.push(0); // flags
    let (func_len, line_len) = (func.len() as u32, line.len() as u32);
    // Offsets are relative to the end of the header.
    for w in [
        HEADER_LEN,
        0,
        func_len,
        func_len,
        line_len,
        func_len + line_len,
        0,
    ] {
        put(&mut out, w);
    }
    out.extend_from_slice(&func);
    out.extend_from_slice(&line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let line = LineRecord {
            insn: 1,
            file_name_off: 5,
            line_off: 9,
            line: 3,
            col: 2,
        };
        let out = encode(&[ExtSection {
            name_off: 1,
            funcs: vec![(0, 7)],
            lines: vec![(8, line)],
        }]);
        let w = |i: usize| u32::from_le_bytes(out[i..i + 4].try_into().unwrap());
        assert_eq!(w(4), 32);
        assert_eq!((w(8), w(12)), (0, 4 + 8 + 8)); // func_info: rec size, sec header, 1 record
        assert_eq!((w(16), w(20)), (20, 4 + 8 + 16));
        assert_eq!(out.len(), 32 + 20 + 28);
        assert_eq!(
            &out[32..52],
            &[8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0]
        );
        assert_eq!(w(52 + 12), 8); // line insn_off in bytes
        assert_eq!(w(52 + 24), (3 << 10) | 2);
    }

    #[test]
    fn kinds_without_records_have_empty_tables() {
        let out = encode(&[ExtSection {
            name_off: 1,
            funcs: vec![(0, 7)],
            lines: vec![],
        }]);
        let w = |i: usize| u32::from_le_bytes(out[i..i + 4].try_into().unwrap());
        assert_eq!((w(8), w(12)), (0, 20));
        assert_eq!((w(16), w(20)), (20, 0));
        assert_eq!(out.len(), 32 + 20);
    }
}

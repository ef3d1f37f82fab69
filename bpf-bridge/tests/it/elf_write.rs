//! The ELF writer: object layout read back with the `object` crate, and the
//! real judge, `bpftool prog load` (libbpf), with the source lines it shows.

use crate::progs::*;
use bpf_bridge::elf::write::{write_object, WriteError};
use bpf_bridge::isa::{insns_to_bytes, Op};
use bpf_bridge::program::{MapDef, MapKind, ProgType, Program};
use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};
use std::path::PathBuf;
use std::process::Command;

#[test]
fn elf_object_layout_is_what_libbpf_expects() {
    let prog = count_protocols(MapKind::Hash);
    let bytes = write_object(&prog).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    assert_eq!(file.architecture(), object::Architecture::Bpf);
    assert_eq!(file.kind(), object::ObjectKind::Relocatable);
    for name in ["xdp", "license", ".maps", ".BTF", ".BTF.ext"] {
        assert!(file.section_by_name(name).is_some(), "no section {name}");
    }
    assert!(file.section_by_name(".text").is_none());
    let license = file.section_by_name("license").unwrap();
    assert_eq!(license.data().unwrap(), b"GPL\0");

    // Code: the program with map lddw immediates zeroed.
    let xdp = file.section_by_name("xdp").unwrap();
    let mut expect = prog.insns.clone();
    let map_slots: Vec<usize> = (0..expect.len())
        .filter(|&i| expect[i].code == 0x18 && expect[i].src() == 1)
        .collect();
    assert_eq!(map_slots.len(), 2);
    for &i in &map_slots {
        expect[i] = bpf_bridge::isa::Insn::new(0x18, expect[i].dst(), 0, 0, 0);
    }
    assert_eq!(xdp.data().unwrap(), insns_to_bytes(&expect));

    // Relocations: R_BPF_64_64 to the map's symbol at each map lddw.
    let relocs: Vec<(u64, object::elf::RelocationType, String)> = xdp
        .relocations()
        .map(|(off, r)| {
            let RelocationFlags::Elf { r_type } = r.flags() else {
                panic!("{r:?}")
            };
            let RelocationTarget::Symbol(s) = r.target() else {
                panic!("{r:?}")
            };
            let sym = file.symbol_by_index(s).unwrap();
            (off, r_type, sym.name().unwrap().to_string())
        })
        .collect();
    let expected: Vec<(u64, object::elf::RelocationType, String)> = map_slots
        .iter()
        .map(|&i| (i as u64 * 8, object::elf::R_BPF_64_64, "counts".to_string()))
        .collect();
    assert_eq!(relocs, expected);

    // Symbols: the program (global function) and the map (global object in .maps).
    let sym = |name: &str| file.symbols().find(|s| s.name() == Ok(name)).unwrap();
    let f = sym("count_protocols");
    assert_eq!(f.kind(), object::SymbolKind::Text);
    assert!(f.is_global());
    assert_eq!(f.size(), prog.insns.len() as u64 * 8);
    let m = sym("counts");
    assert_eq!(m.kind(), object::SymbolKind::Data);
    assert!(m.is_global());
    assert_eq!((m.address(), m.size()), (0, 32));
    assert!(sym("_license").is_global());
}

#[test]
fn elf_subprograms_go_to_text_with_a_call_relocation() {
    let prog = with_subprogram();
    let bytes = write_object(&prog).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let xdp = file.section_by_name("xdp").unwrap();
    let text = file.section_by_name(".text").unwrap();
    assert_eq!(xdp.size() + text.size(), prog.insns.len() as u64 * 8);
    let relocs: Vec<_> = xdp.relocations().collect();
    assert_eq!(relocs.len(), 1);
    let (off, r) = &relocs[0];
    assert_eq!(
        r.flags(),
        RelocationFlags::Elf {
            r_type: object::elf::R_BPF_64_32
        }
    );
    // The call's immediate is -1: libbpf adds symbol offset / 8 + imm + 1.
    let call = &xdp.data().unwrap()[*off as usize..*off as usize + 8];
    assert_eq!(call[4..8], (-1i32).to_le_bytes());
    let sub = file
        .symbols()
        .find(|s| s.name() == Ok("len_filter__sub6"))
        .unwrap();
    assert!(sub.is_local());
    assert_eq!(sub.section_index(), Some(text.index()));
}

#[test]
fn elf_writer_refuses_what_objects_cannot_express() {
    let value = Program::new(
        "v",
        ProgType::Xdp,
        bpf_bridge::isa::encode_program(&[
            Op::LoadMapValue {
                dst: r(1),
                map: 0,
                offset: 0,
            },
            mov(0, 2),
            EXIT,
        ]),
    );
    assert_eq!(
        write_object(&value),
        Err(WriteError::UnsupportedLddw { insn: 0, src: 2 })
    );
    let bad = Program::new(
        "b",
        ProgType::Xdp,
        bpf_bridge::isa::encode_program(&[Op::LoadMap { dst: r(1), map: 1 }, EXIT]),
    );
    assert!(matches!(
        write_object(&bad),
        Err(WriteError::MapIndex { map: 1, .. })
    ));
    let empty = Program::new("e", ProgType::Xdp, Vec::new());
    assert_eq!(write_object(&empty), Err(WriteError::Empty));
}

/// Runs bpftool; `None` after a visible skip line when it or bpf() is missing.
pub fn bpftool(args: &[&str]) -> Option<String> {
    if !kernel_usable() {
        return None;
    }
    let run = |exe: &str| Command::new(exe).args(args).output();
    let out = match run("bpftool").or_else(|_| run("/usr/sbin/bpftool")) {
        Ok(out) => out,
        Err(e) => {
            let msg = format!("bpftool not runnable ({e}); install the `bpftool` package");
            if required() {
                panic!("LUABPF_REQUIRE_KERNEL=1: {msg}");
            }
            crate::kernel::skip_line(&msg);
            return None;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bpftool {args:?} failed:\n{stdout}\n{stderr}"
    );
    // libbpf reports sections it could not use (and then ignores them) here.
    assert!(!stderr.contains("Error"), "bpftool {args:?}:\n{stderr}");
    Some(stdout)
}

fn required() -> bool {
    std::env::var("LUABPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}

#[cfg(target_os = "linux")]
fn kernel_usable() -> bool {
    let prog = Program::new(
        "probe",
        ProgType::Xdp,
        bpf_bridge::isa::encode_program(&[mov(0, 2), EXIT]),
    );
    match bpf_bridge::kernel::KernelProgram::load(&prog) {
        Ok(_) => true,
        Err(e) if crate::kernel::skip_if_unavailable(&e) => false,
        Err(e) => panic!("{e}"),
    }
}

#[cfg(not(target_os = "linux"))]
fn kernel_usable() -> bool {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: bpftool tests need Linux");
    false
}

/// A bpffs pin path (bpffs mounted if needed), removed on drop, and a
/// scratch file next to the object.
struct Scratch {
    pin: PathBuf,
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Scratch {
    fn new(tag: &str) -> Scratch {
        mount_bpffs();
        let unique = format!("luabpf_test_{}_{tag}", std::process::id());
        Scratch {
            pin: PathBuf::from("/sys/fs/bpf").join(&unique),
            files: Vec::new(),
            dirs: Vec::new(),
        }
    }

    fn file(&mut self, name: &str, data: &[u8]) -> String {
        let p = std::env::temp_dir().join(format!("luabpf_test_{}_{name}", std::process::id()));
        std::fs::write(&p, data).unwrap();
        self.files.push(p.clone());
        p.to_string_lossy().into_owned()
    }

    fn pin(&self) -> String {
        self.pin.to_string_lossy().into_owned()
    }

    /// A bpffs directory for `pinmaps`, removed with its pins on drop
    /// (bpffs names may not contain dots).
    fn pin_dir(&mut self) -> String {
        let mut dir = self.pin.clone().into_os_string();
        dir.push("_maps");
        let dir = PathBuf::from(dir);
        self.dirs.push(dir.clone());
        dir.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pin);
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
        for d in &self.dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn mount_bpffs() {
    static MOUNT: std::sync::Once = std::sync::Once::new();
    MOUNT.call_once(|| {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        if !mounts
            .lines()
            .any(|l| l.split(' ').nth(1) == Some("/sys/fs/bpf"))
        {
            let st = Command::new("mount")
                .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
                .status();
            assert!(
                st.is_ok_and(|s| s.success()),
                "mounting bpffs at /sys/fs/bpf"
            );
        }
    });
}

#[test]
fn bpftool_loads_the_object_and_shows_source_lines() {
    let prog = count_protocols(MapKind::Hash);
    let obj = write_object(&prog).unwrap();
    let mut s = Scratch::new("count");
    let path = s.file("count.o", &obj);
    let pin = s.pin();
    if bpftool(&["prog", "load", &path, &pin, "type", "xdp"]).is_none() {
        return;
    }
    let xlated = bpftool(&["prog", "dump", "xlated", "pinned", &pin, "linum"]).unwrap();
    assert!(
        xlated.contains("int count_protocols(struct xdp_md * ctx):"),
        "{xlated}"
    );
    for (text, line) in [
        ("if #pkt < 24 then return XDP_PASS end", 3),
        ("local proto = pkt:u8(23)", 4),
        ("counts[proto] = (counts[proto] or 0) + 1", 5),
        ("if proto == 17 then return XDP_DROP end", 6),
    ] {
        assert!(xlated.contains(text), "line {line} missing:\n{xlated}");
        assert!(
            xlated.contains(&format!("[file:filter.lua line_num:{line} line_col:5]")),
            "filter.lua line {line} missing:\n{xlated}"
        );
    }
    // libbpf created the map from its BTF definition.
    let maps = bpftool(&["prog", "show", "pinned", &pin]).unwrap();
    assert!(maps.contains("map_ids"), "{maps}");
    // And the program runs: a UDP frame is dropped.
    let frame = s.file("udp.bin", &ipv4_frame(17, 64));
    let out = bpftool(&["prog", "run", "pinned", &pin, "data_in", &frame]).unwrap();
    assert!(out.contains("Return value: 1"), "{out}");
}

#[test]
fn bpftool_loads_objects_with_subprograms_and_map_kinds() {
    let prog = with_subprogram();
    let obj = write_object(&prog).unwrap();
    let mut s = Scratch::new("sub");
    let path = s.file("sub.o", &obj);
    let pin = s.pin();
    if bpftool(&["prog", "load", &path, &pin, "type", "xdp"]).is_none() {
        return;
    }
    let xlated = bpftool(&["prog", "dump", "xlated", "pinned", &pin, "linum"]).unwrap();
    assert!(
        xlated.contains("if len > 100 then return XDP_DROP end"),
        "{xlated}"
    );
    assert!(xlated.contains("[file:filter.lua line_num:2"), "{xlated}");
    let frame = s.file("big.bin", &ipv4_frame(6, 200));
    let out = bpftool(&["prog", "run", "pinned", &pin, "data_in", &frame]).unwrap();
    assert!(out.contains("Return value: 1"), "{out}");

    // Every map kind, and keys/values of sizes that need `key_size`/`value_size`.
    let mut multi = count_protocols(MapKind::PercpuHash);
    for (name, kind, key_size, value_size) in [
        ("arr", MapKind::Array, 4, 16),
        ("pcarr", MapKind::PercpuArray, 4, 4),
        ("flows", MapKind::Hash, 13, 2),
    ] {
        multi.maps.push(MapDef {
            name: name.into(),
            kind,
            key_size,
            value_size,
            max_entries: 8,
        });
    }
    let obj = write_object(&multi).unwrap();
    let mut s = Scratch::new("multi");
    let path = s.file("multi.o", &obj);
    let pin = s.pin();
    let dir = s.pin_dir();
    bpftool(&["prog", "load", &path, &pin, "type", "xdp", "pinmaps", &dir]).unwrap();
    for (name, kind, key, value) in [
        ("counts", "percpu_hash", 4, 8),
        ("arr", "array", 4, 16),
        ("pcarr", "percpu_array", 4, 4),
        ("flows", "hash", 13, 2),
    ] {
        let show = bpftool(&["map", "show", "pinned", &format!("{dir}/{name}")]).unwrap();
        assert!(show.contains(&format!("{kind}  name {name}")), "{show}");
        assert!(
            show.contains(&format!("key {key}B  value {value}B  max_entries")),
            "{show}"
        );
    }
}

#[test]
fn bpftool_loads_objects_without_source_or_maps() {
    let prog = Program::new(
        "plain",
        ProgType::Xdp,
        bpf_bridge::isa::encode_program(&[mov(0, XDP_PASS), EXIT]),
    );
    let obj = write_object(&prog).unwrap();
    let mut s = Scratch::new("plain");
    let path = s.file("plain.o", &obj);
    let pin = s.pin();
    if bpftool(&["prog", "load", &path, &pin, "type", "xdp"]).is_none() {
        return;
    }
    let xlated = bpftool(&["prog", "dump", "xlated", "pinned", &pin]).unwrap();
    // The function's BTF came through .BTF.ext func_info.
    assert!(
        xlated.contains("int plain(struct xdp_md * ctx):"),
        "{xlated}"
    );
    assert!(xlated.contains("r0 = 2"), "{xlated}");
}

#[test]
fn elf_round_trip_through_the_reader() {
    let mut multi = count_protocols(MapKind::Hash);
    multi.maps.push(MapDef {
        name: "flows".into(),
        kind: MapKind::PercpuArray,
        key_size: 4,
        value_size: 24,
        max_entries: 16,
    });
    multi.license = "Dual MIT/GPL".into();
    for prog in [
        count_protocols(MapKind::PercpuHash),
        with_subprogram(),
        multi,
    ] {
        let bytes = write_object(&prog).unwrap();
        let read = bpf_bridge::elf::read_object(&bytes).unwrap();
        assert_eq!(read.len(), 1, "{}", prog.name);
        let back = &read[0];
        assert_eq!(back.name, prog.name);
        assert_eq!(back.prog_type, prog.prog_type);
        assert_eq!(back.insns, prog.insns, "{}", prog.name);
        assert_eq!(back.maps, prog.maps, "{}", prog.name);
        assert_eq!(back.license, prog.license);
    }
}

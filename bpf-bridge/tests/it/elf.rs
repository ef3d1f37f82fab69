//! The ELF reader over the C examples (compiled now with clang, and as committed),
//! hand-made objects for the corner cases, and corrupt input.

use bpf_bridge::asm::assemble;
use bpf_bridge::disasm::{disassemble, Style};
use bpf_bridge::elf::{read_elf, read_object, ElfError, ElfObject, ReadOptions};
use bpf_bridge::isa::{decode_program, Op};
use bpf_bridge::program::{MapDef, MapKind, ProgType};
use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLES: [&str; 4] = ["xdp_count", "xdp_stats", "xdp_subprog", "xdp_legacy"];

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/c")
}

/// Where an object's source and committed build live: the legacy `maps` section is a
/// reader fixture, not an example (libbpf 1.x and so bpftool refuse it by design).
fn source_dir(name: &str) -> PathBuf {
    if name == "xdp_legacy" {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    } else {
        examples_dir()
    }
}

/// A fresh scratch directory for this test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("luabpf-elf-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether clang can be used; when it cannot, fails if `LUABPF_REQUIRE_CLANG` is set
/// and otherwise prints why the caller skips.
fn have_clang(test: &str) -> bool {
    let ok = Command::new("clang")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("LUABPF_REQUIRE_CLANG").is_none(),
            "LUABPF_REQUIRE_CLANG is set but clang is not available"
        );
        println!("skipped: {test}: clang not found");
    }
    ok
}

/// Compiles C `source` for `target` (`bpf`, `bpfeb`, `x86_64-linux-gnu`) into `dir`.
fn compile(dir: &Path, name: &str, source: &str, target: &str) -> Vec<u8> {
    compile_with(dir, name, source, target, "-g")
}

/// [`compile`] with `debug` (`-g`, or `-g0` for no BTF) as the debug-info flag.
fn compile_with(dir: &Path, name: &str, source: &str, target: &str, debug: &str) -> Vec<u8> {
    let c = dir.join(format!("{name}.c"));
    let o = dir.join(format!("{name}.o"));
    std::fs::write(&c, source).unwrap();
    let out = Command::new("clang")
        .args([
            "-O2",
            debug,
            "-target",
            target,
            "-I/usr/include/x86_64-linux-gnu",
            "-I",
        ])
        .arg(examples_dir())
        .arg("-c")
        .arg(&c)
        .arg("-o")
        .arg(&o)
        .output()
        .expect("run clang");
    assert!(
        out.status.success(),
        "clang failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&o).unwrap()
}

fn map(name: &str, kind: MapKind, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        name: name.into(),
        kind,
        key_size,
        value_size,
        max_entries,
    }
}

/// What each example must hold, whoever compiled it.
#[track_caller]
fn check_example(name: &str, bytes: &[u8]) {
    let obj = read_elf(bytes, &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(obj.unsupported.is_empty(), "{name}");
    assert_eq!(obj.programs.len(), 1, "{name}");
    let ep = &obj.programs[0];
    let p = &ep.program;
    assert_eq!(p.name, name);
    assert_eq!(p.prog_type, ProgType::Xdp);
    let (section, maps, license) = match name {
        "xdp_count" => ("xdp", vec![map("counts", MapKind::Hash, 4, 8, 256)], "GPL"),
        "xdp_stats" => (
            "xdp.frags",
            vec![map("stats", MapKind::Array, 4, 8, 2)],
            "Dual MIT/GPL",
        ),
        "xdp_subprog" => ("xdp/classify", vec![], "GPL"),
        "xdp_legacy" => (
            "xdp",
            vec![map("seen", MapKind::PercpuArray, 4, 8, 1)],
            "GPL",
        ),
        _ => unreachable!(),
    };
    assert_eq!(ep.section, section, "{name}");
    assert_eq!(p.maps, maps, "{name}");
    assert_eq!(obj.maps, maps, "{name}");
    assert_eq!(p.license, license, "{name}");
    let ops = decode_program(&p.insns).unwrap_or_else(|e| panic!("{name}: {e}"));
    let map_loads = ops
        .iter()
        .filter(|o| matches!(o, Op::LoadMap { map: 0, .. }))
        .count();
    let calls: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter_map(|(pc, o)| match o {
            Op::CallLocal { .. } => o.target(pc).map(|t| t as usize),
            _ => None,
        })
        .collect();
    match name {
        "xdp_count" => assert_eq!(map_loads, 2),
        "xdp_stats" => assert_eq!(map_loads, 2),
        "xdp_legacy" => assert_eq!(map_loads, 1),
        _ => {
            // Both .text functions were appended, and the calls land on their first
            // instructions, after the program itself.
            assert_eq!(calls.len(), 2, "{name}");
            assert!(calls.iter().all(|&t| t >= 10), "{calls:?}");
            assert_ne!(calls[0], calls[1]);
            assert!(matches!(ops[calls[1] - 1], Op::Exit), "{calls:?}");
        }
    }
    // The disassembly re-assembles to the same program.
    let text = disassemble(&p.insns, &p.maps, Style::Conformance).unwrap();
    let again = assemble(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
    assert_eq!(again.insns, p.insns, "{name}");
    assert_eq!(again.maps, p.maps, "{name}");
    // read_object agrees.
    assert_eq!(read_object(bytes).unwrap(), vec![p.clone()]);
}

#[test]
fn committed_examples_read() {
    for name in EXAMPLES {
        let bytes = std::fs::read(source_dir(name).join(format!("{name}.o")))
            .unwrap_or_else(|e| panic!("examples/c/{name}.o: {e}"));
        check_example(name, &bytes);
    }
}

#[test]
fn examples_compiled_now_read_like_the_committed_ones() {
    if !have_clang("examples_compiled_now_read_like_the_committed_ones") {
        return;
    }
    let dir = scratch("examples");
    for name in EXAMPLES {
        let src = std::fs::read_to_string(source_dir(name).join(format!("{name}.bpf.c"))).unwrap();
        let fresh = compile(&dir, name, &src, "bpf");
        check_example(name, &fresh);
        let committed = std::fs::read(source_dir(name).join(format!("{name}.o"))).unwrap();
        let a = read_object(&fresh).unwrap();
        let b = read_object(&committed).unwrap();
        if a != b {
            println!("note: {name}: this clang produces different code than the committed .o");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn xdp_count() -> Vec<u8> {
    std::fs::read(examples_dir().join("xdp_count.o")).unwrap()
}

#[test]
fn truncated_and_corrupt_objects_are_errors() {
    let good = xdp_count();
    for len in 0..good.len() {
        // Must not panic; most prefixes are malformed.
        let _ = read_elf(&good[..len], &ReadOptions::default());
    }
    assert!(matches!(
        read_elf(&good[..100], &ReadOptions::default()),
        Err(ElfError::Malformed(_))
    ));
    assert!(matches!(
        read_elf(&[], &ReadOptions::default()),
        Err(ElfError::Malformed(_))
    ));
    assert!(matches!(
        read_elf(b"hello world, not an object", &ReadOptions::default()),
        Err(ElfError::Malformed(_))
    ));
    // Byte flips anywhere (xorshift positions), single and in bursts.
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut rnd = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..4000 {
        let mut bad = good.clone();
        for _ in 0..1 + rnd() % 4 {
            let i = (rnd() % bad.len() as u64) as usize;
            bad[i] ^= 1 << (rnd() % 8);
        }
        if let Err(e) = read_elf(&bad, &ReadOptions::default()) {
            assert!(!e.to_string().is_empty());
        }
    }
    // Garbage after a valid ELF header start.
    let mut junk = good[..64].to_vec();
    junk.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    assert!(read_elf(&junk, &ReadOptions::default()).is_err());
}

/// File ranges of the named sections of an object.
fn section_ranges(bytes: &[u8], names: &[&str]) -> Vec<(usize, usize)> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(bytes).unwrap();
    file.sections()
        .filter(|s| names.contains(&s.name().unwrap_or("")))
        .filter_map(|s| s.file_range())
        .map(|(o, n)| (o as usize, n as usize))
        .collect()
}

#[test]
fn corrupt_btf_symbols_and_relocations_are_errors() {
    for (name, sections) in [
        (
            "xdp_count",
            &[".BTF", ".maps", ".symtab", ".relxdp", "xdp"][..],
        ),
        (
            "xdp_subprog",
            &[".symtab", ".relxdp/classify", ".text", ".strtab"][..],
        ),
        ("xdp_legacy", &["maps", ".symtab", ".relxdp"][..]),
    ] {
        let good = std::fs::read(source_dir(name).join(format!("{name}.o"))).unwrap();
        let ranges = section_ranges(&good, sections);
        assert_eq!(ranges.len(), sections.len(), "{name}");
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut errors, mut oks) = (0, 0);
        for _ in 0..3000 {
            let mut bad = good.clone();
            let (start, len) = ranges[(rnd() % ranges.len() as u64) as usize];
            for _ in 0..1 + rnd() % 3 {
                let i = start + (rnd() % len as u64) as usize;
                bad[i] = match rnd() % 3 {
                    0 => bad[i] ^ (1 << (rnd() % 8)),
                    1 => 0xff,
                    _ => 0,
                };
            }
            match read_elf(&bad, &ReadOptions::default()) {
                Ok(obj) => {
                    oks += 1;
                    // Whatever still reads must still be a decodable program.
                    for p in &obj.programs {
                        decode_program(&p.program.insns).unwrap();
                    }
                }
                Err(e) => {
                    errors += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
        }
        println!("{name}: {errors} corrupt copies rejected, {oks} still read");
        assert!(errors > 100, "{name}: only {errors} errors");
    }
}

#[test]
fn other_machines_and_byte_orders_are_rejected() {
    if !have_clang("other_machines_and_byte_orders_are_rejected") {
        return;
    }
    let dir = scratch("machines");
    let x86 = compile(
        &dir,
        "x86",
        "int f(int x) { return x + 1; }\n",
        "x86_64-linux-gnu",
    );
    let e = read_elf(&x86, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ElfError::NotBpf(_)), "{e}");
    assert!(e.to_string().contains("not BPF"), "{e}");
    let src = "__attribute__((section(\"xdp\"), used)) int p(void *c) { return 2; }\n";
    let be = compile(&dir, "be", src, "bpfeb");
    let e = read_elf(&be, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("little-endian"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unsupported_sections_globals_and_selection() {
    if !have_clang("unsupported_sections_globals_and_selection") {
        return;
    }
    let dir = scratch("sections");
    let src = r#"
#include "bpf_defs.h"
SEC("tc") int cls_main(struct __sk_buff *skb) { return 0; }
SEC("xdp") int first(struct xdp_md *ctx) { return XDP_PASS; }
SEC("xdp") int second(struct xdp_md *ctx) { return XDP_DROP; }
char LICENSE[] SEC("license") = "GPL";
"#;
    let bytes = compile(&dir, "multi", src, "bpf");
    let obj: ElfObject = read_elf(&bytes, &ReadOptions::default()).unwrap();
    let names: Vec<&str> = obj
        .programs
        .iter()
        .map(|p| p.program.name.as_str())
        .collect();
    assert_eq!(names, ["first", "second"]);
    assert_eq!(obj.unsupported.len(), 1);
    assert_eq!(obj.unsupported[0].section, "tc");
    assert_eq!(obj.program(Some("second")).unwrap().name, "second");
    let e = obj.program(Some("xdp")).unwrap_err(); // two programs in that section
    assert!(matches!(e, ElfError::NoSuchProgram { .. }), "{e}");
    assert!(e.to_string().contains("first (xdp)"), "{e}");
    let e = obj.program(None).unwrap_err();
    assert!(matches!(e, ElfError::NoSuchProgram { .. }), "{e}");
    let e = obj.program(Some("cls_main")).unwrap_err();
    assert!(e.to_string().contains("section \"tc\""), "{e}");
    let raw = read_elf(
        &bytes,
        &ReadOptions {
            other_sections_as: Some(ProgType::Raw),
        },
    )
    .unwrap();
    let cls = raw.program(Some("tc")).unwrap();
    assert_eq!(
        (cls.name.as_str(), cls.prog_type),
        ("cls_main", ProgType::Raw)
    );

    let only_tc = compile(
        &dir,
        "tc",
        "__attribute__((section(\"tc\"), used)) int c(void *s) { return 0; }\n",
        "bpf",
    );
    let e = read_object(&only_tc).unwrap_err();
    assert!(
        e.to_string().contains("no XDP program") && e.to_string().contains("c in section \"tc\""),
        "{e}"
    );

    for (name, src, needle) in [
        (
            "global",
            "#include \"bpf_defs.h\"\nint hits;\nSEC(\"xdp\") int g(struct xdp_md *c) { hits++; return XDP_PASS; }\n",
            "global data not supported",
        ),
        (
            "rodata",
            "#include \"bpf_defs.h\"\nconst volatile int limit = 3;\nSEC(\"xdp\") int g(struct xdp_md *c) { return limit; }\n",
            "global data not supported",
        ),
        (
            "extern",
            "#include \"bpf_defs.h\"\nextern int ext_fn(int);\nSEC(\"xdp\") int g(struct xdp_md *c) { return ext_fn(1); }\n",
            "undefined function ext_fn",
        ),
        (
            "ringbuf",
            "#include \"bpf_defs.h\"\nstruct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(\".maps\");\nSEC(\"xdp\") int g(struct xdp_md *c) { return bpf_map_lookup_elem(&rb, c) != 0; }\n",
            "map rb",
        ),
    ] {
        let bytes = compile(&dir, name, src, "bpf");
        let e = read_elf(&bytes, &ReadOptions::default()).unwrap_err();
        assert!(e.to_string().contains(needle), "{name}: {e}");
    }
    // BTF-defined maps need .BTF.
    let src = std::fs::read_to_string(examples_dir().join("xdp_count.bpf.c")).unwrap();
    let no_btf = compile_with(&dir, "nobtf", &src, "bpf", "-g0");
    let e = read_elf(&no_btf, &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no .BTF section"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pre_resolved_calls_inside_one_section() {
    if !have_clang("pre_resolved_calls_inside_one_section") {
        return;
    }
    // A static function in the program's own section: clang resolves the call itself
    // (no relocation), and the reader must still append the callee.
    let dir = scratch("inline-call");
    let src = r#"
#include "bpf_defs.h"
static __noinline __attribute__((section("xdp"))) int helper(int v) { return v ^ 3; }
SEC("xdp") int caller(struct xdp_md *ctx) { return helper(ctx->ingress_ifindex) & 3; }
char LICENSE[] SEC("license") = "GPL";
"#;
    let bytes = compile(&dir, "same", src, "bpf");
    let obj = read_elf(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(obj.programs.len(), 1, "{:?}", obj.programs);
    let p = &obj.programs[0].program;
    let ops = decode_program(&p.insns).unwrap();
    let targets: Vec<i64> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Op::CallLocal { .. }))
        .filter_map(|(pc, o)| o.target(pc))
        .collect();
    assert_eq!(targets.len(), 1);
    // The callee starts right after the caller's exit.
    assert!(matches!(ops[targets[0] as usize - 1], Op::Exit));
    let _ = std::fs::remove_dir_all(&dir);
}

//! The Linux kernel engine and the standard ELF, end to end through the
//! `luabpf` binary and `bpftool`:
//! - every compiled Lua filter (the examples and the test filters below) loads
//!   with `bpftool prog load … type xdp` and `bpftool prog dump xlated … linum`
//!   shows its Lua lines;
//! - every C object (and hand-written assembly twin, where shipped) loads in the
//!   kernel through luabpf, and the objects with `bpftool` too;
//! - `--engine kernel` agrees with `--engine interp` on every frame of the
//!   shipped captures the kernel ran (low 32 bits), has null verdicts exactly for
//!   the frames it cannot run and counts them by cause; maps agree with an
//!   interpreter run over the same frames;
//! - a compiled Lua filter the kernel rejects gets a verifier log naming Lua lines.
//!
//! Where bpf() or bpftool is unavailable each test prints a `skipped:` line,
//! unless `LUABPF_REQUIRE_KERNEL=1` (then it fails).

use bpf_bridge::capture;
use bpf_bridge::kernel::{empty_program, kernel_required, KernelError, KernelProgram};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

fn luabpf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_luabpf"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run luabpf")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What the kernel tests need: bpf() and, for the ELF checks, bpftool and a
/// mounted bpffs to pin programs in.
struct Kernel {
    bpftool: Option<PathBuf>,
    /// The longest frame the kernel shows an XDP program whole.
    max_frame: usize,
}

/// Skips (a visible line) or fails when the kernel is required.
fn skip(why: &str) {
    assert!(!kernel_required(), "LUABPF_REQUIRE_KERNEL=1 but {why}");
    println!("skipped: {why}");
}

/// The kernel, or `None` after a visible skip.
fn kernel() -> Option<Kernel> {
    let mut probe = match KernelProgram::load(&empty_program()) {
        Ok(p) => p,
        Err(KernelError::Unavailable(e)) => {
            skip(&format!("the kernel engine is unavailable: {e}"));
            return None;
        }
        Err(e) => panic!("loading the empty program: {e}"),
    };
    let max_frame = probe.max_frame();
    Some(Kernel {
        bpftool: find_bpftool(),
        max_frame,
    })
}

/// The kernel and bpftool with a bpffs at /sys/fs/bpf, or `None` after a skip.
fn kernel_and_bpftool() -> Option<(Kernel, PathBuf)> {
    let k = kernel()?;
    let Some(tool) = k.bpftool.clone() else {
        skip("bpftool not found (set BPFTOOL, or install it: apt-get install bpftool)");
        return None;
    };
    if !bpffs_mounted() {
        // As root we can mount it ourselves (the usual place, left mounted).
        let _ = Command::new("mount")
            .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
            .output();
        if !bpffs_mounted() {
            skip("no bpffs at /sys/fs/bpf and mounting one failed");
            return None;
        }
    }
    Some((k, tool))
}

fn find_bpftool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BPFTOOL") {
        return Some(PathBuf::from(p));
    }
    let dirs = ["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"];
    let path = std::env::var_os("PATH").unwrap_or_default();
    dirs.iter()
        .map(PathBuf::from)
        .chain(std::env::split_paths(&path))
        .map(|d| d.join("bpftool"))
        .find(|p| p.is_file())
}

fn bpffs_mounted() -> bool {
    std::fs::read_to_string("/proc/mounts").is_ok_and(|m| {
        m.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.get(1) == Some(&"/sys/fs/bpf") && f.get(2) == Some(&"bpf")
        })
    })
}

/// A program pinned in bpffs, unpinned on drop (also when a test panics).
struct Pin(PathBuf);

impl Pin {
    fn new(name: &str) -> Pin {
        let clean: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let pin = Pin(PathBuf::from(format!(
            "/sys/fs/bpf/luabpf_test_{}_{clean}",
            std::process::id()
        )));
        let _ = std::fs::remove_file(&pin.0);
        pin
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn bpftool(tool: &Path, args: &[&str]) -> Output {
    Command::new(tool).args(args).output().expect("run bpftool")
}

/// Test filters beside the examples: loops, maps and local functions, the
/// shapes the front end's own tests exercise with generated programs.
const TEST_FILTERS: &[(&str, &str)] = &[
    (
        "loops.lua",
        r#"-- Loops: a numeric for with a constant bound, a while loop over the packet
-- with a budget, repeat-until and break; the verdict mixes their results.
local hist = map.array { value = "u64", entries = 16 }

return function(pkt)
  local len = pkt.len
  if len < 34 then
    return 2
  end
  local sum = 0
  for i = 0, 9 do
    sum = sum + pkt:u8(14 + i)
  end
  local i = 34
  local ones = 0
  while i < len and i < 200 do
    if pkt:u8(i) == 0xff then
      break
    end
    ones = ones + (pkt:u8(i) & 1)
    i = i + 4
  end
  local n = 0
  repeat
    n = n + 1
  until n * n >= (sum & 0xff)
  hist[(sum + ones + n) & 15] = hist[(sum + ones + n) & 15] + 1
  return 1 + ((sum + ones + n) & 1)
end
"#,
    ),
    (
        "maps.lua",
        r#"-- Maps: a hash keyed by ethertype counting frames and bytes, and an array of
-- frame-length buckets; lookups of absent keys default with `or`.
local frames = map.hash { key = "u32", value = "u64", entries = 64 }
local octets = map.hash { key = "u32", value = "u64", entries = 64 }
local sizes = map.array { value = "u64", entries = 8 }

return function(pkt)
  local len = pkt.len
  local bucket = math.min(len >> 8, 7)
  sizes[bucket] = sizes[bucket] + 1
  if len < 14 then
    return 2
  end
  local et = pkt:u16(12)
  frames[et] = (frames[et] or 0) + 1
  octets[et] = (octets[et] or 0) + len
  if frames[et] > 100 then
    return 1
  end
  return 2
end
"#,
    ),
    (
        "functions.lua",
        r#"-- Local functions: helpers with several parameters calling each other, early
-- returns of nil, and a result used as a map key.
local by_port = map.hash { key = "u32", value = "u32", entries = 128 }

local function ipv4(pkt)
  return pkt.len >= 34 and pkt:u16(12) == 0x0800
end

local function header_len(pkt)
  local ihl = pkt:u8(14) & 0x0f
  if ihl < 5 then
    return nil
  end
  return ihl * 4
end

local function port_at(pkt, base, which)
  if pkt.len < base + which + 2 then
    return nil
  end
  return pkt:u16(base + which)
end

local function classify(port, proto)
  if port < 1024 then
    return proto * 2
  end
  return proto * 2 + 1
end

return function(pkt)
  if not ipv4(pkt) then
    return 2
  end
  local hl = header_len(pkt)
  if not hl then
    return 1
  end
  local proto = pkt:u8(23)
  if proto ~= 6 and proto ~= 17 then
    return 2
  end
  local dport = port_at(pkt, 14 + hl, 2)
  if not dport then
    return 2
  end
  local c = classify(dport, proto)
  by_port[dport] = (by_port[dport] or 0) + c
  return 2
end
"#,
    ),
];

/// A Lua filter Linux rejects: a loop walking the packet a byte at a time
/// with an exact index makes the kernel verifier follow every iteration
/// ("The sequence of 8193 jumps is too complex" on 6.x kernels).
const REJECTED_FILTER: &str = r#"-- Sums every byte of the frame.
return function(pkt)
  local n = pkt.len
  local s = 0
  local i = 0
  while i < n do
    s = s + pkt:u8(i)
    i = i + 1
  end
  return s
end
"#;

fn files_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(root().join(dir)) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// The example Lua filters and the test filters (written into `dir`).
fn lua_filters(dir: &Path) -> Vec<PathBuf> {
    let mut v = files_in("examples", "lua");
    assert!(v.len() >= 5, "examples/*.lua: {v:?}");
    for (name, src) in TEST_FILTERS {
        let p = dir.join(name);
        std::fs::write(&p, src).unwrap();
        v.push(p);
    }
    v
}

/// Hand-written assembly twins of the examples, when this tree has them.
fn hand_assembly() -> Vec<PathBuf> {
    let v = files_in("examples/hand", "s");
    if v.is_empty() {
        println!("note: no examples/hand/*.s in this tree; hand-written assembly not checked");
    }
    v
}

fn captures() -> Vec<PathBuf> {
    let v: Vec<PathBuf> = ["mixed.pcap", "small.pcapng"]
        .iter()
        .map(|c| root().join("examples/captures").join(c))
        .collect();
    for c in &v {
        assert!(c.is_file(), "{} missing", c.display());
    }
    v
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// One `; TEXT [file:F line_num:N line_col:C]` line of `bpftool … linum`.
#[derive(Debug)]
struct LinumLine {
    text: String,
    file: String,
    line: usize,
}

fn parse_linum(dump: &str) -> Vec<LinumLine> {
    dump.lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix(';')?;
            let at = l.rfind(" [file:")?;
            let tags = l[at + 2..].strip_suffix(']')?;
            let mut file = None;
            let mut line = None;
            let mut col = None;
            for t in tags.split_whitespace() {
                if let Some(v) = t.strip_prefix("file:") {
                    file = Some(v.to_string());
                } else if let Some(v) = t.strip_prefix("line_num:") {
                    line = v.parse().ok();
                } else if let Some(v) = t.strip_prefix("line_col:") {
                    col = v.parse::<usize>().ok();
                }
            }
            col?;
            Some(LinumLine {
                text: l[..at].trim().to_string(),
                file: file?,
                line: line?,
            })
        })
        .collect()
}

#[test]
fn compiled_lua_loads_with_bpftool_and_shows_its_lines() {
    let Some((_, tool)) = kernel_and_bpftool() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for lua in lua_filters(tmp.path()) {
        let name = lua.file_stem().unwrap().to_str().unwrap().to_string();
        let obj = tmp.path().join(format!("{name}.o"));
        let o = luabpf(&["compile", path_str(&lua), "-o", path_str(&obj)]);
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let pin = Pin::new(&name);
        let o = bpftool(
            &tool,
            &[
                "prog",
                "load",
                path_str(&obj),
                path_str(&pin.0),
                "type",
                "xdp",
            ],
        );
        assert!(
            o.status.success(),
            "bpftool prog load {name}: {}",
            text(&o.stderr)
        );
        let o = bpftool(
            &tool,
            &[
                "prog",
                "dump",
                "xlated",
                "pinned",
                path_str(&pin.0),
                "linum",
            ],
        );
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let dump = text(&o.stdout);
        let source = std::fs::read_to_string(&lua).unwrap();
        let src_lines: Vec<&str> = source.lines().collect();
        let annotated = parse_linum(&dump);
        let mut distinct = BTreeSet::new();
        for a in &annotated {
            assert!(
                a.file.ends_with(&format!("{name}.lua")),
                "{name}: line info names {}",
                a.file
            );
            let want = src_lines
                .get(a.line.wrapping_sub(1))
                .unwrap_or_else(|| panic!("{name}: line {} out of range", a.line));
            assert_eq!(a.text, want.trim(), "{name}: text of line {}", a.line);
            distinct.insert(a.line);
        }
        assert!(
            distinct.len() >= 5,
            "{name}: only lines {distinct:?} in\n{dump}"
        );
        let ret = 1 + src_lines
            .iter()
            .position(|l| l.starts_with("return function"))
            .unwrap();
        assert!(distinct.contains(&ret), "{name}: no `return function` line");
        println!("{name}: loads with bpftool, {} Lua lines", distinct.len());
    }
}

#[test]
fn c_objects_and_hand_assembly_load_in_the_kernel() {
    let Some(k) = kernel() else {
        return;
    };
    let objs = files_in("examples/c", "o");
    assert!(objs.len() >= 3, "examples/c/*.o: {objs:?}");
    for p in objs.iter().chain(&hand_assembly()) {
        let o = luabpf(&["verify", path_str(p), "--kernel", "--json"]);
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", p.display(), text(&o.stderr)));
        assert_eq!(
            v["kernel"]["accepted"],
            true,
            "{}: the kernel refused it: {v}",
            p.display()
        );
    }
    let Some(tool) = k.bpftool else {
        skip("bpftool not found: objects not loaded with bpftool");
        return;
    };
    for obj in &objs {
        let name = obj.file_stem().unwrap().to_str().unwrap();
        let pin = Pin::new(name);
        let o = bpftool(
            &tool,
            &[
                "prog",
                "load",
                path_str(obj),
                path_str(&pin.0),
                "type",
                "xdp",
            ],
        );
        let err = text(&o.stderr);
        assert!(o.status.success(), "bpftool prog load {name}: {err}");
        println!("{name}: loads with bpftool");
    }
}

/// Frame lengths of a capture.
fn frame_lengths(capture: &Path) -> Vec<usize> {
    let frames = capture::read_frames(&std::fs::read(capture).unwrap()).unwrap();
    frames.iter().map(Vec::len).collect()
}

/// Writes `frames` as a classic pcap (Ethernet, microsecond timestamps).
fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    for w in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 262_144, 1] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let len = f.len() as u32;
        for w in [i as u32, 0, len, len] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).unwrap();
}

/// `luabpf run PROG --pcap CAPTURE --engine ENGINE --json [extra]`: the JSON
/// and stderr; the exit code must be 0.
fn run_json(prog: &Path, capture: &Path, engine: &str, extra: &[&str]) -> (Value, String) {
    let mut args = vec![
        "run",
        path_str(prog),
        "--pcap",
        path_str(capture),
        "--engine",
        engine,
        "--json",
    ];
    args.extend(extra);
    let o = luabpf(&args);
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: exit {:?}: {err}",
        o.status.code()
    );
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    (v, err)
}

/// The interpreter on `capture`, verified when our verifier accepts the
/// program, else checked (`--unverified`), which the report notes.
fn interp_json(prog: &Path, capture: &Path) -> Value {
    let args = ["run", path_str(prog), "--pcap", path_str(capture), "--json"];
    let o = luabpf(&args);
    if o.status.code() == Some(3) {
        println!(
            "note: {}: our verifier rejects it, compared in checked mode: {}",
            prog.display(),
            text(&o.stderr).lines().next().unwrap_or("")
        );
        return run_json(prog, capture, "interp", &["--unverified"]).0;
    }
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn kernel_agrees_with_the_interpreter_on_every_capture() {
    let Some(k) = kernel() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut programs = lua_filters(tmp.path());
    programs.extend(files_in("examples/c", "o"));
    programs.extend(hand_assembly());
    let mut not_run_seen = 0;
    for capture in captures() {
        let frames = capture::read_frames(&std::fs::read(&capture).unwrap()).unwrap();
        let lens = frame_lengths(&capture);
        let short = lens.iter().filter(|&&l| l < 14).count();
        let long = lens.iter().filter(|&&l| l > k.max_frame).count();
        // The frames the kernel runs, as a capture of their own.
        let ran: Vec<Vec<u8>> = frames
            .iter()
            .filter(|f| (14..=k.max_frame).contains(&f.len()))
            .cloned()
            .collect();
        let subset = tmp.path().join(format!(
            "{}-ran.pcap",
            capture.file_stem().unwrap().to_str().unwrap()
        ));
        write_pcap(&subset, &ran);
        for prog in &programs {
            let what = format!("{} on {}", prog.display(), capture.display());
            let (kv, err) = run_json(prog, &capture, "kernel", &[]);
            assert_eq!(kv["engine"], "kernel");
            assert_eq!(kv["packets"], frames.len(), "{what}");
            let verdicts = kv["verdicts"].as_array().expect("verdicts");
            assert_eq!(verdicts.len(), frames.len(), "{what}");
            // Null exactly where the kernel cannot show the frame whole.
            for (i, (v, len)) in verdicts.iter().zip(&lens).enumerate() {
                let runnable = (14..=k.max_frame).contains(len);
                assert_eq!(
                    v.is_null(),
                    !runnable,
                    "{what}: frame {i} ({len} bytes): {v}"
                );
            }
            // Counted by cause on stderr, each cause on its own line.
            for (n, cause) in [
                (short, "shorter than an Ethernet header"),
                (long, "the kernel shows an XDP program whole"),
            ] {
                let line = err.lines().find(|l| l.contains(cause));
                match line {
                    Some(l) => assert!(
                        l.starts_with(&format!("{n} packets not run (")),
                        "{what}: {l}"
                    ),
                    None => assert_eq!(n, 0, "{what}: no count for {cause:?} in: {err}"),
                }
            }
            assert!(!err.contains("faulted"), "{what}: {err}");
            not_run_seen += short + long;

            // The interpreter over the same frames: verdicts and maps agree.
            let iv = interp_json(prog, &subset);
            let theirs: Vec<&Value> = verdicts.iter().filter(|v| !v.is_null()).collect();
            let ours = iv["verdicts"].as_array().expect("verdicts");
            assert_eq!(ours.len(), theirs.len(), "{what}");
            for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
                let o = o
                    .as_i64()
                    .unwrap_or_else(|| panic!("{what}: interp fault on ran frame {i}"));
                let t = t.as_i64().expect("integer verdict");
                assert!(
                    (0..=u32::MAX as i64).contains(&t),
                    "{what}: kernel verdict {t} is not 32 bits zero-extended"
                );
                assert_eq!(o as u32 as i64, t, "{what}: ran frame {i}: interp {o}");
            }
            assert_eq!(iv["maps"], kv["maps"], "{what}: maps");
            println!(
                "{what}: {} frames agree, {short} too short and {long} too long not run",
                theirs.len()
            );
        }
    }
    // The shipped captures have frames of both kinds the kernel cannot run.
    assert!(not_run_seen > 0);
}

#[test]
fn shipped_captures_hold_frames_the_kernel_cannot_run() {
    // The counts the agreement test expects (3,520 is the limit with 4 KiB pages).
    let Some(k) = kernel() else {
        return;
    };
    let count = |c: &str| {
        let lens = frame_lengths(&root().join("examples/captures").join(c));
        let short = lens.iter().filter(|&&l| l < 14).count();
        let long = lens.iter().filter(|&&l| l > k.max_frame).count();
        (lens.len(), short, long)
    };
    println!("kernel XDP frame limit: {} bytes", k.max_frame);
    let (n, short, long) = count("mixed.pcap");
    assert!(n > 100 && short > 0 && long > 0, "{n} {short} {long}");
    let (n, short, _) = count("small.pcapng");
    assert!(n > 10 && short > 0, "{n} {short}");
}

#[test]
fn kernel_rejections_name_lua_lines() {
    let Some(_) = kernel() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let lua = tmp.path().join("byte_sum.lua");
    std::fs::write(&lua, REJECTED_FILTER).unwrap();
    let capture = root().join("examples/captures/small.pcapng");

    // `verify --kernel`: the kernel's log, with Lua lines in it.
    let o = luabpf(&["verify", path_str(&lua), "--kernel", "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(
        v["kernel"]["accepted"], false,
        "this kernel accepts the byte walk; use another filter it rejects"
    );
    let log = v["kernel"]["log"].as_str().unwrap();
    for line in [
        "; s = s + pkt:u8(i) @ byte_sum.lua:7",
        "; while i < n do @ byte_sum.lua:6",
    ] {
        assert!(log.contains(line), "{line:?} not in the kernel log");
    }

    // `run --engine kernel`: rejected (exit 3), the log names Lua lines.
    let o = luabpf(&[
        "run",
        path_str(&lua),
        "--pcap",
        path_str(&capture),
        "--engine",
        "kernel",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("the kernel rejected the program"), "{err}");
    assert!(
        err.contains("@ byte_sum.lua:7"),
        "no Lua line in the rejection"
    );

    // The ELF through bpftool: libbpf prints the same log with the same lines.
    let Some(tool) = find_bpftool() else {
        skip("bpftool not found: the ELF rejection not checked");
        return;
    };
    let obj = tmp.path().join("byte_sum.o");
    let o = luabpf(&["compile", path_str(&lua), "-o", path_str(&obj)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let pin = Pin::new("byte_sum");
    let o = bpftool(
        &tool,
        &[
            "prog",
            "load",
            path_str(&obj),
            path_str(&pin.0),
            "type",
            "xdp",
        ],
    );
    assert!(!o.status.success(), "bpftool loaded the byte walk");
    assert!(
        text(&o.stderr).contains("; s = s + pkt:u8(i) @ byte_sum.lua:7"),
        "no Lua line in libbpf's log"
    );
}

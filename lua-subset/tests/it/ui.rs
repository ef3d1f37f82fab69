//! Out-of-subset programs: each `tests/ui/<case>.lua` starts with
//! `-- expect: LINE:COL message` and must be refused with that first
//! diagnostic. `UI_BLESS=1` rewrites the headers from the compiler's output.

use lua_subset::{compile, CompileOptions};
use std::path::PathBuf;

fn cases() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    v.sort();
    v
}

#[test]
fn refused_at_the_right_place() {
    let bless = std::env::var("UI_BLESS").is_ok();
    let all = cases();
    assert!(all.len() >= 40, "at least 40 cases, have {}", all.len());
    let mut failures = Vec::new();
    for path in all {
        let text = std::fs::read_to_string(&path).unwrap();
        let (header, body) = text.split_once('\n').unwrap_or((&text, ""));
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let diags = match compile(&name, &text, &CompileOptions::default()) {
            Ok(_) => {
                failures.push(format!("{name}: compiled, expected a refusal"));
                continue;
            }
            Err(d) => d,
        };
        let first = &diags.items[0];
        let got = format!("{}:{} {}", first.line, first.col, first.message);
        let rendered = diags.render();
        let head = rendered.lines().next().unwrap_or("");
        if !head.contains(&format!("{name}:{}:{}", first.line, first.col)) {
            failures.push(format!(
                "{name}: rendered first line lacks the position: {head}"
            ));
        }
        if bless {
            std::fs::write(&path, format!("-- expect: {got}\n{body}")).unwrap();
            continue;
        }
        let want = header.strip_prefix("-- expect: ").unwrap_or("").trim();
        let (pos, msg) = want.split_once(' ').unwrap_or((want, ""));
        if !got.starts_with(&format!("{pos} ")) || !first.message.contains(msg) {
            failures.push(format!(
                "{name}: expected `{want}`, got `{got}`\n{rendered}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! A small deterministic generator of random programs in the subset, for
//! differential testing against the oracle.

/// xorshift64*.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

struct Fun {
    name: String,
    params: usize,
    takes_pkt: bool,
}

pub struct ProgGen {
    r: Rng,
    out: String,
    indent: usize,
    scopes: Vec<Vec<String>>,
    next_var: usize,
    maps: Vec<(String, bool)>,
    consts: Vec<String>,
    tables: Vec<String>,
    funs: Vec<Fun>,
    in_loop: usize,
    in_fun: bool,
    pkt: Option<String>,
}

const LITS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "-1",
    "-2",
    "63",
    "64",
    "-64",
    "65",
    "255",
    "256",
    "0xffffffff",
    "0x7fffffff",
    "math.maxinteger",
    "math.mininteger",
    "1000",
    "-1000",
    "12",
    "14",
    "23",
];

impl ProgGen {
    pub fn new(seed: u64) -> ProgGen {
        ProgGen {
            r: Rng::new(seed),
            out: String::new(),
            indent: 0,
            scopes: Vec::new(),
            next_var: 0,
            maps: Vec::new(),
            consts: Vec::new(),
            tables: Vec::new(),
            funs: Vec::new(),
            in_loop: 0,
            in_fun: false,
            pkt: None,
        }
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn vars(&self) -> Vec<String> {
        self.scopes.iter().flatten().cloned().collect()
    }

    fn fresh(&mut self) -> String {
        self.next_var += 1;
        format!("v{}", self.next_var)
    }

    fn int_expr(&mut self, d: u32) -> String {
        // Integer-ish expressions (may still be nil/bool through variables).
        let k = if d == 0 {
            self.r.below(5)
        } else {
            self.r.below(15)
        };
        match k {
            0 => self.r.pick(LITS).to_string(),
            1 => match self.pkt.clone() {
                Some(p) => {
                    let m = *self.r.pick(&["u8", "u16", "u32"]);
                    let off = if self.r.chance(75) {
                        {
                            let a = if self.r.chance(80) {
                                self.r.below(34)
                            } else {
                                self.r.below(70)
                            };
                            format!("{a}")
                        }
                    } else {
                        {
                            let a = self.int_expr(d.saturating_sub(1));
                            format!("({a}) % 80")
                        }
                    };
                    format!("{p}:{m}({off})")
                }
                None => self.r.pick(LITS).to_string(),
            },
            2 => {
                let vs = self.vars();
                if vs.is_empty() {
                    "5".into()
                } else {
                    self.r.pick(&vs).clone()
                }
            }
            3 => match self.pkt.clone() {
                Some(p) => format!("{p}.len"),
                None => "9".into(),
            },
            4 => {
                if self.consts.is_empty() {
                    "4".into()
                } else {
                    self.r.pick(&self.consts.clone()).clone()
                }
            }
            5..=8 => {
                let op = *self.r.pick(&[
                    "+", "-", "*", "//", "%", "&", "|", "~", "<<", ">>", "+", "-",
                ]);
                let a = self.int_expr(d - 1);
                let b = self.int_expr(d - 1);
                format!("({a} {op} {b})")
            }
            9 => {
                let op = *self.r.pick(&["-", "~"]);
                {
                    let a = self.int_expr(d - 1);
                    format!("{op}({a})")
                }
            }
            10 if !self.maps.is_empty() => {
                let (m, _) = self.r.pick(&self.maps.clone()).clone();
                let k = self.int_expr(d - 1);
                let dflt = self.int_expr(0);
                if self.r.chance(70) {
                    format!("({m}[{k}] or {dflt})")
                } else {
                    format!("{m}[{k}]")
                }
            }
            11 => {
                let f = *self.r.pick(&["math.min", "math.max", "math.abs"]);
                let n = if f == "math.abs" {
                    1
                } else {
                    1 + self.r.below(3) as usize
                };
                let args: Vec<String> = (0..n).map(|_| self.int_expr(d - 1)).collect();
                format!("{f}({})", args.join(", "))
            }
            12 if !self.tables.is_empty() => {
                let t = self.r.pick(&self.tables.clone()).clone();
                {
                    let a = self.int_expr(d - 1);
                    format!("({t}[{a}] or 0)")
                }
            }
            13 if !self.funs.is_empty() && !self.in_fun => {
                let i = self.r.below(self.funs.len() as u64) as usize;
                let (name, params, takes_pkt) = (
                    self.funs[i].name.clone(),
                    self.funs[i].params,
                    self.funs[i].takes_pkt,
                );
                let mut args = Vec::new();
                if takes_pkt {
                    args.push(self.pkt.clone().unwrap_or("nil".into()));
                }
                for _ in 0..params {
                    args.push(self.int_expr(d - 1));
                }
                format!("{name}({})", args.join(", "))
            }
            _ => {
                let c = self.cond(d - 1);
                let a = self.int_expr(d - 1);
                let b = self.int_expr(d - 1);
                format!("({c} and {a} or {b})")
            }
        }
    }

    fn cond(&mut self, d: u32) -> String {
        match self.r.below(if d == 0 { 2 } else { 6 }) {
            0 | 1 => {
                let op = *self.r.pick(&["==", "~=", "<", "<=", ">", ">="]);
                {
                    let a = self.int_expr(d.min(2));
                    let b = self.int_expr(d.min(2));
                    format!("{a} {op} {b}")
                }
            }
            2 => {
                let a = self.cond(d - 1);
                let b = self.cond(d - 1);
                format!("({a} and {b})")
            }
            3 => {
                let a = self.cond(d - 1);
                let b = self.cond(d - 1);
                format!("({a} or {b})")
            }
            4 => {
                let a = self.cond(d - 1);
                format!("not ({a})")
            }
            _ => {
                // Truthiness of a possibly-nil value.
                if !self.maps.is_empty() && self.r.chance(50) {
                    let (m, _) = self.r.pick(&self.maps.clone()).clone();
                    {
                        let a = self.int_expr(1);
                        format!("{m}[{a}]")
                    }
                } else {
                    let vs = self.vars();
                    if vs.is_empty() {
                        "true".into()
                    } else {
                        self.r.pick(&vs).clone()
                    }
                }
            }
        }
    }

    fn value(&mut self) -> String {
        match self.r.below(20) {
            0 => "nil".into(),
            1 => "true".into(),
            2 => "false".into(),
            3 | 4 => self.cond(1),
            _ => self.int_expr(2),
        }
    }

    fn block(&mut self, n: usize, d: u32) {
        self.scopes.push(Vec::new());
        self.indent += 1;
        for _ in 0..n {
            self.stmt(d);
        }
        self.indent -= 1;
        self.scopes.pop();
    }

    fn stmt(&mut self, d: u32) {
        let k = if d == 0 {
            self.r.below(4)
        } else {
            self.r.below(12)
        };
        match k {
            0 => {
                let v = self.fresh();
                let e = if self.r.chance(5) {
                    String::new()
                } else {
                    format!(" = {}", self.value())
                };
                self.line(&format!("local {v}{e}"));
                if let Some(s) = self.scopes.last_mut() {
                    s.push(v);
                }
            }
            1 => {
                let vs = self.vars();
                if let Some(v) = (!vs.is_empty()).then(|| self.r.pick(&vs).clone()) {
                    let e = self.value();
                    self.line(&format!("{v} = {e}"));
                }
            }
            2 if !self.maps.is_empty() => {
                let (m, array) = self.r.pick(&self.maps.clone()).clone();
                let k = self.int_expr(1);
                let v = if !array && self.r.chance(15) {
                    "nil".to_string()
                } else {
                    {
                        let a = self.int_expr(1);
                        format!("({m}[{k}] or 0) + {a}")
                    }
                };
                self.line(&format!("{m}[{k}] = {v}"));
            }
            3 if self.in_loop > 0 && self.r.chance(30) => {
                let c = self.cond(1);
                self.line(&format!("if {c} then break end"));
            }
            4 | 5 => {
                let c = self.cond(2);
                self.line(&format!("if {c} then"));
                {
                    let n = 1 + self.r.below(3) as usize;
                    self.block(n, d - 1);
                }
                if self.r.chance(40) {
                    let c = self.cond(2);
                    self.line(&format!("elseif {c} then"));
                    {
                        let n = 1 + self.r.below(2) as usize;
                        self.block(n, d - 1);
                    }
                }
                if self.r.chance(50) {
                    self.line("else");
                    {
                        let n = 1 + self.r.below(2) as usize;
                        self.block(n, d - 1);
                    }
                }
                self.line("end");
            }
            6 => {
                let v = self.fresh();
                let (a, b) = if self.r.chance(50) {
                    {
                        let a = self.r.below(5) as i64 - 2;
                        let b = self.r.below(12);
                        (format!("{a}"), format!("{b}"))
                    }
                } else {
                    {
                        let a = self.int_expr(1);
                        let b = self.int_expr(1);
                        (format!("({a}) % 7"), format!("({b}) % 9"))
                    }
                };
                let step = *self.r.pick(&["", ", 1", ", 2", ", -1", ", 3", ", -2"]);
                let (a, b) = if step.contains('-') { (b, a) } else { (a, b) };
                self.line(&format!("for {v} = {a}, {b}{step} do"));
                self.in_loop += 1;
                self.scopes.push(vec![v]);
                {
                    let n = 1 + self.r.below(3) as usize;
                    self.block(n, d - 1);
                }
                self.scopes.pop();
                self.in_loop -= 1;
                self.line("end");
            }
            7 => {
                // A while loop on a private counter.
                let c = self.fresh();
                let n = self.r.below(6);
                self.line(&format!("local {c} = 0"));
                self.line(&format!("while {c} < {n} do"));
                self.indent += 1;
                self.line(&format!("{c} = {c} + 1"));
                self.indent -= 1;
                self.in_loop += 1;
                {
                    let n = 1 + self.r.below(2) as usize;
                    self.block(n, d - 1);
                }
                self.in_loop -= 1;
                self.line("end");
            }
            8 => {
                let c = self.fresh();
                let n = 1 + self.r.below(4);
                self.line(&format!("local {c} = 0"));
                self.line("repeat");
                self.indent += 1;
                self.line(&format!("{c} = {c} + 1"));
                self.indent -= 1;
                self.in_loop += 1;
                {
                    let n = 1 + self.r.below(2) as usize;
                    self.block(n, d - 1);
                }
                self.in_loop -= 1;
                self.line(&format!("until {c} >= {n}"));
            }
            9 if self.r.chance(30) => {
                let e = self.value();
                let c = self.cond(1);
                self.line(&format!("if {c} then return {e} end"));
            }
            10 => {
                self.line("do");
                {
                    let n = 1 + self.r.below(2) as usize;
                    self.block(n, d - 1);
                }
                self.line("end");
            }
            _ => {
                let v = self.fresh();
                let e = self.int_expr(3);
                self.line(&format!("local {v} = {e}"));
                if let Some(s) = self.scopes.last_mut() {
                    s.push(v);
                }
            }
        }
    }

    /// A whole program.
    pub fn program(mut self) -> String {
        let nconst = self.r.below(3);
        for i in 0..nconst {
            let v = self.r.pick(LITS).to_string();
            let attr = if self.r.chance(50) { " <const>" } else { "" };
            self.line(&format!("local C{i}{attr} = {v}"));
            self.consts.push(format!("C{i}"));
        }
        if self.r.chance(50) {
            self.line("local T = { 10, 20, 30, [64] = 7, [-1] = 5, [1000] = true }");
            self.tables.push("T".into());
        }
        let nmaps = self.r.below(3);
        for i in 0..nmaps {
            if self.r.chance(50) {
                let kt = *self.r.pick(&["u32", "u64"]);
                let vt = *self.r.pick(&["u32", "u64"]);
                let n = *self.r.pick(&[4u64, 64, 1024]);
                self.line(&format!(
                    "local m{i} = map.hash {{ key = \"{kt}\", value = \"{vt}\", entries = {n} }}"
                ));
                self.maps.push((format!("m{i}"), false));
            } else {
                let vt = *self.r.pick(&["u32", "u64"]);
                self.line(&format!(
                    "local m{i} = map.array {{ value = \"{vt}\", entries = 16 }}"
                ));
                self.maps.push((format!("m{i}"), true));
            }
        }
        let nfun = self.r.below(3);
        for i in 0..nfun {
            let params = self.r.below(3) as usize;
            let takes_pkt = self.r.chance(50);
            let mut names = Vec::new();
            if takes_pkt {
                names.push("p".to_string());
            }
            let ps: Vec<String> = (0..params).map(|j| format!("a{j}")).collect();
            names.extend(ps.iter().cloned());
            self.line(&format!("local function f{i}({})", names.join(", ")));
            self.in_fun = true;
            self.pkt = takes_pkt.then(|| "p".to_string());
            self.scopes.push(ps);
            {
                let n = 1 + self.r.below(3) as usize;
                self.block(n, 2);
            }
            self.indent += 1;
            let e = self.value();
            self.line(&format!("return {e}"));
            self.indent -= 1;
            self.scopes.pop();
            self.in_fun = false;
            self.line("end");
            self.funs.push(Fun {
                name: format!("f{i}"),
                params,
                takes_pkt,
            });
        }
        self.pkt = Some("pkt".into());
        self.line("return function(pkt)");
        self.scopes.push(Vec::new());
        {
            let n = 2 + self.r.below(6) as usize;
            self.block(n, 3);
        }
        self.indent += 1;
        let e = if self.r.chance(70) {
            self.int_expr(2)
        } else {
            self.value()
        };
        self.line(&format!("return {e}"));
        self.indent -= 1;
        self.line("end");
        self.out
    }
}

#[test]
fn show_program() {
    if let Ok(s) = std::env::var("GEN_SEED") {
        println!("{}", ProgGen::new(s.parse().unwrap()).program());
    }
}

#[test]
fn dump_programs() {
    // Debugging aid: GEN_DUMP=dir writes generated programs as files.
    if let Ok(dir) = std::env::var("GEN_DUMP") {
        for seed in 0..200 {
            std::fs::write(format!("{dir}/gen{seed}.lua"), ProgGen::new(seed).program()).unwrap();
        }
    }
}

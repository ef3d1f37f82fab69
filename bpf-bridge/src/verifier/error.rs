//! Why a program was rejected: instruction, rule, register state, source line.

use core::fmt;

/// The rule a rejected program breaks.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Rule {
    /// Malformed instruction, bad jump, fall-through off the end, bad lddw.
    Structure,
    /// Instruction no path reaches.
    Unreachable,
    /// Division or modulo by an immediate zero.
    DivByZero,
    /// Shift by an immediate not below the operand width.
    ShiftRange,
    /// Unknown helper for the program type.
    UnknownHelper,
    /// Unknown map index in a pseudo lddw.
    BadMap,
    /// Recursion, too many frames, bad function layout.
    Calls,
    /// Read of an uninitialised register.
    UninitReg,
    /// Read of an uninitialised stack byte.
    UninitStack,
    /// Memory access outside a proven region, through a non-pointer, misaligned
    /// or of the wrong size.
    MemAccess,
    /// Arithmetic or comparison not allowed on this pointer.
    PointerArith,
    /// A pointer would leave the sandbox (returned, stored into memory, passed
    /// as a number).
    PointerLeak,
    /// A helper argument of the wrong type or size.
    HelperArg,
    /// A loop the analysis cannot prove to end.
    InfiniteLoop,
    /// The analysis hit a limit (instructions processed, pending states).
    TooComplex,
    /// Return value not a number.
    ReturnValue,
}

impl Rule {
    /// A stable kebab-case name (JSON and messages).
    pub fn name(self) -> &'static str {
        match self {
            Rule::Structure => "structure",
            Rule::Unreachable => "unreachable",
            Rule::DivByZero => "div-by-zero",
            Rule::ShiftRange => "shift-range",
            Rule::UnknownHelper => "unknown-helper",
            Rule::BadMap => "bad-map",
            Rule::Calls => "calls",
            Rule::UninitReg => "uninit-reg",
            Rule::UninitStack => "uninit-stack",
            Rule::MemAccess => "mem-access",
            Rule::PointerArith => "pointer-arith",
            Rule::PointerLeak => "pointer-leak",
            Rule::HelperArg => "helper-arg",
            Rule::InfiniteLoop => "infinite-loop",
            Rule::TooComplex => "too-complex",
            Rule::ReturnValue => "return-value",
        }
    }
}

/// A rejection.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VerifyError {
    /// Slot index of the offending instruction.
    pub insn: usize,
    /// The rule broken.
    pub rule: Rule,
    /// What exactly is wrong.
    pub message: String,
    /// The current frame's initialised registers, kernel style (`R1=pkt(off=0,r=14)`).
    pub state: String,
    /// `(file, line)` when the program carries a line table.
    pub source: Option<(String, u32)>,
}

impl VerifyError {
    pub(crate) fn new(insn: usize, rule: Rule, message: impl Into<String>) -> VerifyError {
        VerifyError {
            insn,
            rule,
            message: message.into(),
            state: String::new(),
            source: None,
        }
    }

    /// The error as a JSON object:
    /// `{"insn", "rule", "message", "state", "file", "line"}` (the last two may be null).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "insn": self.insn,
            "rule": self.rule.name(),
            "message": self.message,
            "state": self.state,
            "file": self.source.as_ref().map(|s| s.0.clone()),
            "line": self.source.as_ref().map(|s| s.1),
        })
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((file, line)) = &self.source {
            write!(f, "{file}:{line}: ")?;
        }
        write!(
            f,
            "insn {}: {}: {}",
            self.insn,
            self.rule.name(),
            self.message
        )?;
        if !self.state.is_empty() {
            write!(f, " [{}]", self.state)?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

/// Shorthand for building errors in the checks.
pub(crate) fn fail<T>(
    insn: usize,
    rule: Rule,
    message: impl Into<String>,
) -> Result<T, VerifyError> {
    Err(VerifyError::new(insn, rule, message))
}

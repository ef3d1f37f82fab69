//! The library facade under the `luabpf` binary: load programs of every kind,
//! read captures, run engines and format results. The binary only parses
//! arguments and prints.

pub mod alloc;
pub mod jitsel;
pub mod load;
pub mod oracle;

/// A user-facing failure: a message for stderr and the exit code (1–99).
#[derive(Debug)]
pub struct Failure {
    /// Process exit code.
    pub code: u8,
    /// What went wrong, already formatted for a person.
    pub message: String,
}

impl Failure {
    /// Bad input (a file that does not parse, a missing file): exit code 2.
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// A program the verifier or the compiler refused: exit code 3.
    pub fn rejected(message: impl Into<String>) -> Failure {
        Failure {
            code: 3,
            message: message.into(),
        }
    }

    /// A run in which some packet faulted, or a failed conformance vector: exit code 4.
    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure {
            code: 4,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads a file, naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::input(format!("{}: {e}", path.display())))
}

//! The kernel as an [`Engine`]: `--engine kernel`.

use super::{KernelProgram, NotRunCause};
use crate::engine::{Engine, Fault, FaultKind};
use crate::report::MapContents;
use std::collections::BTreeMap;

impl Engine for KernelProgram {
    fn name(&self) -> &str {
        "kernel"
    }

    /// One BPF_PROG_TEST_RUN; `pkt` receives the packet as the program left
    /// it. r0 is the kernel's 32 bits, zero-extended. Frames the kernel cannot
    /// show whole are not run and give an [`FaultKind::Engine`] fault (also
    /// counted by cause in [`KernelProgram::not_run`]).
    fn run_packet(&mut self, pkt: &mut [u8]) -> Result<u64, Fault> {
        let fault = |why| Fault {
            insn: 0,
            kind: FaultKind::Engine(why),
        };
        let cause = self.check_frame(pkt).err();
        match self.run_in_place(pkt) {
            Ok(Some(r0)) => Ok(r0 as u64),
            Ok(None) => Err(fault(match cause {
                Some(NotRunCause::TooShort { .. }) => {
                    "frame shorter than an Ethernet header: the kernel refuses it"
                }
                _ => "frame longer than the kernel shows an XDP program whole",
            })),
            Err(_) => Err(fault("BPF_PROG_TEST_RUN failed")),
        }
    }

    /// Every map's contents by name; a map the kernel fails to dump is empty.
    fn maps(&self) -> BTreeMap<String, MapContents> {
        KernelProgram::maps(self)
            .iter()
            .map(|m| (m.def.name.clone(), m.dump().unwrap_or_default()))
            .collect()
    }
}

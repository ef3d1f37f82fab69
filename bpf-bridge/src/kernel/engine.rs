//! The kernel as an [`Engine`]: `--engine kernel`.

use super::KernelProgram;
use crate::engine::{Engine, Fault, FaultKind};
use crate::report::MapContents;
use std::collections::BTreeMap;

impl Engine for KernelProgram {
    fn name(&self) -> &str {
        "kernel"
    }

    /// One BPF_PROG_TEST_RUN; `pkt` receives the packet as the program left
    /// it. r0 is the kernel's 32 bits, zero-extended. Frames the kernel cannot
    /// show whole are not run and give a [`FaultKind::NotRun`] with the cause
    /// (also counted in [`KernelProgram::not_run`]); a failed bpf() call is a
    /// [`FaultKind::Engine`] fault.
    fn run_packet(&mut self, pkt: &mut [u8]) -> Result<u64, Fault> {
        let fault = |kind| Fault { insn: 0, kind };
        let cause = self.check_frame(pkt).err();
        match self.run_in_place(pkt) {
            Ok(Some(r0)) => Ok(r0 as u64),
            Ok(None) => Err(fault(FaultKind::NotRun(
                cause.map_or("frame the kernel cannot show an XDP program whole", |c| {
                    c.reason()
                }),
            ))),
            Err(_) => Err(fault(FaultKind::Engine("BPF_PROG_TEST_RUN failed"))),
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

//! Helper calls (argument types, results), local calls and returns.

use super::bounds::Scalar;
use super::cfg::MAX_FRAMES;
use super::check::Checker;
use super::error::{fail, Rule, VerifyError};
use super::state::{Frame, Kind, RegState, State};
use crate::isa::Reg;
use crate::program::{helper_id, ProgType};

impl Checker<'_> {
    fn scalar_arg(&self, st: &State, pc: usize, r: Reg) -> Result<Scalar, VerifyError> {
        let v = self.reg(st, pc, r)?;
        if v.kind != Kind::Scalar {
            return fail(
                pc,
                Rule::PointerLeak,
                format!("pointer {r}={v} passed where a number is expected"),
            );
        }
        Ok(v.var)
    }

    pub fn call_helper(&mut self, st: &mut State, pc: usize, id: i32) -> Result<(), VerifyError> {
        let ret = match id {
            helper_id::MAP_LOOKUP_ELEM
            | helper_id::MAP_UPDATE_ELEM
            | helper_id::MAP_DELETE_ELEM => {
                let m = self.reg(st, pc, Reg::R1)?;
                if m.kind != Kind::MapPtr {
                    return fail(pc, Rule::HelperArg, format!("r1={m} must be a map"));
                }
                let Some(def) = self.prog.maps.get(m.aux as usize) else {
                    return fail(pc, Rule::BadMap, format!("map index {}", m.aux));
                };
                let (ks, vs) = (def.key_size as u64, def.value_size as u64);
                self.mem_arg(st, pc, Reg::R2, ks)?;
                match id {
                    helper_id::MAP_LOOKUP_ELEM => RegState {
                        id: self.fresh_id(),
                        ..RegState::ptr(Kind::MapValueOrNull, m.aux)
                    },
                    helper_id::MAP_UPDATE_ELEM => {
                        self.mem_arg(st, pc, Reg::R3, vs)?;
                        self.scalar_arg(st, pc, Reg::R4)?;
                        RegState::scalar(Scalar::UNKNOWN)
                    }
                    _ => RegState::scalar(Scalar::UNKNOWN),
                }
            }
            helper_id::TRACE_PRINTK => {
                let n = self.scalar_arg(st, pc, Reg::R2)?;
                self.demand_reg(st, Reg::R2);
                if n.umin == 0 {
                    return fail(
                        pc,
                        Rule::HelperArg,
                        format!("r2={n}: format size may be zero"),
                    );
                }
                self.mem_arg(st, pc, Reg::R1, n.umax)?;
                for r in [Reg::R3, Reg::R4, Reg::R5] {
                    let v = st.frame().regs[r.idx()];
                    if v.kind.is_ptr() {
                        return fail(
                            pc,
                            Rule::PointerLeak,
                            format!("pointer {r}={v} passed to trace_printk"),
                        );
                    }
                }
                RegState::scalar(Scalar::UNKNOWN)
            }
            helper_id::KTIME_GET_NS if self.prog.prog_type == ProgType::Raw => {
                // The conformance suite's helper 5 returns its first argument.
                RegState::scalar(self.scalar_arg(st, pc, Reg::R1)?)
            }
            helper_id::GET_PRANDOM_U32 | helper_id::GET_SMP_PROCESSOR_ID => {
                RegState::scalar(Scalar::low_bits(32))
            }
            helper_id::KTIME_GET_NS => RegState::scalar(Scalar::UNKNOWN),
            _ => return fail(pc, Rule::UnknownHelper, format!("unknown helper {id}")),
        };
        let f = st.frame_mut();
        for r in 1..=5 {
            f.regs[r] = RegState::NOT_INIT;
        }
        f.regs[0] = ret;
        Ok(())
    }

    pub fn call_local(&mut self, st: &mut State, pc: usize) -> Result<(), VerifyError> {
        if st.frames.len() >= MAX_FRAMES {
            return fail(pc, Rule::Calls, format!("more than {MAX_FRAMES} frames"));
        }
        let mut f = Frame::new(st.frames.len() as u32, pc);
        f.regs[1..=5].copy_from_slice(&st.frame().regs[1..=5]);
        st.frames.push(f);
        Ok(())
    }

    /// Returns the slot to continue at, or `None` at the end of the program.
    pub fn exit(&mut self, st: &mut State, pc: usize) -> Result<Option<usize>, VerifyError> {
        let r0 = self.reg(st, pc, Reg::R0)?;
        if st.frames.len() == 1 {
            if r0.kind != Kind::Scalar {
                return fail(
                    pc,
                    Rule::PointerLeak,
                    format!("r0={r0}: a pointer returned from the program"),
                );
            }
            return Ok(None);
        }
        let dead = st.frameno();
        if r0.kind == Kind::Stack && r0.aux == dead {
            return fail(
                pc,
                Rule::PointerLeak,
                "a function returns a pointer to its own stack",
            );
        }
        let callee = st.frames.pop().expect("two frames");
        let f = st.frame_mut();
        for r in 1..=5 {
            f.regs[r] = RegState::NOT_INIT;
        }
        f.regs[0] = r0;
        let mut escaped = false;
        st.for_each_reg(|r| escaped |= r.kind == Kind::Stack && r.aux == dead);
        if escaped {
            return fail(
                pc,
                Rule::PointerLeak,
                "a pointer to a returning function's stack escapes it",
            );
        }
        Ok(Some(callee.callsite + 1))
    }
}

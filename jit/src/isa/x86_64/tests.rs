//! Encoder table: each call against its disassembly (decoded by iced-x86).

use super::asm::{Alu, Asm, Cond, Imm32, Mem, Shift};
use super::regs::Gpr;
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

#[track_caller]
fn check(f: impl FnOnce(&mut Asm), expected: &str) {
    let mut a = Asm::default();
    f(&mut a);
    let no_labels = a.buf.new_labels(0);
    let (code, _) = a.buf.finish(false, no_labels, 0).unwrap();
    let mut dec = Decoder::with_ip(64, &code, 0, DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    let mut got = Vec::new();
    while dec.can_decode() {
        let i = dec.decode();
        let mut s = String::new();
        fmt.format(&i, &mut s);
        got.push(s);
    }
    assert_eq!(got.join("; "), expected, "bytes {code:02x?}");
}

#[test]
fn encodings() {
    use Gpr as G;
    let m = |base, disp| Mem { base, disp };
    check(|a| a.alu_rr(Alu::Add, true, G::RAX, G::R15), "add rax,r15");
    check(|a| a.alu_rr(Alu::Sub, false, G::R8, G::RDI), "sub r8d,edi");
    check(|a| a.alu_rr(Alu::Adc, true, G::RAX, G::R10), "adc rax,r10");
    check(|a| a.alu_ri(Alu::Adc, true, G::R13, 0), "adc r13,0");
    check(
        |a| a.alu_ri(Alu::Sbb, true, G::RBX, -1),
        "sbb rbx,0FFFFFFFFFFFFFFFFh",
    );
    check(
        |a| a.alu_ri(Alu::Xor, true, G::RBX, -1),
        "xor rbx,0FFFFFFFFFFFFFFFFh",
    );
    check(
        |a| a.alu_ri(Alu::And, false, G::R13, 0x12345),
        "and r13d,12345h",
    );
    check(
        |a| a.alu_ri(Alu::Cmp, true, G::R11, -1),
        "cmp r11,0FFFFFFFFFFFFFFFFh",
    );
    check(
        |a| a.alu_rm(Alu::Cmp, true, G::RBP, m(G::R12, 64)),
        "cmp rbp,[r12+40h]",
    );
    check(
        |a| a.alu_mi(Alu::Sub, true, m(G::R12, 48), 1),
        "sub qword ptr [r12+30h],1",
    );
    check(|a| a.test_rr(false, G::RSI, G::RSI), "test esi,esi");
    check(|a| a.test_ri(true, G::R14, 0x80), "test r14,80h");
    check(|a| a.mov_rr(true, G::RBP, G::RSP), "mov rbp,rsp");
    check(|a| a.mov_rr(false, G::R9, G::R9), "mov r9d,r9d");
    check(|a| a.mov_ri32(G::R10, 0xdeadbeef), "mov r10d,0DEADBEEFh");
    check(
        |a| a.mov_ri_sx(G::RCX, Imm32(-2)),
        "mov rcx,0FFFFFFFFFFFFFFFEh",
    );
    check(
        |a| a.movabs(G::R14, 0x1122334455667788),
        "mov r14,1122334455667788h",
    );
    check(|a| a.imul_rr(true, G::RDX, G::R13), "imul rdx,r13");
    check(|a| a.imul_rri(false, G::RBX, G::RBX, 1000), "imul ebx,3E8h");
    check(|a| a.shift_ri(Shift::Sar, true, G::RDI, 63), "sar rdi,3Fh");
    check(|a| a.shift_ri(Shift::Shl, false, G::R15, 1), "shl r15d,1");
    check(|a| a.shift_cl(Shift::Shr, true, G::R9), "shr r9,cl");
    check(|a| a.rol16_8(G::R8), "rol r8w,8");
    check(|a| a.neg(false, G::RAX), "neg eax");
    check(
        |a| a.cmov_rr(Cond::E, true, G::RAX, G::R11),
        "cmove rax,r11",
    );
    check(
        |a| a.cmov_rr(Cond::Le, true, G::R13, G::RSI),
        "cmovle r13,rsi",
    );
    check(|a| a.setcc(Cond::Ne, G::R10), "setne r10b");
    check(|a| a.setcc(Cond::A, G::RSI), "seta sil");
    check(|a| a.setcc(Cond::B, G::RAX), "setb al");
    check(|a| a.div(true, true, G::R11), "idiv r11");
    check(|a| a.div(false, false, G::RBX), "div ebx");
    check(|a| a.cqo(true), "cqo");
    check(|a| a.cqo(false), "cdq");
    check(|a| a.bswap(true, G::R13), "bswap r13");
    check(|a| a.bswap(false, G::RSI), "bswap esi");
    check(|a| a.movzx_rr(1, G::RAX, G::RSI), "movzx eax,sil");
    check(|a| a.movzx_rr(2, G::R8, G::R8), "movzx r8d,r8w");
    check(|a| a.movsx_rr(true, 1, G::RBX, G::RDI), "movsx rbx,dil");
    check(|a| a.movsx_rr(false, 2, G::RCX, G::RDX), "movsx ecx,dx");
    check(|a| a.movsx_rr(true, 4, G::RCX, G::R15), "movsxd rcx,r15d");
    check(
        |a| a.load(1, false, G::RAX, m(G::RDI, 0)),
        "movzx eax,byte ptr [rdi]",
    );
    check(
        |a| a.load(2, true, G::R13, m(G::RBP, -8)),
        "movsx r13,word ptr [rbp-8]",
    );
    check(
        |a| a.load(4, true, G::RSI, m(G::R13, 0)),
        "movsxd rsi,[r13]",
    );
    check(
        |a| a.load(4, false, G::RSI, m(G::R12, 1000)),
        "mov esi,[r12+3E8h]",
    );
    check(
        |a| a.load(8, false, G::RSP, m(G::R12, 24)),
        "mov rsp,[r12+18h]",
    );
    check(
        |a| a.movbe_load(2, G::RCX, m(G::RDI, 12)),
        "movbe cx,[rdi+0Ch]",
    );
    check(
        |a| a.movbe_load(8, G::R14, m(G::RBP, -16)),
        "movbe r14,[rbp-10h]",
    );
    check(|a| a.store(1, m(G::RBP, -1), G::RSI), "mov [rbp-1],sil");
    check(|a| a.store(2, m(G::R11, 0), G::R8), "mov [r11],r8w");
    check(|a| a.store(8, m(G::RSP, 0), G::RAX), "mov [rsp],rax");
    check(
        |a| a.store_i(1, m(G::RDI, 2), -1),
        "mov byte ptr [rdi+2],0FFh",
    );
    check(
        |a| a.store_i(2, m(G::RDI, 2), 0x1234),
        "mov word ptr [rdi+2],1234h",
    );
    check(
        |a| a.store_i(8, m(G::RBP, -8), -5),
        "mov qword ptr [rbp-8],0FFFFFFFFFFFFFFFBh",
    );
    check(|a| a.lea(G::R11, m(G::RBX, -300)), "lea r11,[rbx-12Ch]");
    check(
        |a| a.lock_alu_mr(Alu::Or, false, m(G::RBP, -4), G::RDX),
        "lock or [rbp-4],edx",
    );
    check(
        |a| a.lock_xadd(true, m(G::RDI, 8), G::RCX),
        "lock xadd [rdi+8],rcx",
    );
    check(
        |a| a.xchg_mr(true, m(G::RDI, 8), G::R15),
        "xchg [rdi+8],r15",
    );
    check(
        |a| a.lock_cmpxchg(false, m(G::RAX, 0), G::R11),
        "lock cmpxchg [rax],r11d",
    );
    check(|a| a.push(G::R12), "push r12");
    check(|a| a.pop(G::RBX), "pop rbx");
    check(|a| a.call_m(m(G::R12, 80)), "call qword ptr [r12+50h]");
    check(
        |a| {
            a.ret();
            a.int3()
        },
        "ret; int3",
    );
}

#[test]
fn branches_shrink_when_they_reach() {
    let mut a = Asm::default();
    let top = a.buf.new_labels(3);
    let (far, mid) = (top.nth(1), top.nth(2));
    a.buf.bind(top);
    a.jcc(Cond::E, far); // 0: short (target within 127)
    a.jmp(top); // short backward
    for i in 0..200 {
        if i == 1 {
            a.buf.bind(mid); // offset 12 before shrinking
        }
        a.int3();
    }
    a.jcc(Cond::Ne, top); // too far back: stays long
    a.buf.bind(far);
    a.ret();
    let (code, offsets) = a.buf.finish(true, top, 3).unwrap();
    // The first jcc cannot shrink: `far` is 200+ bytes away.
    assert_eq!(&code[..2], &[0x0f, 0x84]);
    // The jmp back to 0 shrinks.
    assert_eq!(&code[6..8], &[0xeb, (-8i8) as u8]);
    assert_eq!(offsets.to_vec(), [0, 6 + 2 + 200 + 6, 12 - 3]); // mid: after the 3 saved bytes
    assert_eq!(offsets.get(2), Some(12 - 3));
    assert_eq!(code.len(), 6 + 2 + 200 + 6 + 1);
}

/// The memory compares of folded loads, and `lea` at 32 bits.
#[test]
fn memory_compares() {
    use Gpr as G;
    let m = |base, disp| Mem { base, disp };
    let ok = |b: bool| assert!(b);
    check(
        |a| ok(a.cmp_mi(1, m(G::RSI, 0), 10)),
        "cmp byte ptr [rsi],0Ah",
    );
    check(
        |a| ok(a.cmp_mi(1, m(G::R13, 3), 0xff)),
        "cmp byte ptr [r13+3],0FFh",
    );
    check(
        |a| ok(a.cmp_mi(2, m(G::RBP, -8), 0x7f)),
        "cmp word ptr [rbp-8],7Fh",
    );
    check(|a| assert!(!a.cmp_mi(2, m(G::RAX, 0), 0x80)), "");
    check(
        |a| ok(a.cmp_mi(4, m(G::R12, 0), 0x12345)),
        "cmp dword ptr [r12],12345h",
    );
    check(
        |a| ok(a.cmp_mi(8, m(G::RDX, 0x100), -1)),
        "cmp qword ptr [rdx+100h],0FFFFFFFFFFFFFFFFh",
    );
    check(
        |a| ok(a.test_mi(1, m(G::RDI, 1), 0x80)),
        "test byte ptr [rdi+1],80h",
    );
    check(
        |a| ok(a.test_mi(4, m(G::R8, 0), 0x8000)),
        "test dword ptr [r8],8000h",
    );
    check(
        |a| ok(a.test_mi(8, m(G::RBX, 0), 1)),
        "test qword ptr [rbx],1",
    );
    check(|a| assert!(!a.test_mi(2, m(G::RBX, 0), 1)), "");
    check(|a| a.lea_w(false, G::R8, m(G::RSI, 1)), "lea r8d,[rsi+1]");
    check(|a| a.lea_w(true, G::RAX, m(G::R15, -2)), "lea rax,[r15-2]");
}

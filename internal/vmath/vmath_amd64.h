// C4 defines name<> as four copies of the 64-bit value bits: a 256-bit
// memory operand (or a broadcast) of the constant.
#define C4(name, bits) DATA name<>+0(SB)/8, bits; DATA name<>+8(SB)/8, bits; DATA name<>+16(SB)/8, bits; DATA name<>+24(SB)/8, bits; GLOBL name<>(SB), RODATA|NOPTR, $32

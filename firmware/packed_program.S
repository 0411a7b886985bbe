/* The packed bootloader (tools/fw_pack.c's output, named by PACKED_FILE) placed after the
 * stub in flash, for firmware/unpack_stub.c. */
  .section .packed_program, "a"
  .balign 4
  .global packed_program
packed_program:
  .incbin PACKED_FILE

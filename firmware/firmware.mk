# The iapd bootloader for the STM324xG-EVAL (STM32F407), cross-compiled with arm-none-eabi-gcc
# and newlib-nano. `make firmware` in the host build (mk/firmware.am) runs this file and passes
# the lists of src/ and lwIP files it builds iapd from, so both are built from the same files
# with the same src/lwipopts.h:
#
#   make -f firmware/firmware.mk SRCDIR=/abs/srcdir LWIP_DIR=/abs/lwip OUT=fw \
#        IAP_SRCS='src/boot.c ...' GEN_SRCS='/abs/build/src/http_fsdata.c' \
#        LWIP_SRCS='core/init.c ...' [DEFS='-DUSE_DHCP=1'] image
#
# Targets:
#   image   OUT/iapd-boot.elf .bin .hex .map, and one size line
#   blink   the demo application for IAP (fixtures/blink) linked at 0x08010000, and the
#           deliberately wrong one linked at 0x08000000: OUT/blink-0x08010000.{elf,bin}, ...
#   sizes   every configuration of AN3376 Table 4, built in OUT/size/NAME/, and the report
#   qemu    for tests/firmware/qemu_boot.sh: OUT/hello-app.bin, an application that writes
#           one line on USART3, and QEMU_ROWS built with the Key read as released
#           (-DBOARD_KEY_FORCE=0) in OUT/qemu/NAME/; tftp-log faulting at boot
#           (-DBOARD_FAULT_AT_BOOT=1 and 2: an lwIP assertion, a bus fault) in OUT/fault-N/
#
# DEFS takes the compile-time options of src/iap_opts.h, src/http_opts.h and
# firmware/board_opts.h: -DUSE_IAP_HTTP=0 -DUSE_DHCP=1 -DIAP_LOG=0 -DRMII_MODE ...

CROSS ?= arm-none-eabi-
CC := $(CROSS)gcc
OBJCOPY := $(CROSS)objcopy
SIZE := $(CROSS)size
NM := $(CROSS)nm
NAME ?= iapd-boot
OUT ?= fw
DEFS ?=
WARN_CFLAGS ?= -Wall -Wextra -Werror

ifeq ($(SRCDIR),)
$(error SRCDIR must name the iapd source tree; run `make firmware` in the build directory)
endif
ifeq ($(wildcard $(LWIP_DIR)/src/core/init.c),)
$(error LWIP_DIR=$(LWIP_DIR) holds no lwIP tree; run `make firmware` in the build directory)
endif

include $(SRCDIR)/firmware/sources.am
FW_SRCS := $(FIRMWARE_C)

# Size first: -Os, one section per function and object so the linker drops what is not
# used, link-time optimisation across src/, lwIP and firmware/, newlib-nano without float
# printf. __FILE__ relative to the trees (lwIP's assertion texts are compiled out anyway).
ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
# The crypto of the boot policies (src/iap_crypto.h), from Debian's source packages fetched
# by scripts/bootstrap.sh crypto: SHA-256 from mbed TLS (third_party/mbedtls, configured by
# firmware/mbedtls_sha256_config.h), which every build links since the default policy,
# integrity, hashes the image at reset; ECDSA P-256 verification from BearSSL
# (third_party/bearssl), which --gc-sections drops unless the policy is signature. Each is the
# smaller of the two libraries for its job, measured (firmware/README.md).
MBEDTLS_DIR ?= $(SRCDIR)/third_party/mbedtls
BEARSSL_DIR ?= $(SRCDIR)/third_party/bearssl
MBEDTLS_SRCS := sha256.c platform_util.c
BEARSSL_SRCS := ec/ec_prime_i15.c ec/ec_secp256r1.c ec/ec_secp384r1.c ec/ec_secp521r1.c \
	ec/ecdsa_i15_vrfy_raw.c ec/ecdsa_i15_bits.c int/i15_add.c int/i15_bitlen.c int/i15_decmod.c \
	int/i15_decode.c int/i15_encode.c int/i15_fmont.c int/i15_iszero.c int/i15_modpow.c \
	int/i15_montmul.c int/i15_mulacc.c int/i15_muladd.c int/i15_ninv15.c int/i15_reduce.c \
	int/i15_rshift.c int/i15_sub.c int/i15_tmont.c codec/ccopy.c codec/dec32be.c codec/enc32be.c
# The public key of the `signature` policy, built in (default: the tests' key).
SIGNING_KEY ?= $(SRCDIR)/fixtures/keys/test-signing.pub
FW_CPPFLAGS := -I$(SRCDIR)/firmware/lwip-arch -I$(SRCDIR)/firmware -I$(SRCDIR)/src \
	-I$(LWIP_DIR)/src/include -I$(MBEDTLS_DIR)/include -I$(BEARSSL_DIR)/inc -I$(OUT)/gen \
	'-DMBEDTLS_CONFIG_FILE="mbedtls_sha256_config.h"' \
	-DIAP_WITH_SIGNATURE=$(if $(findstring IAP_VERIFY_SIGNATURE,$(DEFS)),1,0) \
	-DIAP_WITH_DUAL_SLOTS=$(if $(findstring IAP_SLOTS_DUAL,$(DEFS))$(findstring IAP_SLOTS_SWAP,$(DEFS)),1,0) \
	-DIAP_CONFIG_FIXED=1 -DFLASH_SYNC_NEEDED=0 -DIAP_WITH_LOG_DEBUG=$(if $(findstring LOG_DEBUG=1,$(DEFS)),1,0) \
	-DIAP_WITH_INTEGRITY=$(if $(findstring IAP_VERIFY_VECTORS,$(DEFS)),0,1) $(DEFS)
# -fno-tree-switch-conversion: switches as branches, not tables of values (CSWTCH): 55 B
# less on http, whose switches are few-case and sparse.
FW_CFLAGS := $(ARCH) -std=gnu11 -Os -g -flto -ffunction-sections -fdata-sections \
	-fno-common -fno-unwind-tables -fno-asynchronous-unwind-tables -fno-tree-switch-conversion \
	-fmacro-prefix-map=$(LWIP_DIR)/=lwip/ -fmacro-prefix-map=$(SRCDIR)/=
FW_LDFLAGS := $(ARCH) -Os -g -flto -flto-partition=one --specs=nano.specs -nostartfiles -Wl,--gc-sections

# The user area, as src/iap_opts.h (or DEFS) defines it: the linker refuses to reach it.
USER_FLASH := $(shell echo USER_FLASH_FIRST_PAGE_ADDRESS \
	| $(CC) -E -P $(FW_CPPFLAGS) -include iap_opts.h -x c - | tail -n 1 \
	| sed -e 's/[() ]//g' -e 's/[uUlL]*$$//')

# Without USE_IAP_HTTP lwIP has no TCP (src/lwipopts.h), and the HTTP server's files (named
# src/http_*, src/multipart*, and the generated pages) are left out; without USE_IAP_TFTP
# and USE_DHCP it has no UDP, and the TFTP server's files (src/tftp_*, src/netascii*) are.
opt_value = $(shell echo $(1) | $(CC) -E -P $(FW_CPPFLAGS) -include $(2) -x c - | tail -n 1)
USE_HTTP := $(call opt_value,USE_IAP_HTTP,http_opts.h)
USE_UDP := $(shell echo $$(( $(call opt_value,LWIP_UDP,lwipopts.h) )))
HTTP_SRCS := src/http_% src/multipart%
TFTP_SRCS := src/tftp_% src/netascii%
BUILD_SRCS := $(filter-out $(if $(filter 0,$(USE_HTTP)),$(HTTP_SRCS)) \
	$(if $(filter 0,$(USE_UDP)),$(TFTP_SRCS)),$(IAP_SRCS))
BUILD_GEN := $(if $(filter 0,$(USE_HTTP)),,$(GEN_SRCS))
BUILD_FW := $(FW_SRCS)

OBJS := $(addprefix $(OUT)/obj/,$(BUILD_SRCS:.c=.o)) \
	$(addprefix $(OUT)/obj/gen/,$(notdir $(BUILD_GEN:.c=.o))) \
	$(addprefix $(OUT)/obj/lwip/,$(LWIP_SRCS:.c=.o)) \
	$(addprefix $(OUT)/obj/firmware/,$(BUILD_FW:.c=.o)) \
	$(addprefix $(OUT)/obj/mbedtls/,$(MBEDTLS_SRCS:.c=.o)) \
	$(addprefix $(OUT)/obj/bearssl/,$(BEARSSL_SRCS:.c=.o))

# Objects are rebuilt when the compiler command changes (other DEFS, another compiler).
# write_stamp FILE,TEXT: FILE holds TEXT, rewritten (so newer) only when TEXT changed.
write_stamp = $(shell mkdir -p $(dir $(1)) && { [ "$$(cat $(1) 2>/dev/null)" = '$(2)' ] \
	|| echo '$(2)' > $(1); })
STAMP := $(OUT)/obj/.flags
# PACKER (lzma or lz4, below) is in the stamp: the stub and the packed program follow it.
PACKER ?= lzma
$(call write_stamp,$(STAMP),$(CC) $(FW_CPPFLAGS) $(FW_CFLAGS) $(WARN_CFLAGS) PACKER=$(PACKER))

.PHONY: image blink sizes
.DELETE_ON_ERROR:
.SECONDARY:

image: $(OUT)/$(NAME).bin $(OUT)/$(NAME).hex
	@$(SIZE) -A $(OUT)/$(NAME)-sram.elf | awk -v flash=$$(wc -c < $(OUT)/$(NAME).bin) \
		'$$1 ~ /^\.(isr_vector|text|ARM\.exidx|data)$$/ { prog += $$2 } $$1 == ".bss" { bss = $$2 } \
		$$1 == ".ccm" { ccm = $$2 } END { printf "firmware: %s: %u bytes of flash below %s: the program (%u bytes, run from SRAM) packed; SRAM %u bytes (program + bss), CCM %u\n", \
		"$(OUT)/$(NAME).bin", flash, "$(USER_FLASH)", prog, prog + bss, ccm }'

$(OUT)/obj/src/%.o: $(SRCDIR)/src/%.c $(STAMP)
	@mkdir -p $(@D)
	@echo "  CC(arm)  $(@:$(OUT)/obj/%=%)"
	@$(CC) $(FW_CPPFLAGS) $(FW_CFLAGS) $(WARN_CFLAGS) -MMD -MP -c -o $@ $<

$(OUT)/obj/firmware/%.o: $(SRCDIR)/firmware/%.c $(STAMP)
	@mkdir -p $(@D)
	@echo "  CC(arm)  $(@:$(OUT)/obj/%=%)"
	@$(CC) $(FW_CPPFLAGS) $(FW_CFLAGS) $(WARN_CFLAGS) -MMD -MP -c -o $@ $<

# Sources the host build generates (the HTTP pages as C data).
define gen_rule
$(OUT)/obj/gen/$(notdir $(1:.c=.o)): $(1) $(STAMP)
	@mkdir -p $$(@D)
	@echo "  CC(arm)  gen/$(notdir $(1:.c=.o))"
	@$$(CC) $$(FW_CPPFLAGS) $$(FW_CFLAGS) $$(WARN_CFLAGS) -MMD -MP -c -o $$@ $$<
endef
$(foreach g,$(BUILD_GEN),$(eval $(call gen_rule,$(g))))

# mbed TLS is third-party code too.
$(OUT)/obj/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c $(STAMP)
	@test -f $(MBEDTLS_DIR)/library/sha256.c || { echo "firmware: no mbed TLS in $(MBEDTLS_DIR): run scripts/bootstrap.sh crypto" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "  CC(arm)  mbedtls/$*.o"
	@$(CC) $(FW_CPPFLAGS) $(FW_CFLAGS) -w -MMD -MP -c -o $@ $<

# The signing key as C: the 65-byte point at the end of the SubjectPublicKeyInfo.
$(OUT)/gen/signing_key.h: $(SIGNING_KEY)
	@mkdir -p $(@D)
	@python3 -c 'import base64,sys; t=open(sys.argv[1]).read(); d=base64.b64decode("".join(l for l in t.splitlines() if l and not l.startswith("-----"))) if "BEGIN" in t else open(sys.argv[1],"rb").read(); p=d[-65:]; assert len(d)==91 and p[0]==4, "not a P-256 public key"; print("/* generated from %s */\n#define IAP_SIGNING_KEY_POINT { %s }" % (sys.argv[1].split("/")[-1], ", ".join("0x%02x" % b for b in p)))' $< > $@

$(OUT)/obj/firmware/main.o: $(OUT)/gen/signing_key.h

# lwIP is third-party code: our warnings (and -Werror) are for our code only.
$(OUT)/obj/lwip/%.o: $(LWIP_DIR)/src/%.c $(STAMP)
	@mkdir -p $(@D)
	@echo "  CC(arm)  lwip/$*.o"
	@$(CC) $(FW_CPPFLAGS) $(FW_CFLAGS) -w -MMD -MP -c -o $@ $<

# BearSSL is third-party code too.
$(OUT)/obj/bearssl/%.o: $(BEARSSL_DIR)/src/%.c $(STAMP)
	@test -f $(BEARSSL_DIR)/src/ec/ec_prime_i15.c || { echo "firmware: no BearSSL in $(BEARSSL_DIR): run scripts/bootstrap.sh crypto" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "  CC(arm)  bearssl/$*.o"
	@$(CC) $(FW_CPPFLAGS) -I$(BEARSSL_DIR)/src $(FW_CFLAGS) -w -MMD -MP -c -o $@ $<

# The program, linked to run from SRAM (stm32f407-boot.ld): iapd-boot-sram.elf is what a
# debugger and addr2line want. lwIP's memory goes to CCM_BASE (QEMU's builds move it).
CCM_BASE ?= 0x10000000
$(OUT)/$(NAME)-sram.elf: $(OBJS) $(SRCDIR)/firmware/stm32f407-boot.ld
	@echo "  LD(arm)  $@"
	@$(CC) $(FW_LDFLAGS) -T $(SRCDIR)/firmware/stm32f407-boot.ld \
		-Wl,--defsym=CCM_BASE=$(CCM_BASE) \
		-Wl,-Map=$(OUT)/$(NAME)-sram.map -o $@ $(OBJS)

$(OUT)/$(NAME)-sram.bin: $(OUT)/$(NAME)-sram.elf
	@$(OBJCOPY) -O binary $< $@

# The packer (tools/fw_pack.c), a host program linked with liblzma; one per `make firmware`,
# shared by the rows. PACKER: lzma (the smallest image) or lz4 (15 to 30 times faster to
# unpack at reset, some 20% larger): firmware/README.md, "Reset, IAP mode, jump".
HOST_CC ?= cc
FW_PACK ?= $(OUT)/fw-pack
FW_PACK_SRCS := $(SRCDIR)/tools/fw_pack.c $(SRCDIR)/tools/lz4_pack.c $(SRCDIR)/firmware/lz4_block.c \
	$(SRCDIR)/firmware/lzma_block.c $(SRCDIR)/firmware/thumb_calls.c
$(FW_PACK): $(FW_PACK_SRCS) $(SRCDIR)/tools/lz4_pack.h $(SRCDIR)/firmware/lz4_block.h \
		$(SRCDIR)/firmware/lzma_block.h $(SRCDIR)/firmware/thumb_calls.h
	@mkdir -p $(@D)
	@echo "  CC(host) $@"
	@$(HOST_CC) -O2 $(WARN_CFLAGS) -I$(SRCDIR)/firmware -I$(SRCDIR)/tools -o $@ $(FW_PACK_SRCS) -llzma

$(OUT)/$(NAME).packed: $(OUT)/$(NAME)-sram.bin $(FW_PACK) $(STAMP)
	@case '$(PACKER)' in lzma|lz4) ;; *) echo "firmware.mk: PACKER is lzma or lz4, not '$(PACKER)'" >&2; exit 1 ;; esac
	@$(FW_PACK) $(if $(filter lz4,$(PACKER)),--lz4) $< $@

# The image in flash: the stub (unpack_stub.c, the PACKER's decoder, thumb_calls.c,
# clock_pll.c) and the packed program behind it. No LTO, no C library: the stub runs before
# anything is set up.
# -fno-inline-functions-called-once: the LZMA decoder's helpers stay functions, 102 B less.
STUB_CFLAGS := $(ARCH) -std=gnu11 -Os -g -ffreestanding -fno-tree-loop-distribute-patterns \
	-fno-inline-functions-called-once -ffunction-sections -fdata-sections $(WARN_CFLAGS) \
	-DSTUB_PACKER_LZ4=$(if $(filter lz4,$(PACKER)),1,0)
STUB_OBJS := $(OUT)/obj/stub/unpack_stub.o $(OUT)/obj/stub/$(PACKER)_block.o \
	$(OUT)/obj/stub/thumb_calls.o $(OUT)/obj/stub/clock_pll.o
STUB_STAMP := $(OUT)/obj/stub/.flags
$(call write_stamp,$(STUB_STAMP),$(CC) $(STUB_CFLAGS))
$(OUT)/obj/stub/%.o: $(SRCDIR)/firmware/%.c $(STAMP) $(STUB_STAMP)
	@mkdir -p $(@D)
	@echo "  CC(arm)  stub/$*.o"
	@$(CC) $(STUB_CFLAGS) -MMD -MP -c -o $@ $<

$(OUT)/$(NAME).elf: $(STUB_OBJS) $(OUT)/$(NAME).packed $(SRCDIR)/firmware/packed_program.S \
		$(SRCDIR)/firmware/stm32f407-stub.ld
	@case '$(USER_FLASH)' in 0x[0-9a-fA-F]*) ;; *) echo "firmware.mk: cannot read USER_FLASH_FIRST_PAGE_ADDRESS from iap_opts.h (got '$(USER_FLASH)')" >&2; exit 1 ;; esac
	@echo "  LD(arm)  $@"
	@$(CC) $(ARCH) -nostdlib -Wl,--gc-sections -T $(SRCDIR)/firmware/stm32f407-stub.ld \
		-Wl,--defsym=USER_FLASH_FIRST_PAGE_ADDRESS=$(USER_FLASH) \
		'-DPACKED_FILE="$(OUT)/$(NAME).packed"' -Wl,-Map=$(OUT)/$(NAME).map -o $@ \
		$(STUB_OBJS) $(SRCDIR)/firmware/packed_program.S \
	|| { echo "firmware: $(OUT)/$(NAME).elf not linked; the bootloader must end below the user flash at $(USER_FLASH) ($(DEFS))" >&2; exit 1; }

$(OUT)/$(NAME).bin: $(OUT)/$(NAME).elf
	@$(OBJCOPY) -O binary $< $@

$(OUT)/$(NAME).hex: $(OUT)/$(NAME).elf
	@$(OBJCOPY) -O ihex $< $@

# ---- the demo application (fixtures/blink) ----------------------------------------------
BLINK_SRC := $(SRCDIR)/fixtures/blink/blink.c
BLINK_LD := $(SRCDIR)/fixtures/blink/blink.ld
BLINK_BASES := 0x08010000 0x08000000

blink: $(foreach b,$(BLINK_BASES),$(OUT)/blink-$(b).bin)

$(OUT)/blink-%.elf: $(BLINK_SRC) $(BLINK_LD)
	@mkdir -p $(@D)
	@echo "  LD(arm)  $@"
	@$(CC) $(ARCH) -std=gnu11 -Os -g -ffunction-sections -fdata-sections $(WARN_CFLAGS) \
		-ffreestanding -nostdlib -Wl,--gc-sections -T $(BLINK_LD) -Wl,--defsym=APP_BASE=$* \
		-Wl,-Map=$(@:.elf=.map) -o $@ $(BLINK_SRC)

$(OUT)/blink-%.bin: $(OUT)/blink-%.elf
	@$(OBJCOPY) -O binary $< $@

# ---- what the QEMU test boots (tests/firmware/qemu_boot.sh) ----------------------------
HELLO_SRC := $(SRCDIR)/tests/firmware/hello_app.c

$(OUT)/hello-app.elf: $(HELLO_SRC) $(BLINK_LD) $(STAMP)
	@mkdir -p $(@D)
	@echo "  LD(arm)  $@"
	@$(CC) $(ARCH) -std=gnu11 -Os -g -ffunction-sections -fdata-sections $(WARN_CFLAGS) \
		-ffreestanding -nostdlib -Wl,--gc-sections -T $(BLINK_LD) '-DHELLO_BASE="$(USER_FLASH)"' \
		-Wl,--defsym=APP_BASE=$(USER_FLASH) -o $@ $(HELLO_SRC)

$(OUT)/hello-app.bin: $(OUT)/hello-app.elf
	@$(OBJCOPY) -O binary $< $@

# A build without log and one with everything, both with AN3376's check: the jump needs no
# more; everything with the integrity check; and the signature build, whose check is the one
# with a library of bignums and a heap behind it. Each gets the hello application linked at
# its own user flash.
QEMU_ROWS ?= tftp both-log-dhcp integrity-dhcp swap signature

.PHONY: qemu
qemu: $(OUT)/hello-app.bin $(foreach r,$(QEMU_ROWS),qemu-$(r)) qemu-fault-1 qemu-fault-2

# QEMU's STM32F405 has no CCM RAM (0x10000000) but 192 KiB of SRAM: the builds it boots put
# lwIP's memory at 0x20020000, the 64 KiB above the silicon's 128 (stm32f407-boot.ld).
QEMU_CCM_BASE := 0x20020000

# tftp-log with a fault right after the power-on line (BOARD_FAULT_AT_BOOT, board_opts.h):
# 1, an lwIP assertion, in OUT/fault-1/; 2, a bus fault, in OUT/fault-2/.
qemu-fault-%: $(FW_PACK)
	@$(MAKE) --no-print-directory -f $(SRCDIR)/firmware/firmware.mk SRCDIR=$(SRCDIR) \
		LWIP_DIR=$(LWIP_DIR) IAP_SRCS='$(IAP_SRCS)' GEN_SRCS='$(GEN_SRCS)' \
		LWIP_SRCS='$(LWIP_SRCS)' WARN_CFLAGS='$(WARN_CFLAGS)' CROSS=$(CROSS) \
		FW_PACK=$(FW_PACK) CCM_BASE=$(QEMU_CCM_BASE) OUT=$(OUT)/fault-$* \
		DEFS='$(call row_defs,$(filter tftp-log|%,$(SIZE_ROWS))) -DBOARD_FAULT_AT_BOOT=$* $(DEFS)' \
		bin

# tftp-log packed with the other packer, PACKER=lz4, in OUT/lz4/ (for QEMU's RAM): booted
# as its row is, so that both decoders run on the core.
.PHONY: qemu-packer-lz4
qemu: qemu-packer-lz4
qemu-packer-lz4: $(FW_PACK)
	@$(MAKE) --no-print-directory -f $(SRCDIR)/firmware/firmware.mk SRCDIR=$(SRCDIR) \
		LWIP_DIR=$(LWIP_DIR) IAP_SRCS='$(IAP_SRCS)' GEN_SRCS='$(GEN_SRCS)' \
		LWIP_SRCS='$(LWIP_SRCS)' WARN_CFLAGS='$(WARN_CFLAGS)' CROSS=$(CROSS) \
		FW_PACK=$(FW_PACK) CCM_BASE=$(QEMU_CCM_BASE) OUT=$(OUT)/lz4 PACKER=lz4 \
		DEFS='$(call row_defs,$(filter tftp-log|%,$(SIZE_ROWS))) $(DEFS)' bin

qemu-%: $(FW_PACK)
	@$(MAKE) --no-print-directory -f $(SRCDIR)/firmware/firmware.mk SRCDIR=$(SRCDIR) \
		LWIP_DIR=$(LWIP_DIR) IAP_SRCS='$(IAP_SRCS)' GEN_SRCS='$(GEN_SRCS)' \
		LWIP_SRCS='$(LWIP_SRCS)' WARN_CFLAGS='$(WARN_CFLAGS)' CROSS=$(CROSS) \
		FW_PACK=$(FW_PACK) CCM_BASE=$(QEMU_CCM_BASE) OUT=$(OUT)/qemu/$* \
		DEFS='$(call row_defs,$(filter $*|%,$(SIZE_ROWS))) -DBOARD_KEY_FORCE=0 $(DEFS)' \
		bin $(OUT)/qemu/$*/hello-app.bin

# ---- the size report (AN3376 Table 4) ---------------------------------------------------
# name|USE_IAP_TFTP|USE_IAP_HTTP|IAP_LOG|USE_DHCP|AN3376's bytes for that row ("-": none)
SIZE_ROWS := \
	tftp|1|0|0|0|19796 tftp-log|1|0|1|0|22956 tftp-log-dhcp|1|0|1|1|28500 tftp-dhcp|1|0|0|1|- \
	http|0|1|0|0|31484 http-log|0|1|1|0|33884 http-log-dhcp|0|1|1|1|39820 http-dhcp|0|1|0|1|- \
	both|1|1|0|0|- both-dhcp|1|1|0|1|- both-log|1|1|1|0|- both-log-dhcp|1|1|1|1|41196 \
	integrity|1|1|1|0|-|IAP_VERIFY_INTEGRITY integrity-dhcp|1|1|1|1|-|IAP_VERIFY_INTEGRITY \
	dual|1|1|1|0|-|IAP_VERIFY_INTEGRITY|0x08010000|IAP_SLOTS_DUAL \
	swap|1|1|1|0|-|IAP_VERIFY_INTEGRITY|0x08020000|IAP_SLOTS_SWAP \
	signature|1|1|1|0|-|IAP_VERIFY_SIGNATURE \
	signature-dhcp|1|1|1|1|-|IAP_VERIFY_SIGNATURE
# Fields 7, 8 and 9, when present: the boot policy (IAP_BOOT_VERIFY), the user flash address,
# and the slot layout (IAP_SLOTS; the others are single). The rows without a policy are
# AN3376's configurations and are built as AN3376's bootloader checks, IAP_VERIFY_VECTORS,
# without the commit record's code (IAP_WITH_INTEGRITY 0): AN3376 has no hash, and its
# Table 4 is what they are compared with. The verified boot is measured on top of them in
# the rows that name a policy (the firmware's default build, `make firmware`, is integrity).
# Every row fits sectors 0-3 once packed (unpack_stub.c), the signature builds (BearSSL's
# ECDSA P-256 on top of SHA-256) too; swap needs sector 4 for its layout, not for its size.
# signature-dhcp is the all-features build with the signature check: the report shows it
# against the budget of 0x08010000 less 4 KiB.
HAVE_HTTP := $(if $(filter src/http_server.c,$(IAP_SRCS)),yes,no)
row_field = $(word $(2),$(subst |, ,$(1)))
row_defs = -DUSE_IAP_TFTP=$(call row_field,$(1),2) -DUSE_IAP_HTTP=$(call row_field,$(1),3) \
	-DIAP_LOG=$(call row_field,$(1),4) -DUSE_DHCP=$(call row_field,$(1),5) \
	-DIAP_BOOT_VERIFY=$(or $(call row_field,$(1),7),IAP_VERIFY_VECTORS) \
	$(if $(call row_field,$(1),8),-DUSER_FLASH_FIRST_PAGE_ADDRESS=$(call row_field,$(1),8)u) \
	$(if $(call row_field,$(1),9),-DIAP_SLOTS=$(call row_field,$(1),9))
BUILT_ROWS := $(if $(filter yes,$(HAVE_HTTP)),$(SIZE_ROWS),\
	$(foreach r,$(SIZE_ROWS),$(if $(filter 0,$(call row_field,$(r),3)),$(r))))

sizes: $(foreach r,$(BUILT_ROWS),size-$(call row_field,$(r),1))
	@sh $(SRCDIR)/firmware/size-report.sh $(SIZE) $(NM) $(OUT)/size $(HAVE_HTTP) \
		$(SRCDIR) $(LWIP_DIR) $(foreach r,$(SIZE_ROWS),'$(r)')

size-%: $(FW_PACK)
	@$(MAKE) --no-print-directory -f $(SRCDIR)/firmware/firmware.mk SRCDIR=$(SRCDIR) \
		LWIP_DIR=$(LWIP_DIR) IAP_SRCS='$(IAP_SRCS)' GEN_SRCS='$(GEN_SRCS)' \
		LWIP_SRCS='$(LWIP_SRCS)' WARN_CFLAGS='$(WARN_CFLAGS)' CROSS=$(CROSS) \
		MBEDTLS_DIR=$(MBEDTLS_DIR) BEARSSL_DIR=$(BEARSSL_DIR) FW_PACK=$(FW_PACK) \
		OUT=$(OUT)/size/$* DEFS='$(call row_defs,$(filter $*|%,$(SIZE_ROWS))) $(DEFS)' bin

# The same row's objects linked again with lwIP's memory where QEMU has RAM
# (OUT/size/NAME/iapd-boot-qemu.bin): what tests/firmware/qemu_boot.sh boots for that row.
qemu: $(foreach r,$(BUILT_ROWS),qemu-size-$(call row_field,$(r),1))
qemu-size-%: $(FW_PACK)
	@$(MAKE) --no-print-directory -f $(SRCDIR)/firmware/firmware.mk SRCDIR=$(SRCDIR) \
		LWIP_DIR=$(LWIP_DIR) IAP_SRCS='$(IAP_SRCS)' GEN_SRCS='$(GEN_SRCS)' \
		LWIP_SRCS='$(LWIP_SRCS)' WARN_CFLAGS='$(WARN_CFLAGS)' CROSS=$(CROSS) \
		MBEDTLS_DIR=$(MBEDTLS_DIR) BEARSSL_DIR=$(BEARSSL_DIR) FW_PACK=$(FW_PACK) \
		NAME=iapd-boot-qemu CCM_BASE=$(QEMU_CCM_BASE) \
		OUT=$(OUT)/size/$* DEFS='$(call row_defs,$(filter $*|%,$(SIZE_ROWS))) $(DEFS)' bin

.PHONY: bin
bin: $(OUT)/$(NAME).bin
	@:

-include $(OBJS:.o=.d)
